"""The staff pages in the person's language and timezone: Flask-Babel with gettext catalogues.

A signed-in user's saved language and timezone win; before that the sign-in page's
switch, then the browser's Accept-Language, then the bot's language. Real app, real
SQLite file, the Flask test client.
"""

# ruff: noqa: F811  (the console's fixtures are imported, then named as parameters)
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from botbuilder.server.localtime import ago
from tests.test_console import (  # noqa: F401
    ANN,
    BOB,
    _token,
    ann,
    bob,
    console_app,
    member_hands_off,
    post,
    sign_in,
)


def test_the_languages_offered_are_the_catalogues_present(console_app: Any) -> None:
    from botbuilder.server.i18n import available_languages, language_names

    with console_app.test_request_context("/"):
        assert available_languages() == ("en", "nl")
        assert language_names() == [("en", "English"), ("nl", "Nederlands")]


@pytest.mark.parametrize(
    ("header", "language", "text"),
    [("nl-NL,nl;q=0.9,en;q=0.5", "nl", "Inloggen"), ("en-GB,en;q=0.8", "en", "Sign in")],
)
def test_the_login_page_speaks_the_browsers_language(
    console_app: Any,
    header: str,
    language: str,
    text: str,
) -> None:
    page = console_app.test_client().get("/login", headers={"Accept-Language": header})
    assert f'<html lang="{language}">' in page.text
    assert f"<h1>{text}</h1>" in page.text
    assert "Accept-Language" in page.headers.get("Vary", "")


def test_a_browser_language_without_a_catalogue_gets_the_bots_language(console_app: Any) -> None:
    page = console_app.test_client().get("/login", headers={"Accept-Language": "de-DE,de"})
    assert '<html lang="nl">' in page.text  # the small bot's language is nl


def test_the_login_pages_switch_keeps_the_choice_for_this_browser(console_app: Any) -> None:
    client = console_app.test_client()
    english = {"Accept-Language": "en"}
    page = client.get("/login?next=/console", headers=english).text
    assert 'href="/language/nl?next=/login?next%3D/console" lang="nl" hreflang="nl"' in page
    switched = client.get("/language/nl?next=/login?next%3D/console", headers=english)
    assert switched.status_code == 302 and switched.headers["Location"] == "/login?next=/console"
    page = client.get("/login", headers=english).text
    assert '<html lang="nl">' in page and 'lang="nl" hreflang="nl" aria-current="true"' in page
    assert client.get("/language/xx").status_code == 400
    # Only a path on this site: the switch cannot send anyone elsewhere.
    away = client.get("/language/en?next=https://evil.example/")
    assert away.status_code == 302 and "evil.example" not in away.headers["Location"]


def test_ago_speaks_english_outside_a_request() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert ago(now - timedelta(days=1), now) == "1 day ago"


def test_ago_speaks_dutch_on_a_dutch_page(console_app: Any) -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with console_app.test_request_context("/", headers={"Accept-Language": "nl"}):
        assert ago(now - timedelta(seconds=5), now) == "zojuist"
        assert ago(now - timedelta(minutes=3), now) == "3 min geleden"
        assert ago(now - timedelta(hours=2), now) == "2 uur geleden"
        assert ago(now - timedelta(days=1), now) == "1 dag geleden"
        assert ago(now - timedelta(days=4), now) == "4 dagen geleden"


# -- a person's saved language and timezone ------------------------------------------------

WINTER = datetime(2026, 1, 15, 11, 24, tzinfo=UTC)  # 12:24 in Amsterdam (CET, +1)
SUMMER = datetime(2026, 7, 15, 11, 24, tzinfo=UTC)  # 13:24 in Amsterdam (CEST, +2)


def _user_id(app: Any, email: str) -> int:
    return next(u.id for u in app.extensions["botbuilder"].accounts.users() if u.email == email)


def _prefer(app: Any, email: str, language: str | None, timezone: str | None) -> None:
    accounts = app.extensions["botbuilder"].accounts
    accounts.set_preferences(_user_id(app, email), language, timezone, ("en", "nl"))


def _conversation_at_fixed_times(app: Any) -> str:
    """A handed-off conversation whose first two messages were sent in winter and summer."""
    from sqlalchemy import update

    from botbuilder.conversations.store import Message

    conversation = member_hands_off(app, "Ik wil een medewerker spreken")
    storage = app.extensions["botbuilder"].storage
    first, second = storage.messages(conversation, None)[:2]
    with storage.session() as s, s.begin():
        s.execute(update(Message).where(Message.id == first.id).values(created_at=WINTER))
        s.execute(update(Message).where(Message.id == second.id).values(created_at=SUMMER))
    return conversation


def test_a_dutch_agent_sees_the_console_in_dutch_with_amsterdam_times(
    console_app: Any,
    ann: Any,
) -> None:
    _prefer(console_app, ANN, "nl", "Europe/Amsterdam")
    conversation = _conversation_at_fixed_times(console_app)
    # The saved language wins over the browser's.
    page = ann.get(f"/console/conversations/{conversation}", headers={"Accept-Language": "en"})
    html = page.text
    assert '<html lang="nl">' in html
    assert ">Oppakken</button>" in html and "Gespreksverloop" in html and "Interne notities" in html
    assert f'<time datetime="{WINTER.isoformat()}">12:24</time>' in html
    assert f'<time datetime="{SUMMER.isoformat()}">13:24</time>' in html
    assert 'data-timezone="Europe/Amsterdam"' in html
    assert '<span class="who">lid</span>' in html  # the member's messages are marked in Dutch
    assert "doorgegeven om" in html and "(zojuist)" in html  # the handoff, how long ago in Dutch
    queue = ann.get("/console", headers={"Accept-Language": "en"}).text
    assert "<h1>Wachtrij</h1>" in queue and 'wacht <span class="since">' in queue


def test_times_follow_the_viewers_own_timezone(console_app: Any, ann: Any, bob: Any) -> None:
    _prefer(console_app, BOB, "en", "America/New_York")
    conversation = _conversation_at_fixed_times(console_app)
    mine = bob.get(f"/console/conversations/{conversation}").text
    assert f'<time datetime="{WINTER.isoformat()}">06:24</time>' in mine  # EST, -5
    assert f'<time datetime="{SUMMER.isoformat()}">07:24</time>' in mine  # EDT, -4
    assert 'data-timezone="America/New_York"' in mine and '<html lang="en">' in mine
    # Ann saved nothing: the bot's timezone (Amsterdam) and her browser's language.
    hers = ann.get(f"/console/conversations/{conversation}", headers={"Accept-Language": "nl"})
    assert f'<time datetime="{WINTER.isoformat()}">12:24</time>' in hers.text
    assert '<html lang="nl">' in hers.text


def test_the_consoles_script_gets_its_words_as_json_in_the_pages_language(
    console_app: Any,
    ann: Any,
) -> None:

    page = ann.get("/console", headers={"Accept-Language": "nl"}).text
    block = re.search(
        r'<script type="application/json" id="console-text">(.*?)</script>', page, re.S
    )
    assert block, "no #console-text block"
    words = json.loads(block.group(1))
    assert words["insert"] == "Invoegen" and words["roles"]["member"] == "lid"
    assert words["new_many"] == "Er wachten {count} nieuwe gesprekken."
    assert "<script>" not in page  # no inline script: the CSP forbids it


# -- the preferences page ------------------------------------------------------------------


def test_every_signed_in_user_can_save_a_language_and_timezone(console_app: Any, ann: Any) -> None:
    page = ann.get("/account/preferences", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'id="preferences-form"' in page.text
    assert '<option value="nl" lang="nl" >Nederlands</option>' in page.text.replace("  ", " ")
    assert 'href="/account/preferences"' in ann.get("/console").text  # in the console's header
    saved = post(ann, "/account/preferences", language="nl", timezone="Europe/Amsterdam")
    assert saved.status_code == 302
    user = console_app.extensions["botbuilder"].accounts.user(_user_id(console_app, ANN))
    assert (user.language, user.timezone) == ("nl", "Europe/Amsterdam")
    again = ann.get(saved.headers["Location"], headers={"Accept-Language": "en"}).text
    assert (
        'id="preferences-saved"' in again and "Opgeslagen." in again and '<html lang="nl">' in again
    )
    # Back to the defaults: the browser's language and the bot's timezone.
    assert post(ann, "/account/preferences", language="", timezone="").status_code == 302
    user = console_app.extensions["botbuilder"].accounts.user(_user_id(console_app, ANN))
    assert (user.language, user.timezone) == (None, None)


@pytest.mark.parametrize(
    ("language", "timezone", "error"),
    [
        ("xx", "", "Choose one of the languages in the list."),
        ("", "Mars/Olympus_Mons", "“Mars/Olympus_Mons” is not a timezone"),
        ("", "<script>", "“&lt;script&gt;” is not a timezone"),
    ],
)
def test_a_language_or_timezone_we_do_not_know_is_refused_with_the_form(
    console_app: Any,
    ann: Any,
    language: str,
    timezone: str,
    error: str,
) -> None:
    refused = post(ann, "/account/preferences", language=language, timezone=timezone)
    assert refused.status_code == 400
    assert 'id="preferences-error"' in refused.text and error in refused.text
    user = console_app.extensions["botbuilder"].accounts.user(_user_id(console_app, ANN))
    assert (user.language, user.timezone) == (None, None)  # nothing saved


def test_preferences_need_a_login_and_the_csrf_token(console_app: Any, ann: Any) -> None:
    anonymous = console_app.test_client().get("/account/preferences")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    forged = ann.post("/account/preferences", data={"language": "nl", "timezone": ""})
    assert forged.status_code == 403


def test_a_managers_preferences_page_has_the_editors_look(console_app: Any) -> None:
    from tests.test_console import PASSWORD

    console_app.extensions["botbuilder"].accounts.add("mia@example.org", PASSWORD, "manager")
    client = console_app.test_client()
    token = _token(client.get("/login").text)
    client.post(
        "/login", data={"email": "mia@example.org", "password": PASSWORD, "csrf_token": token}
    )
    page = client.get("/account/preferences").text
    assert "editor/editor.css" in page and 'id="preferences-form"' in page


def test_the_core_refuses_a_language_without_a_catalogue_and_an_unknown_timezone(
    console_app: Any,
) -> None:
    from botbuilder.errors import BadRequest

    accounts = console_app.extensions["botbuilder"].accounts
    user_id = _user_id(console_app, ANN)
    with pytest.raises(BadRequest, match="not a language"):
        accounts.set_preferences(user_id, "de", None, ("en", "nl"))
    with pytest.raises(BadRequest, match="not a timezone"):
        accounts.set_preferences(user_id, None, "Europe/Atlantis", ("en", "nl"))
    assert accounts.set_preferences(user_id, "nl", "UTC", ("en", "nl")).timezone == "UTC"


def test_a_failed_sign_in_is_refused_in_the_pages_language(console_app: Any) -> None:
    client = console_app.test_client()
    dutch = {"Accept-Language": "nl"}
    token = _token(client.get("/login", headers=dutch).text)
    page = client.post(
        "/login", data={"email": ANN, "password": "wrong one!", "csrf_token": token}, headers=dutch
    )
    assert page.status_code == 401
    assert "Dit e-mailadres en wachtwoord horen niet bij een account." in page.text


def test_the_language_picked_before_signing_in_stays_after(console_app: Any) -> None:
    from tests.test_console import PASSWORD

    client = console_app.test_client()
    client.get("/language/nl")
    token = _token(client.get("/login").text)
    signed_in = client.post(
        "/login", data={"email": ANN, "password": PASSWORD, "csrf_token": token, "next": "/console"}
    )
    assert signed_in.status_code == 302
    assert "<h1>Wachtrij</h1>" in client.get("/console").text


def test_migration_0013_adds_the_preference_columns_and_takes_them_away_again(
    database_url: str, tmp_path: Path
) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from botbuilder.db.engine import database_url as normal_url
    from botbuilder.db.migrations import alembic_config, upgrade

    engine = create_engine(normal_url(database_url, tmp_path))

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("users")}

    try:
        upgrade(engine, "0012")
        assert not {"language", "timezone"} & columns()
        upgrade(engine, "0013")
        assert {"language", "timezone"} <= columns()
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
        assert not {"language", "timezone"} & columns()
    finally:
        engine.dispose()
