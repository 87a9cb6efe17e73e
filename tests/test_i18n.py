"""The staff pages in the person's language and timezone: Flask-Babel with gettext catalogues.

A signed-in user's saved language and timezone win; before that the sign-in page's
switch, then the browser's Accept-Language, then the bot's language. Real app, real
SQLite file, the Flask test client.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from botbuilder.server.localtime import ago
from tests.test_console import ANN, BOB, _token, console_app, member_hands_off, post, sign_in  # noqa: F401


def test_the_languages_offered_are_the_catalogues_present(console_app: Any) -> None:  # noqa: F811
    from botbuilder.server.i18n import available_languages, language_names

    with console_app.test_request_context("/"):
        assert available_languages() == ("en", "nl")
        assert language_names() == [("en", "English"), ("nl", "Nederlands")]


@pytest.mark.parametrize(
    ("header", "language", "text"),
    [("nl-NL,nl;q=0.9,en;q=0.5", "nl", "Inloggen"), ("en-GB,en;q=0.8", "en", "Sign in")],
)
def test_the_login_page_speaks_the_browsers_language(
    console_app: Any,  # noqa: F811
    header: str,
    language: str,
    text: str,
) -> None:
    page = console_app.test_client().get("/login", headers={"Accept-Language": header})
    assert f'<html lang="{language}">' in page.text
    assert f"<h1>{text}</h1>" in page.text
    assert "Accept-Language" in page.headers.get("Vary", "")


def test_a_browser_language_without_a_catalogue_gets_the_bots_language(console_app: Any) -> None:  # noqa: F811
    page = console_app.test_client().get("/login", headers={"Accept-Language": "de-DE,de"})
    assert '<html lang="nl">' in page.text  # the small bot's language is nl


def test_the_login_pages_switch_keeps_the_choice_for_this_browser(console_app: Any) -> None:  # noqa: F811
    client = console_app.test_client()
    english = {"Accept-Language": "en"}
    token = _token(client.get("/login", headers=english).text)
    switched = client.post(
        "/language", data={"language": "nl", "csrf_token": token, "next": "/login?next=/console"}
    )
    assert switched.status_code == 302 and switched.headers["Location"] == "/login?next=/console"
    assert '<html lang="nl">' in client.get("/login", headers=english).text
    refused = client.post("/language", data={"language": "xx", "csrf_token": token})
    assert refused.status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 403  # no CSRF token


def test_ago_speaks_english_outside_a_request() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert ago(now - timedelta(days=1), now) == "1 day ago"


def test_ago_speaks_dutch_on_a_dutch_page(console_app: Any) -> None:  # noqa: F811
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with console_app.test_request_context("/", headers={"Accept-Language": "nl"}):
        assert ago(now - timedelta(seconds=5), now) == "zojuist"
        assert ago(now - timedelta(minutes=3), now) == "3 min geleden"
        assert ago(now - timedelta(hours=2), now) == "2 uur geleden"
        assert ago(now - timedelta(days=1), now) == "1 dag geleden"
        assert ago(now - timedelta(days=4), now) == "4 dagen geleden"
