"""The agent console through Flask's test client, next to the public widget API:
login and CSRF, the queue, claim races answered 409, reply, notes, transfer,
close, hand back, follow-ups, canned replies, presence."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from botbuilder.db.base import utcnow

PASSWORD = "correct horse battery"
ANN, BOB = "ann@example.org", "bob@example.org"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    token = _token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/console"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/console"
    client.csrf = _token(client.get("/console").text)
    return client


def post(client: Any, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data})


@pytest.fixture
def console_app(app_factory, bot_dir: Path, database_url: str):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, database_url)
    accounts = app.extensions["botbuilder"].accounts
    accounts.add(ANN, PASSWORD, "agent")
    accounts.add(BOB, PASSWORD, "agent")
    yield app
    app.extensions["botbuilder"].storage.close()


@pytest.fixture
def ann(console_app):  # type: ignore[no-untyped-def]
    return sign_in(console_app, ANN)


@pytest.fixture
def bob(console_app):  # type: ignore[no-untyped-def]
    return sign_in(console_app, BOB)


def member_hands_off(app: Any, text: str = "medewerker") -> str:
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    data = member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}).json
    assert data["state"] == "waiting"
    return str(conversation)


def member_sees(app: Any, conversation: str) -> list[dict[str, Any]]:
    return app.test_client().get(f"/api/v1/conversations/{conversation}/messages").json["messages"]


def test_console_needs_a_login_and_json_gets_401(console_app) -> None:  # type: ignore[no-untyped-def]
    client = console_app.test_client()
    page = client.get("/console")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/console")
    assert (
        client.get("/console/api/queue", headers={"Accept": "application/json"}).status_code == 401
    )


def test_every_state_change_needs_the_csrf_token(console_app, ann) -> None:  # type: ignore[no-untyped-def]
    conversation = member_hands_off(console_app)
    refused = ann.post(f"/console/conversations/{conversation}/claim")
    assert refused.status_code == 403
    forged = ann.post(
        f"/console/conversations/{conversation}/claim",
        json={},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403 and forged.json["ok"] is False
    assert (
        console_app.extensions["botbuilder"].storage.conversation(conversation).state == "waiting"
    )


def test_agent_claims_replies_notes_and_hands_back(console_app, ann, bob) -> None:  # type: ignore[no-untyped-def]
    conversation = member_hands_off(console_app)
    queue = ann.get("/console/api/queue").json
    (entry,) = queue["waiting"]
    assert entry["conversation_id"] == conversation and entry["team"] == "leden"
    assert entry["question"] == "medewerker" and entry["language"] == "nl"
    assert entry["waiting_seconds"] >= 0
    assert "medewerker" in ann.get("/console").text

    assert post(ann, f"/console/conversations/{conversation}/claim").status_code == 302
    lost = post(bob, f"/console/conversations/{conversation}/claim")
    assert lost.status_code == 409 and "already claimed" in lost.text
    lost_json = bob.post(
        f"/console/conversations/{conversation}/claim",
        json={},
        headers={"X-CSRF-Token": bob.csrf},
    )
    assert lost_json.status_code == 409
    assert lost_json.json == {"ok": False, "error": lost_json.json["error"], "status": 409}
    assert ann.get("/console/api/queue").json["mine"][0]["conversation_id"] == conversation

    post(ann, f"/console/conversations/{conversation}/reply", text="Hoi, ik ben **Ann**.")
    post(ann, f"/console/conversations/{conversation}/note", text="GEHEIM: lid is boos")
    page = ann.get(f"/console/conversations/{conversation}").text
    assert "GEHEIM: lid is boos" in page and "<strong>Ann</strong>" in page
    seen = member_sees(console_app, conversation)
    agent = [m for m in seen if m["role"] == "agent"]
    assert agent[0]["text"] == "Hoi, ik ben **Ann**." and "<strong>Ann</strong>" in agent[0]["html"]
    assert all("GEHEIM" not in m["text"] for m in seen)

    assert post(bob, f"/console/conversations/{conversation}/reply", text="ik").status_code == 409
    assert post(ann, f"/console/conversations/{conversation}/hand-back").status_code == 302
    member = console_app.test_client()
    assert "weer met de bot" in member_sees(console_app, conversation)[-1]["text"]
    answer = member.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Hoeveel kost het lidmaatschap?"},
    ).json
    assert answer["decision"] == "answer" and answer["state"] == "bot"
    assert ann.get("/console/api/queue").json["mine"] == []


def test_transfer_and_close(console_app, ann) -> None:  # type: ignore[no-untyped-def]
    conversation = member_hands_off(console_app)
    assert (
        post(ann, f"/console/conversations/{conversation}/transfer", team="nacht").status_code
        == 302
    )
    (entry,) = ann.get("/console/api/queue").json["waiting"]
    assert entry["team"] == "nacht"
    unknown = post(ann, f"/console/conversations/{conversation}/transfer", team="niemand")
    assert unknown.status_code == 400 and "no team" in unknown.text
    assert post(ann, f"/console/conversations/{conversation}/close").status_code == 302
    assert member_sees(console_app, conversation)[-1]["text"] == "Dit gesprek is gesloten."
    again = post(ann, f"/console/conversations/{conversation}/close")
    assert again.status_code == 409


def test_conversation_shows_the_bots_guesses_and_the_language(console_app, ann) -> None:  # type: ignore[no-untyped-def]
    storage = console_app.extensions["botbuilder"].storage
    conversation = storage.create_conversation("en").id
    message = storage.add_message(conversation, "member", "my bike was stolen")
    storage.annotate_message(
        message.id,
        decision="handoff",
        candidates=[{"intent": "contributie", "score": 0.4213}, {"intent": "klacht", "score": 0.2}],
    )
    storage.set_state(conversation, "waiting", expect=("bot",), team="leden")
    storage.open_handoff(conversation, "leden", "low_confidence", "my bike was stolen")
    page = ann.get(f"/console/conversations/{conversation}").text
    assert "contributie" in page and "0.42" in page and "0.20" in page
    assert "How much does membership cost?" in page or "Hoeveel kost" in page
    assert 'id="language">en<' in page


def test_canned_replies_come_from_the_bots_answers(ann) -> None:  # type: ignore[no-untyped-def]
    found = ann.get("/console/api/answers?q=contributie&language=nl").json["answers"]
    assert found[0]["intent"] == "contributie" and "25 euro" in found[0]["answer"]
    # Shown rendered, as the member will see it, and sanitized; inserted as typed.
    opzeggen = ann.get("/console/api/answers?q=opzeggen&language=nl").json["answers"][0]
    assert "**Mijn account" in opzeggen["answer"]
    assert "<strong>Mijn account" in opzeggen["html"] and "**" not in opzeggen["html"]


def test_presence_and_follow_ups(console_app, ann) -> None:  # type: ignore[no-untyped-def]
    response = ann.post(
        "/console/presence", json={"status": "away"}, headers={"X-CSRF-Token": ann.csrf}
    )
    assert response.json == {"ok": True, "presence": "away"}
    # with every agent away, a handoff offers the e-mail option
    member = console_app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    said = member.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"}
    ).json
    assert "geen collega beschikbaar" in said["messages"][-1]["text"]
    thanks = member.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "lid@example.org"}
    ).json
    assert "lid@example.org" in thanks["messages"][0]["text"]
    page = ann.get("/console").text
    assert "lid@example.org" in page
    follow_up = console_app.extensions["botbuilder"].queue.follow_ups()[0]
    assert post(ann, f"/console/follow-ups/{follow_up.id}/done").status_code == 302
    assert (
        "lid@example.org" not in ann.get("/console").text.split("Follow-ups")[1].split("Agents")[0]
    )
    post(ann, "/console/presence", status="online")
    assert ann.get("/console/api/queue").json["presence"] == "online"


def test_unclaimed_waiting_offers_the_email_option_through_the_api(app_factory, bot_dir) -> None:  # type: ignore[no-untyped-def]
    # The unclaimed time comes from the app's config; the dialogue's clock runs ahead of
    # the real one only when the test says so (handoffs are stamped with the real time),
    # so no real waiting and no race between a short unclaimed time and the polls.
    app = app_factory(bot_dir, HANDOFF_UNCLAIMED_AFTER="60")
    dialogue = app.extensions["botbuilder"].dialogue
    ahead = [timedelta(0)]
    dialogue.clock = dialogue.queue.clock = lambda: utcnow() + ahead[0]
    conversation = member_hands_off(app)
    ahead[0] = timedelta(seconds=59)
    assert all("langer dan" not in m["text"] for m in member_sees(app, conversation))
    ahead[0] = timedelta(seconds=61)
    texts = [m["text"] for m in member_sees(app, conversation)]
    assert sum("langer dan" in t for t in texts) == 1
    texts = [m["text"] for m in member_sees(app, conversation)]
    assert sum("langer dan" in t for t in texts) == 1  # offered once, not on every poll
    app.extensions["botbuilder"].storage.close()
