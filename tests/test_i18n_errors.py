"""What the core refuses reaches staff in their page's language: a refusal raised
outside the server (the queue, the people service, password rules, the editor's
conflicts) is written as a marked template with its values apart, and the page
translates it. Scripts and logs keep the English text. Flask test client, real
SQLite file (and PostgreSQL when configured)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

from botbuilder.errors import N_, Conflict, Phrase
from tests.test_browse import say, start
from tests.test_console import (  # noqa: F401 (fixtures)
    BOB,
    ann,
    console_app,
    member_hands_off,
    post,
    sign_in,
)
from tests.test_editor import PASSWORD, editor_app, login  # noqa: F401 (a fixture)
from tests.test_i18n_advice import dutch_client


def _dutch_bob_and_a_handoff(app: Any) -> tuple[Any, str]:
    """Bob signed in with his pages in Dutch, and a member's conversation handed off."""
    accounts = app.extensions["botbuilder"].accounts
    accounts.set_preferences(
        next(u.id for u in accounts.users() if u.email == BOB), "nl", None, ("en", "nl")
    )
    return sign_in(app, BOB), member_hands_off(app)


def asked_and_a_dutch_manager(app: Any) -> tuple[str, int, Any]:
    """A member's conversation with one question (its id), and a manager with Dutch pages."""
    member = app.test_client()
    conversation = start(member)
    question = say(member, conversation, "Wat kost lid zijn bij jullie?")["member_message"]["id"]
    return conversation, question, dutch_client(app, "manager@example.org")


def break_by_hand(bot_dir: Path, buttons: str) -> None:
    """Give faq.yml's intent 'contributie' these `buttons` lines, as a hand edit would."""
    faq = bot_dir / "faq.yml"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace(
            "    answer: De contributie is 25 euro per jaar.\n",
            "    answer: De contributie is 25 euro per jaar.\n    buttons:\n" + buttons,
        ),
        encoding="utf-8",
    )


def teach(client: Any, conversation: str, message: int) -> Iterator[tuple[str, Any]]:
    """Each of the two teach forms of a message posted: (the form, its response)."""
    for action, data in (("intent", {"intent": "contributie"}), ("inbox", {})):
        response = client.post(
            f"/conversations/{conversation}/messages/{message}/{action}",
            data={"csrf_token": client.csrf, **data},
        )
        yield action, response


def test_an_agent_in_dutch_is_told_in_dutch_that_a_colleague_claimed_it_first(
    console_app: Any,  # noqa: F811
    ann: Any,  # noqa: F811
) -> None:
    bob, conversation = _dutch_bob_and_a_handoff(console_app)
    assert post(ann, f"/console/conversations/{conversation}/claim").status_code == 302

    lost = post(bob, f"/console/conversations/{conversation}/claim")
    assert lost.status_code == 409
    assert "kan dit gesprek niet oppakken: een medewerker heeft het al opgepakt" in lost.text
    assert "already claimed" not in lost.text
    # A script's request (no language asked for) keeps the English text.
    english = ann.post(
        f"/console/conversations/{conversation}/claim",
        json={},
        headers={"X-CSRF-Token": ann.csrf},
    )
    assert english.status_code == 409
    assert english.json["error"] == (
        "cannot claim this conversation: an agent has already claimed it"
    )


def test_a_dutch_admin_reads_why_an_invitation_or_a_demotion_was_refused_in_dutch(
    editor_app: Any,  # noqa: F811
) -> None:
    accounts = editor_app.extensions["botbuilder"].accounts
    admin = accounts.set_password("admin@example.org", PASSWORD)
    accounts.set_preferences(admin.id, "nl", None, ("en", "nl"))
    client = editor_app.test_client()
    client.csrf = login(client, "admin@example.org")

    def post_form(path: str, **data: str) -> Any:
        return client.post(path, data={"csrf_token": client.csrf, **data})

    bad = post_form("/admin/users", email="geen-adres", role="agent")
    assert bad.status_code == 400 and "&#39;geen-adres&#39; is geen e-mailadres" in bad.text
    weak = post_form("/admin/users", email="x@example.org", role="agent", password="aaaaaaaaaaaa")
    assert weak.status_code == 400
    assert "dat wachtwoord is te makkelijk te raden: het is één teken herhaald" in weak.text
    last = post_form(f"/admin/users/{admin.id}/role", role="agent")
    assert last.status_code == 409
    assert "dit is de laatste actieve beheerder" in last.text
    assert "last active admin" not in last.text


def test_an_error_keeps_english_for_logs_and_its_parts_apart_for_pages() -> None:
    refused = Conflict(
        N_("cannot %(action)s this conversation: %(why)s"),
        action=Phrase("claim"),
        why=Phrase("it is closed"),
    )
    assert refused.message == "cannot claim this conversation: it is closed"
    assert str(refused) == refused.message
    assert refused.template == "cannot %(action)s this conversation: %(why)s"
    assert set(refused.params) == {"action", "why"}


def test_a_dutch_manager_is_told_in_dutch_why_the_inbox_browser_or_dashboard_refused(
    editor_app: Any,  # noqa: F811
) -> None:
    client = dutch_client(editor_app, "manager@example.org")
    csrf = client.csrf

    def refused(response: Any, status: int, dutch: str, english: str) -> None:
        text = unescape(response.text)
        assert response.status_code == status, text
        assert dutch in text and english not in text

    refused(
        client.get("/editor/inbox?state=done"),
        400,
        "'state' moet een van deze zijn: new, accepted, ignored; niet 'done'",
        "must be one of",
    )
    unknown = client.post("/editor/inbox/ffff0000/accept", data={"csrf_token": csrf})
    refused(unknown, 404, "geen suggestie 'ffff0000'", "no suggestion")
    assert "<title>Niet gevonden" in unknown.text
    refused(
        client.get("/editor/stats?since=2026-13-01"),
        400,
        "'Van' moet een datum zijn als JJJJ-MM-DD, bijv. 2026-03-01; je vulde '2026-13-01' in",
        "must be a date",
    )
    refused(
        client.get("/editor/feedback?since=2026-03-01&until=2026-02-01"),
        400,
        "de periode eindigt (2026-02-01) voordat hij begint (2026-03-01)",
        "before it starts",
    )
    refused(
        client.get("/conversations?decision=maybe"),
        400,
        "'decision' moet een van deze zijn: answer, clarify, handoff",
        "must be one of",
    )
    refused(
        client.get("/conversations/ffffffff"),
        404,
        "geen gesprek 'ffffffff'; misschien is het verwijderd",
        "no conversation",
    )
    # A script (no language asked for, not signed in as a Dutch user) reads English.
    script = editor_app.test_client()
    login(script, "other@example.org")
    english = script.get("/conversations?decision=maybe", headers={"Accept": "application/json"})
    assert english.status_code == 400
    assert english.json["error"] == (
        "'decision' must be one of answer, clarify, handoff; not 'maybe'"
    )


def test_a_dutch_manager_reads_once_and_in_dutch_why_a_question_was_not_added_to_an_intent(
    editor_app: Any,  # noqa: F811
    bot_dir: Any,
) -> None:
    conversation, question, client = asked_and_a_dutch_manager(editor_app)
    # Someone broke the intent by hand: its button goes nowhere, so the editor won't save it.
    break_by_hand(bot_dir, "      - {label: Meer, goto: nergens}\n")
    csrf = client.csrf
    added = client.post(
        f"/conversations/{conversation}/messages/{question}/intent",
        data={"intent": "contributie", "csrf_token": csrf},
        follow_redirects=True,
    )
    text = unescape(added.text)
    flashed = re.findall(r'<p class="banner danger" role="status">([^<]*)</p>', text)
    assert len(flashed) == 1 and flashed[0].startswith("Niet toegevoegd aan 'contributie': ")
    assert flashed[0].count("knop 'goto: nergens' noemt geen bestaande intent") == 1
    # The banner about the broken files on disk says it in Dutch as well.
    assert "faq.yml:34:29: knop 'goto: nergens' noemt geen bestaande intent" in text
    assert "names no intent" not in text


def test_a_dutch_manager_is_told_in_dutch_that_a_stale_teach_form_names_a_message_no_longer_there(
    editor_app: Any,  # noqa: F811
) -> None:
    conversation, question, client = asked_and_a_dutch_manager(editor_app)
    for _, gone in teach(client, conversation, question + 1000):
        text = unescape(gone.text)
        assert gone.status_code == 404, text
        assert f"geen bericht {question + 1000} in dit gesprek" in text
        assert "<title>Niet gevonden" in text and "no message" not in text


def test_a_dutch_manager_who_asks_for_a_dashboard_table_that_does_not_exist_gets_a_dutch_page(
    editor_app: Any,  # noqa: F811
) -> None:
    client = dutch_client(editor_app, "manager@example.org")
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    unknown = client.get("/editor/stats/passwords.csv", headers=browser)
    text = unescape(unknown.text)
    assert unknown.status_code == 404 and unknown.mimetype == "text/html", text
    assert "geen tabel 'passwords'; de tabellen van het dashboard zijn summary, " in text
    assert "<title>Niet gevonden" in text and "no table" not in text
    # A script's download keeps the JSON 404, in English.
    script = dutch_client(editor_app, "other@example.org").get("/editor/stats/passwords.csv")
    assert script.status_code == 404
    assert script.json["error"].startswith("no table 'passwords'; the dashboard's are summary, ")


def test_a_dutch_agent_is_told_in_dutch_which_character_of_a_reply_cannot_be_stored(
    console_app: Any,  # noqa: F811
    ann: Any,  # noqa: F811
) -> None:
    bob, conversation = _dutch_bob_and_a_handoff(console_app)
    assert post(bob, f"/console/conversations/{conversation}/claim").status_code == 302
    refused = post(bob, f"/console/conversations/{conversation}/reply", text="Hoi\x07")
    text = unescape(refused.text)
    assert refused.status_code == 400, text
    assert (
        "een antwoord bevat een teken dat niet bewaard kan worden: een stuurteken (U+0007) "
        "op positie 4; stuur gewone tekst" in text
    )
    assert "control character" not in text
    # The member's API keeps the English text.
    member = console_app.test_client().post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "Hoi\x07"}
    )
    assert member.status_code == 400
    assert member.json["error"] == (
        "a message contains a character that cannot be stored: a control character (U+0007) "
        "at position 4; send plain text"
    )
