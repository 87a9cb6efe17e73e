"""Staff sessions end when they should: a copy of the cookie taken before logout, or
before a new password, no longer signs anyone in, and no session lasts past 12 hours.

The session is a signed cookie, so the server cannot delete it; the user's session
version, checked on every request, is what ends it. Real app, real SQLite file.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from botbuilder.cli import main

from .test_console import _token

PASSWORD = "correct horse battery"
EMAIL = "manager@example.org"
COOKIE = "botbuilder_session"


def _login(client: Any) -> Any:
    token = _token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    return response


def _replay(app: Any, cookie: str) -> Any:
    """A fresh client (another browser, an attacker) sending a copied cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.sqlite'}"


@pytest.fixture
def staff_app(app_factory, bot_dir: Path, database: str):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, database)
    app.extensions["botbuilder"].accounts.add(EMAIL, PASSWORD, "manager")
    yield app
    app.extensions["botbuilder"].storage.close()


def test_a_cookie_copied_before_logout_is_refused_after_it(staff_app: Any) -> None:
    client = staff_app.test_client()
    _login(client)
    copied = client.get_cookie(COOKIE).value
    assert _replay(staff_app, copied).get("/editor/").status_code == 200  # the copy works…
    page = client.get("/editor/")
    client.post("/logout", data={"csrf_token": _token(page.text)})

    thief = _replay(staff_app, copied)  # …until the owner logs out
    page = thief.get("/editor/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    api = thief.post("/editor/preview", json={"text": "x"})
    assert api.status_code == 401 and "sign in" in api.json["error"]


def test_logging_in_again_after_logout_works(staff_app: Any) -> None:
    client = staff_app.test_client()
    _login(client)
    client.post("/logout", data={"csrf_token": _token(client.get("/editor/").text)})
    _login(client)
    assert client.get("/editor/").status_code == 200


def test_a_cookie_copied_before_set_password_is_refused_after_it(
    staff_app: Any, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = staff_app.test_client()
    _login(client)
    copied = client.get_cookie(COOKIE).value
    monkeypatch.setenv("BOTBUILDER_DATABASE_URL", database)
    result = CliRunner().invoke(
        main,
        ["user", "set-password", EMAIL, "--password-stdin", "--instance", str(tmp_path / "x")],
        input="a new and long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    page = _replay(staff_app, copied).get("/editor/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/editor/").status_code == 302  # the owner's own copy too


def test_the_session_cookie_is_named_for_botbuilder_and_lasts_12_hours(staff_app: Any) -> None:
    assert staff_app.permanent_session_lifetime == timedelta(hours=12)
    assert staff_app.config["SESSION_COOKIE_NAME"] == COOKIE
    response = _login(staff_app.test_client())
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=12))) < timedelta(minutes=1)


def test_a_session_signed_more_than_12_hours_ago_is_refused(staff_app: Any) -> None:
    client = staff_app.test_client()
    _login(client)
    serializer = staff_app.session_interface.get_signing_serializer(staff_app)
    content = serializer.loads(client.get_cookie(COOKIE).value)

    class SignedYesterday(serializer.signer):  # type: ignore[misc,name-defined]
        def get_timestamp(self) -> int:
            return int(time.time()) - 13 * 3600

    fresh = serializer.dumps(content)
    serializer.signer = SignedYesterday
    stale = serializer.dumps(content)
    assert _replay(staff_app, fresh).get("/editor/").status_code == 200
    page = _replay(staff_app, stale).get("/editor/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_an_explicit_session_lifetime_setting_wins(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    assert app.permanent_session_lifetime == timedelta(hours=1)
    app.extensions["botbuilder"].storage.close()
