"""The /api/v1 contract of web/openapi.yaml through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from botbuilder.conversations.store import Storage


def start(client: Any, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/conversations", json=body)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def say(client: Any, conversation_id: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def test_new_conversation_starts_with_the_greeting(client: Any) -> None:
    data = start(client)
    assert len(data["conversation_id"]) == 32
    assert data["state"] == "bot" and data["language"] == "nl"
    (greeting,) = data["messages"]
    assert greeting["role"] == "bot"
    assert greeting["text"] == "Hoi! Waar kan ik je mee helpen?"
    assert greeting["html"] == "<p>Hoi! Waar kan ik je mee helpen?</p>"
    assert set(greeting) >= {"id", "role", "text", "html", "buttons", "created_at"}


def test_greeting_in_the_requested_language(client: Any) -> None:
    data = start(client, language="en")
    assert data["messages"][0]["text"] == "Hi! How can I help?"


def test_unsupported_language_is_a_400(client: Any) -> None:
    response = client.post("/api/v1/conversations", json={"language": "fr"})
    assert response.status_code == 400
    assert response.json == {
        "ok": False,
        "error": "language 'fr' is not one of this bot's: nl, en",
        "status": 400,
    }


def test_question_is_answered_with_rendered_html_and_buttons(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, "Hoe kan ik mijn lidmaatschap opzeggen?")
    assert data["decision"] == "answer" and data["state"] == "bot"
    (answer,) = data["messages"]
    assert answer["intent"] == "opzeggen"
    assert "<strong>Mijn account → Lidmaatschap</strong>" in answer["html"]
    assert answer["buttons"] == [
        {"id": "goto:opzegtermijn", "label": "Wat is de opzegtermijn?"},
        {
            "id": "url:https://example.org/account",
            "label": "Naar mijn account",
            "url": "https://example.org/account",
        },
        {"id": "handoff", "label": "Ik wil iemand spreken"},
    ]
    assert data["member_message"]["text"] == "Hoe kan ik mijn lidmaatschap opzeggen?"
    assert data["cursor"] == answer["id"]


def test_member_is_answered_in_the_language_they_write(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, "How much does it cost to be a member?")
    assert data["language"] == "en"
    assert data["messages"][0]["text"] == "The fee is 25 euros a year."


def test_goto_button_answers_the_target_intent(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "Hoe kan ik mijn lidmaatschap opzeggen?")
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"button": "goto:opzegtermijn"}
    )
    assert response.status_code == 200
    assert response.json["decision"] == "answer"
    assert response.json["messages"][0]["html"] == "<p>De opzegtermijn is <em>een maand</em>.</p>"


def test_handoff_button_puts_the_conversation_in_the_queue(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "Hoe kan ik mijn lidmaatschap opzeggen?")
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"button": "handoff"}
    )
    assert response.json["decision"] == "handoff" and response.json["state"] == "waiting"
    storage: Storage = app.extensions["botbuilder"].storage
    (entry,) = storage.handoffs("waiting")
    assert entry.conversation_id == conversation and entry.reason == "member_request"


def test_button_not_in_the_last_bot_message_is_a_400(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"button": "goto:opzegtermijn"}
    )
    assert response.status_code == 400
    assert "not offered in this conversation's last bot message" in response.json["error"]


def test_link_button_cannot_be_posted(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "Hoe kan ik mijn lidmaatschap opzeggen?")
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"button": "url:https://example.org/account"},
    )
    assert response.status_code == 400 and "is a link" in response.json["error"]


@pytest.mark.parametrize("text", ["mens", "Ik wil een medewerker spreken", "human please", "agent"])
def test_asking_for_a_person_hands_off(client: Any, text: str) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, text)
    assert data["decision"] == "handoff" and data["state"] == "waiting"
    assert data["messages"][0]["text"].startswith(("Ik zet je door", "I'm passing you"))


def test_complaint_intent_answers_and_always_hands_off_to_its_team(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, "Ik wil een klacht indienen over de vereniging")
    assert data["decision"] == "handoff" and data["state"] == "waiting"
    assert data["messages"][0]["text"] == "Wat vervelend! Ik zet je door naar een collega."
    (entry,) = app.extensions["botbuilder"].storage.handoffs("waiting")
    assert entry.team == "leden" and entry.reason == "intent"


def test_out_of_scope_question_goes_to_a_person(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, "Hoe laat vertrekt de trein naar Amsterdam?")
    assert data["decision"] == "handoff" and data["state"] == "waiting"
    assert data["messages"][0]["text"].startswith("Daar weet ik helaas geen goed antwoord op")
    (entry,) = app.extensions["botbuilder"].storage.handoffs("waiting")
    assert entry.reason == "low_confidence"
    # With e5 (the default since issue 13) this 5-intent bot asks "Wat wordt
    # het weer morgen in Utrecht?" back ("Bedoelde je…?", which offers a
    # person) rather than handing it off at once; it is never answered.
    weather = say(client, start(client)["conversation_id"], "Wat wordt het weer morgen in Utrecht?")
    assert weather["decision"] in ("handoff", "clarify")


def test_off_topic_question_sharing_function_words_is_not_answered(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    data = say(client, conversation, "Wat is de hoofdstad van Australië?")
    assert data["decision"] in ("handoff", "clarify")


def test_member_messages_in_waiting_are_stored_and_the_bot_stays_silent(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "mens")
    data = say(client, conversation, "Hallo, is daar iemand?")
    assert data["decision"] is None and data["state"] == "waiting" and data["messages"] == []
    history = client.get(f"/api/v1/conversations/{conversation}/messages").json["messages"]
    assert history[-1]["role"] == "member" and history[-1]["text"] == "Hallo, is daar iemand?"


def test_polling_with_a_cursor_returns_only_newer_messages(client: Any, app: Any) -> None:
    data = start(client)
    conversation, cursor = data["conversation_id"], data["cursor"]
    say(client, conversation, "mens")
    storage: Storage = app.extensions["botbuilder"].storage
    storage.set_state(conversation, "agent", expect=("waiting",))
    before = client.get(f"/api/v1/conversations/{conversation}/messages?after={cursor}").json
    agent = storage.add_message(
        conversation, "agent", "Hoi, ik ben Sanne!", html="<p>Hoi, ik ben Sanne!</p>"
    )
    after = client.get(
        f"/api/v1/conversations/{conversation}/messages?after={before['cursor']}"
    ).json
    assert [m["id"] for m in after["messages"]] == [agent.id]
    assert after["messages"][0]["role"] == "agent" and after["state"] == "agent"
    again = client.get(
        f"/api/v1/conversations/{conversation}/messages?after={after['cursor']}"
    ).json
    assert again["messages"] == [] and again["cursor"] == after["cursor"]


def test_feedback_is_recorded_and_can_be_changed(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    answer = say(client, conversation, "Wat kost het lidmaatschap per jaar?")["messages"][0]
    url = f"/api/v1/conversations/{conversation}/feedback"
    assert client.post(url, json={"message_id": answer["id"], "helpful": False}).json == {
        "ok": True
    }
    assert client.post(url, json={"message_id": answer["id"], "helpful": True}).json == {"ok": True}
    assert app.extensions["botbuilder"].storage.feedback(conversation) == {answer["id"]: True}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"message_id": "x", "helpful": True}, 400, "'message_id' must be the id"),
        ({"message_id": 1, "helpful": "yes"}, 400, "'helpful' must be true or false"),
        ({"message_id": 999999, "helpful": True}, 404, "no message 999999"),
    ],
)
def test_bad_feedback_is_a_clear_4xx(
    client: Any, body: dict[str, Any], status: int, error: str
) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation}/feedback", json=body)
    assert response.status_code == status and error in response.json["error"]


def test_message_over_2000_characters_is_refused(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "a" * 2001}
    )
    assert response.status_code == 413
    assert response.json["error"] == "a message may be at most 2000 characters; this one has 2001"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("{not json", "the body must be JSON"),
        ("[1, 2]", "the body must be a JSON object"),
        ('{"text": ""}', "'text' must be a non-empty string"),
        ('{"text": 5}', "'text' must be a non-empty string"),
        ("{}", 'send either {"text": "…"} or {"button": "<id>"}'),
        ('{"text": "a", "button": "b"}', 'send either {"text": "…"} or {"button": "<id>"}'),
    ],
)
def test_bad_message_bodies_are_400s(client: Any, data: str, error: str) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", data=data, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json == {"ok": False, "error": error, "status": 400}


def test_unknown_conversation_is_a_404(client: Any) -> None:
    response = client.post("/api/v1/conversations/doesnotexist/messages", json={"text": "hoi"})
    assert response.status_code == 404
    assert response.json["error"].startswith("no conversation 'doesnotexist'")
    assert client.get("/api/v1/conversations/../../etc/messages").status_code == 404


def test_bad_cursor_is_a_400(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    response = client.get(f"/api/v1/conversations/{conversation}/messages?after=-1")
    assert response.json == {
        "ok": False,
        "error": "'after' (a message id from an earlier response) must be a whole number "
        "from 0 to 2147483647",
        "status": 400,
    }


def test_message_to_closed_conversation_returns_409(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    app.extensions["botbuilder"].storage.set_state(conversation, "closed")
    response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "hoi"})
    assert response.status_code == 409
    assert response.json["error"] == "this conversation is closed; start a new one"


def test_request_body_over_the_size_limit_is_a_413(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        data='{"text": "' + "a" * 70_000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413 and response.json["ok"] is False


def test_unknown_path_and_wrong_method_are_json_errors(client: Any) -> None:
    assert client.get("/api/v1/nope").json == {
        "ok": False,
        "error": "nothing at /api/v1/nope",
        "status": 404,
    }
    response = client.get("/api/v1/match")
    assert response.status_code == 405 and response.json["ok"] is False


def test_member_and_author_html_never_reaches_the_page_as_markup(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    payload = '<img src=x onerror="alert(1)"><script>alert(1)</script>'
    data = say(client, conversation, payload)
    assert data["member_message"]["text"] == payload  # kept as text, shown with textContent
    assert all("<script" not in m["html"] and "<img" not in m["html"] for m in data["messages"])
    history = client.get(f"/api/v1/conversations/{conversation}/messages").json["messages"]
    member = [m for m in history if m["role"] == "member"][0]
    assert member["html"] == ""  # the widget shows member text with textContent only


def test_match_is_stateless_and_returns_candidates(client: Any) -> None:
    data = client.post("/api/v1/match", json={"text": "Ik ben mijn wachtwoord kwijt"}).json
    assert data["decision"] == "answer" and data["intent"] == "wachtwoord"
    assert 0 < data["confidence"] <= 1
    assert data["candidates"][0] == {"intent": "wachtwoord", "score": data["confidence"]}
    assert client.post("/api/v1/match", json={"text": "x", "language": "zz"}).status_code == 400


def test_match_refuses_a_language_because_it_matches_in_all_of_them(client: Any) -> None:
    response = client.post("/api/v1/match", json={"text": "I lost my password", "language": "en"})
    assert response.status_code == 400
    assert response.json["error"] == (
        "'language' is not a field of /match: the match covers all of this bot's "
        "languages (nl, en) at once; leave it out"
    )
    english = client.post("/api/v1/match", json={"text": "I lost my password"}).json
    assert english["decision"] == "answer" and english["intent"] == "wachtwoord"


def test_cors_allows_configured_origins_only(client: Any) -> None:
    allowed = client.post(
        "/api/v1/conversations", json={}, headers={"Origin": "https://allowed.example"}
    )
    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    preflight = client.options(
        "/api/v1/conversations",
        headers={"Origin": "https://allowed.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    refused = client.post(
        "/api/v1/conversations", json={}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "add it to widget.allowed_origins in bot.yml" in refused.json["error"]


def test_health_reports_the_bot(client: Any) -> None:
    data = client.get("/health").json
    assert data["status"] == "ok" and data["bot"] == "Testvereniging"


def test_every_message_is_stored_with_decision_intent_and_confidence(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "Wat kost het lidmaatschap per jaar?")
    messages = app.extensions["botbuilder"].storage.messages(conversation)
    member = [m for m in messages if m.role == "member"][0]
    bot = messages[-1]
    assert member.decision == "answer" and member.intent == "contributie" and member.confidence > 0
    assert member.candidates[0]["intent"] == "contributie"
    assert bot.decision == "answer" and bot.intent == "contributie"
