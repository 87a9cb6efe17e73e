"""Times on staff pages are in the bot's timezone (Europe/Amsterdam by default), never UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.server.localtime import ago
from tests.test_console import ann, console_app, member_hands_off  # noqa: F401
from tests.test_editor import editor_app, intent_form, manager, submit  # noqa: F401


def test_the_history_shows_amsterdam_time(editor_app: Any, manager: Any) -> None:  # noqa: F811
    form = intent_form(manager, "faq.yml", "contributie")
    form["answer"] = "De contributie is 30 euro per jaar."
    assert submit(manager, form).status_code == 302
    version = editor_app.extensions["botbuilder"].editor.history.latest("faq.yml")
    amsterdam = version.created_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert amsterdam.utcoffset() != timedelta(0)  # the check means something
    history = manager.get("/editor/history").text
    assert amsterdam.strftime("%Y-%m-%d %H:%M:%S") in history
    assert "When (Europe/Amsterdam)" in history and "UTC" not in history
    page = manager.get(f"/editor/history/{version.id}").text
    assert amsterdam.strftime("%Y-%m-%d %H:%M:%S") in page and " UTC" not in page


def test_waiting_times_read_as_how_long_ago() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=3, seconds=10), now) == "3 min ago"
    assert ago(now - timedelta(hours=2, minutes=59), now) == "2 h ago"
    assert ago(now - timedelta(days=1, hours=1), now) == "1 day ago"
    assert ago(now - timedelta(days=4), now) == "4 days ago"
    assert ago(None, now) == "—"


def test_an_agent_sees_the_conversation_in_amsterdam_time(console_app: Any, ann: Any) -> None:  # noqa: F811
    conversation = member_hands_off(console_app, "Ik wil een medewerker spreken")
    page = ann.get(f"/console/conversations/{conversation}").text
    messages = console_app.extensions["botbuilder"].storage.messages(conversation, None)
    first = messages[0].created_at
    shown = first.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%H:%M")
    assert f'<time datetime="{first.isoformat()}">{shown}</time>' in page
    assert "UTC" not in page
    assert 'data-timezone="Europe/Amsterdam"' in page
