"""The conversations browser through Flask's test client, on real SQLite (and PostgreSQL):
filters, search with LIKE's wildcards escaped, stable keyset pages, roles, 400s, and
teaching the bot from a transcript (the flow file on disk, then the reloaded bot)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from botbuilder.conversations.store import Conversation, Storage
from tests.test_console import _token
from tests.test_editor import PASSWORD

ROWS = re.compile(r'href="/conversations/([0-9a-f]{32})"')


@pytest.fixture
def browser_app(app_factory, bot_dir: Path, database_url: str):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, database_url)
    accounts = app.extensions["botbuilder"].accounts
    for role in ("admin", "manager", "agent"):
        accounts.add(f"{role}@example.org", PASSWORD, role)
    yield app
    app.extensions["botbuilder"].storage.close()


def signed_in(app: Any, role: str) -> Any:
    client = app.test_client()
    token = _token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": f"{role}@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    client.csrf = _token(client.get("/conversations").text)
    return client


def storage(app: Any) -> Storage:
    return app.extensions["botbuilder"].storage  # type: ignore[no-any-return]


def start(client: Any) -> str:
    response = client.post("/api/v1/conversations", json={})
    assert response.status_code == 201
    return response.json["conversation_id"]  # type: ignore[no-any-return]


def say(client: Any, conversation_id: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def started_at(app: Any, conversation_id: str, when: datetime) -> None:
    with storage(app).session() as s, s.begin():
        s.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(created_at=when)
        )


def listed(client: Any, query: str = "") -> list[str]:
    response = client.get(f"/conversations{query}")
    assert response.status_code == 200, response.text
    return ROWS.findall(response.text)


# -- access -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(browser_app) -> None:  # type: ignore[no-untyped-def]
    client = browser_app.test_client()
    for path in ("/conversations", "/conversations/0123abcd"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_agents_managers_and_admins_read_conversations_in_their_own_layout(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    say(member, conversation, "Hoeveel kost het lidmaatschap?")
    for role, layout in (("agent", "Agent console"), ("manager", "Intents"), ("admin", "Intents")):
        client = signed_in(browser_app, role)
        page = client.get("/conversations").text
        assert layout in page and conversation in page
        transcript = client.get(f"/conversations/{conversation}")
        assert transcript.status_code == 200
        assert "Hoeveel kost het lidmaatschap?" in transcript.text
        teaching = "This question belongs to" in transcript.text
        assert teaching == (role != "agent")


def test_an_agent_cannot_teach_the_bot_from_a_transcript(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    question = say(member, conversation, "Hoeveel kost het lidmaatschap?")["member_message"]
    agent = signed_in(browser_app, "agent")
    response = agent.post(
        f"/conversations/{conversation}/messages/{question['id']}/intent",
        data={"intent": "contributie", "csrf_token": agent.csrf},
    )
    assert response.status_code == 403


# -- the list -----------------------------------------------------------------------------


def test_filters_narrow_the_list(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    price, password, english, person = (start(member) for _ in range(4))
    answer = say(member, price, "Hoeveel kost het lidmaatschap?")["messages"][0]
    member.post(
        f"/api/v1/conversations/{price}/feedback",
        json={"message_id": answer["id"], "helpful": False},
    )
    say(member, password, "Ik ben mijn wachtwoord vergeten")
    say(member, english, "How do I cancel my membership?")
    say(member, person, "Ik wil een medewerker spreken")
    started_at(browser_app, english, datetime(2026, 1, 10, 12, tzinfo=UTC))
    manager = signed_in(browser_app, "manager")

    assert set(listed(manager)) == {price, password, english, person}
    assert listed(manager, "?intent=wachtwoord") == [password]
    assert listed(manager, "?language=en") == [english]
    assert listed(manager, "?feedback=not_helpful") == [price]
    assert price not in listed(manager, "?feedback=none")
    assert listed(manager, "?decision=handoff&state=waiting") == [person]
    assert set(listed(manager, "?team=leden")) <= {person}
    assert listed(manager, "?since=2026-01-10&until=2026-01-10") == [english]
    assert english not in listed(manager, "?since=2026-01-11")
    assert listed(manager, "?q=WACHTWOORD") == [password]


def test_dates_are_days_in_the_bots_timezone(browser_app) -> None:  # type: ignore[no-untyped-def]
    conversation = storage(browser_app).create_conversation("nl")
    # 23:30 UTC on 9 January is 00:30 on 10 January in Amsterdam.
    started_at(browser_app, conversation.id, datetime(2026, 1, 9, 23, 30, tzinfo=UTC))
    manager = signed_in(browser_app, "manager")
    assert listed(manager, "?since=2026-01-10&until=2026-01-10") == [conversation.id]
    assert listed(manager, "?until=2026-01-09") == []
    assert "2026-01-10 00:30" in manager.get("/conversations").text


@pytest.mark.parametrize(
    ("search", "finds"),
    [("100%", {"percent"}), ("a_b", {"underscore"}), ("\\", {"backslash"}), ("%", {"percent"})],
)
def test_search_treats_percent_underscore_and_backslash_as_text(
    browser_app, search: str, finds: set[str]
) -> None:  # type: ignore[no-untyped-def]
    texts = {
        "percent": "is het 100% zeker",
        "underscore": "mijn a_b code",
        "backslash": "pad c:\\x",
    }
    texts["plain"] = "axb 1000 zeker"  # what an unescaped _ or % would also find
    ids = {}
    for name, text in texts.items():
        conversation = storage(browser_app).create_conversation("nl")
        storage(browser_app).add_message(conversation.id, "member", text)
        ids[conversation.id] = name
    manager = signed_in(browser_app, "manager")
    from urllib.parse import quote

    found = {ids[i] for i in listed(manager, f"?q={quote(search)}")}
    assert found == finds


def test_pages_are_stable_while_new_conversations_arrive(browser_app) -> None:  # type: ignore[no-untyped-def]
    store = storage(browser_app)
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    made = []
    for i in range(120):
        conversation = store.create_conversation("nl")
        # Pairs share a time, so the id must break ties.
        started_at(browser_app, conversation.id, base + timedelta(minutes=i // 2))
        made.append(conversation.id)
    manager = signed_in(browser_app, "manager")
    first = manager.get("/conversations").text
    page = ROWS.findall(first)
    assert len(page) == 50
    newer = store.create_conversation("nl")  # arrives while the manager reads page one
    seen = list(page)
    older = re.search(r'href="([^"]+)" id="older"', html.unescape(first))
    while older:
        text = html.unescape(manager.get(older.group(1)).text)
        page = ROWS.findall(text)
        seen += page
        older = re.search(r'href="([^"]+)" id="older"', text)
    assert newer.id not in seen
    assert len(seen) == len(set(seen)) == 120
    expected = sorted(made, key=lambda i: (made.index(i) // 2, i), reverse=True)
    assert seen == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?since=2026-13-01", "'since' must be a date as YYYY-MM-DD"),
        ("?since=yesterday", "'since' must be a date"),
        ("?since=2026-02-01&until=2026-01-01", "is after 'until'"),
        ("?decision=maybe", "'decision' must be one of answer, clarify, handoff"),
        ("?feedback=meh", "'feedback' must be one of"),
        ("?state=gone", "'state' must be one of"),
        ("?language=nederlands", "'language' must be a language code"),
        ("?q=" + "x" * 201, "'q' may be at most 200 characters"),
        ("?q=%00", "control character"),
        ("?older=nonsense", "'older' is not a cursor"),
        ("?older=20261399000000000000-abc", "'older' is not a cursor"),
    ],
)
def test_bad_filter_values_are_400s_with_a_message(browser_app, query: str, message: str) -> None:  # type: ignore[no-untyped-def]
    manager = signed_in(browser_app, "manager")
    response = manager.get(f"/conversations{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    as_json = manager.get(f"/conversations{query}", headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and message in as_json.json["error"]


def test_unknown_conversation_is_a_404(browser_app) -> None:  # type: ignore[no-untyped-def]
    manager = signed_in(browser_app, "manager")
    assert manager.get("/conversations/ffffffff").status_code == 404
    assert manager.get("/conversations/not-an-id!").status_code == 404


# -- the transcript -----------------------------------------------------------------------


def test_transcript_shows_each_bot_turns_intent_confidence_decision_and_feedback(
    browser_app,
) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    answer = say(member, conversation, "Hoeveel kost het lidmaatschap?")["messages"][0]
    member.post(
        f"/api/v1/conversations/{conversation}/feedback",
        json={"message_id": answer["id"], "helpful": False},
    )
    say(member, conversation, "Ik wil een medewerker spreken")
    agent = signed_in(browser_app, "agent")
    agent.post(
        f"/console/conversations/{conversation}/note",
        data={"text": "Lid belt morgen terug", "csrf_token": agent.csrf},
    )
    manager = signed_in(browser_app, "manager")
    page = manager.get(f"/conversations/{conversation}").text
    assert '<span class="decision answer">answer</span>' in page
    assert "<code>contributie</code>" in page and "confidence 0." in page
    assert "👎 not helpful" in page
    assert "To team <strong>" in page and "Lid belt morgen terug" in page


def test_only_admins_get_the_link_to_delete_a_members_data(browser_app) -> None:  # type: ignore[no-untyped-def]
    conversation = start(browser_app.test_client())
    admin, manager = signed_in(browser_app, "admin"), signed_in(browser_app, "manager")
    link = f'id="delete-member-data" href="/console/conversations/{conversation}/delete"'
    assert link in admin.get(f"/conversations/{conversation}").text
    assert "delete-member-data" not in manager.get(f"/conversations/{conversation}").text
    assert (
        "delete-member-data"
        not in signed_in(browser_app, "agent").get(f"/conversations/{conversation}").text
    )


def test_belongs_to_intent_writes_the_phrasing_and_the_bot_answers_it(
    browser_app, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    text = "hoeveel euro moet ik per jaar neerleggen voor de club"
    turn = say(member, conversation, text)
    manager = signed_in(browser_app, "manager")
    response = manager.post(
        f"/conversations/{conversation}/messages/{turn['member_message']['id']}/intent",
        data={"intent": "contributie", "csrf_token": manager.csrf},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/conversations/{conversation}#m{turn['member_message']['id']}"
    )
    on_disk = yaml.safe_load((bot_dir / "faq.yml").read_text(encoding="utf-8"))
    contributie = next(i for i in on_disk["intents"] if i["id"] == "contributie")
    assert contributie["questions"][-1] == text
    history = browser_app.extensions["botbuilder"].editor.history
    assert history.latest("faq.yml").author == "manager@example.org"
    again = say(member, start(member), text)
    assert again["decision"] == "answer"
    assert again["messages"][0]["text"].startswith("De contributie")
    # Twice is once.
    manager.post(
        f"/conversations/{conversation}/messages/{turn['member_message']['id']}/intent",
        data={"intent": "contributie", "csrf_token": manager.csrf},
    )
    on_disk = yaml.safe_load((bot_dir / "faq.yml").read_text(encoding="utf-8"))
    contributie = next(i for i in on_disk["intents"] if i["id"] == "contributie")
    assert contributie["questions"].count(text) == 1


def test_belongs_to_intent_refuses_bot_messages_unknown_intents_and_no_choice(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    turn = say(member, conversation, "Hoeveel kost het lidmaatschap?")
    manager = signed_in(browser_app, "manager")
    base = f"/conversations/{conversation}/messages"
    question, answer = turn["member_message"]["id"], turn["messages"][0]["id"]
    cases = [
        (answer, "contributie", 400, "only a member's question"),
        (question, "", 400, "choose the intent"),
        (question, "bestaatniet", 404, "no intent 'bestaatniet' in NL"),
        (999999, "contributie", 404, "no message 999999"),
    ]
    for message_id, intent, status, text in cases:
        response = manager.post(
            f"{base}/{message_id}/intent", data={"intent": intent, "csrf_token": manager.csrf}
        )
        assert response.status_code == status, (message_id, intent)
        assert text in html.unescape(response.text)
    missing_token = manager.post(f"{base}/{question}/intent", data={"intent": "contributie"})
    assert missing_token.status_code == 403


def test_member_messages_are_shown_as_text_never_as_markup(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    say(member, conversation, "<img src=x onerror=alert(1)> hoi")
    manager = signed_in(browser_app, "manager")
    assert "<img src=x" not in manager.get(f"/conversations/{conversation}").text
    assert "<img src=x" not in manager.get("/conversations").text


def test_search_finds_what_members_wrote_not_the_bots_answers(browser_app) -> None:  # type: ignore[no-untyped-def]
    member = browser_app.test_client()
    conversation = start(member)
    say(member, conversation, "Hoeveel kost het lidmaatschap?")  # answered with "25 euro"
    manager = signed_in(browser_app, "manager")
    assert listed(manager, "?q=25 euro") == []
    assert listed(manager, "?q=kost het") == [conversation]
