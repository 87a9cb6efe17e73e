"""The end of a member's wait, through Flask's test client on real SQLite (and PostgreSQL):
leaving the queue (back to the bot, or closing), abandoned chats swept on an injected
clock, live queue positions, presence only when chosen, and no bot guesses for a
handoff asked for in words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from botbuilder.conversations.lifecycle import Lifecycle
from botbuilder.conversations.store import Storage
from botbuilder.db.base import utcnow
from tests.test_api import say, start
from tests.test_console import ANN, PASSWORD, sign_in

PERSON = "Ik wil een medewerker spreken"


def close(client: Any, conversation_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/conversations/{conversation_id}/close", json=body)


def waiting_member(client: Any) -> str:
    conversation = start(client)["conversation_id"]
    assert say(client, conversation, PERSON)["state"] == "waiting"
    return conversation


def services(app: Any) -> Any:
    return app.extensions["botbuilder"]


def run_ahead(app: Any, by: timedelta) -> None:
    """The dialogue's (and so the lifecycle's) clock runs `by` ahead of the real one."""
    dialogue = services(app).dialogue
    dialogue.clock = dialogue.queue.clock = lambda: utcnow() + by


def handoff_status(app: Any, conversation_id: str) -> str:
    return services(app).queue.current_handoff(conversation_id).status  # type: ignore[no-any-return]


# -- leaving the queue -------------------------------------------------------------------


def test_waiting_member_goes_back_to_the_bot_which_answers_again(client: Any, app: Any) -> None:
    conversation = waiting_member(client)
    response = close(client, conversation, back_to_bot=True)
    assert response.status_code == 200, response.json
    data = response.json
    assert data["state"] == "bot" and "queue_position" not in data
    (said,) = data["messages"]
    assert said["text"].startswith("Je wacht niet meer op een medewerker")
    assert data["cursor"] == said["id"]
    assert handoff_status(app, conversation) == "left"
    assert services(app).queue.waiting() == []
    answer = say(client, conversation, "Hoeveel kost het lidmaatschap?")
    assert answer["decision"] == "answer" and answer["state"] == "bot"


def test_back_to_the_bot_twice_is_harmless(client: Any) -> None:
    conversation = waiting_member(client)
    assert close(client, conversation, back_to_bot=True).status_code == 200
    again = close(client, conversation, back_to_bot=True)
    assert again.status_code == 200
    assert again.json["state"] == "bot" and again.json["messages"] == []


def test_new_chat_closes_the_old_one_and_it_leaves_the_queue(client: Any, app: Any) -> None:
    conversation = waiting_member(client)
    first = close(client, conversation)
    assert first.status_code == 200 and first.json["state"] == "closed"
    assert first.json["messages"][0]["text"] == "Je hebt dit gesprek beëindigd."
    assert handoff_status(app, conversation) == "left"
    assert services(app).queue.waiting() == []
    second = close(client, conversation, back_to_bot=False)  # a retry: same state, nothing new
    assert second.status_code == 200
    assert second.json["state"] == "closed" and second.json["messages"] == []
    refused = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "hoi"})
    assert refused.status_code == 409


def test_closing_a_conversation_with_the_bot_needs_no_handoff(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    assert close(client, conversation).json["state"] == "closed"


def test_back_to_the_bot_is_refused_while_an_agent_has_it_or_when_closed(
    client: Any, app: Any
) -> None:
    claimed = waiting_member(client)
    services(app).queue.claim(claimed, ANN)
    response = close(client, claimed, back_to_bot=True)
    assert response.status_code == 409
    assert "staff member is with this member" in response.json["error"]
    # Closing is still the member's right; the agent's handoff ends as 'left'.
    assert close(client, claimed).json["state"] == "closed"
    assert handoff_status(app, claimed) == "left"
    refused = close(client, claimed, back_to_bot=True)
    assert refused.status_code == 409 and refused.json == {
        "ok": False,
        "error": "this conversation is closed; start a new one",
        "status": 409,
    }


@pytest.mark.parametrize("conversation_id", ["0" * 32, "nope", "x" * 40, "a-b"])
def test_closing_an_unknown_conversation_is_a_404(client: Any, conversation_id: str) -> None:
    response = close(client, conversation_id)
    assert response.status_code == 404 and response.json["ok"] is False


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"back_to_bot": "yes"}', "'back_to_bot' must be true or false"),
        ('{"back_to_bot": true, "reason": "bored"}', "unknown field 'reason'"),
        ("[true]", "the body must be a JSON object"),
        ("{", "the body must be JSON"),
    ],
)
def test_bad_close_bodies_are_400s(client: Any, body: str, error: str) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(
        f"/api/v1/conversations/{conversation}/close",
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400 and error in response.json["error"]


def test_close_without_a_body_closes(client: Any) -> None:
    conversation = start(client)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation}/close")
    assert response.status_code == 200 and response.json["state"] == "closed"


# -- queue positions ---------------------------------------------------------------------


def test_queue_position_counts_only_live_waiting_members_of_the_same_team(
    client: Any, app: Any
) -> None:
    first, second = waiting_member(client), waiting_member(client)
    position = lambda c: client.get(f"/api/v1/conversations/{c}/messages").json["queue_position"]  # noqa: E731
    assert (position(first), position(second)) == (1, 2)
    # A member of another team does not count in this team's queue.
    storage = services(app).storage
    other = storage.create_conversation("nl").id
    storage.set_state(other, "waiting", expect=("bot",), team="nacht")
    storage.open_handoff(other, "nacht", "intent", "vraag")
    assert position(other) == 1
    # The first member goes back to the bot: the second is now first.
    close(client, first, back_to_bot=True)
    assert position(second) == 1
    # A handoff row left 'waiting' by a conversation that waits no more does not count.
    storage.open_handoff(first, "leden", "member_request", "oud")
    assert position(second) == 1


def test_new_chat_does_not_count_the_old_one_in_the_queue(client: Any) -> None:
    old = waiting_member(client)
    close(client, old)
    fresh = start(client)["conversation_id"]
    handed = say(client, fresh, PERSON)
    assert handed["queue_position"] == 1
    assert "nummer 1 in de wachtrij" in handed["messages"][0]["text"]


# -- abandoned chats ---------------------------------------------------------------------


def test_a_quiet_waiting_member_is_abandoned_and_stays_findable(client: Any, app: Any) -> None:
    quiet, active = waiting_member(client), waiting_member(client)
    run_ahead(app, timedelta(minutes=10))
    client.get(f"/api/v1/conversations/{active}/messages")  # the open widget asks for news
    run_ahead(app, timedelta(minutes=16))
    agent = sign_in_agent(app)
    waiting = agent.get("/console/api/queue").json["waiting"]
    assert [e["conversation_id"] for e in waiting] == [active]
    assert handoff_status(app, quiet) == "abandoned"
    found = client.get(f"/api/v1/conversations/{quiet}/messages").json
    assert found["state"] == "bot"
    assert found["messages"][-1]["text"].startswith("We hoorden een tijd niets van je")
    assert agent.get(f"/console/conversations/{quiet}").status_code == 200
    queue_page = agent.get("/console").text
    left = queue_page[queue_page.index('id="left"') :]
    assert f'data-id="{quiet}"' in left and ">abandoned<" in left
    # The member who came back is answered by the bot again.
    assert say(client, quiet, "Hoeveel kost het lidmaatschap?")["decision"] == "answer"


def test_abandoned_after_comes_from_bot_yml(app_factory: Any, bot_dir: Path) -> None:
    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "handoff:\n", "handoff:\n  abandoned_after: 2\n"
        ),
        encoding="utf-8",
    )
    app = app_factory(bot_dir)
    client = app.test_client()
    conversation = waiting_member(client)
    run_ahead(app, timedelta(minutes=1))
    assert services(app).dialogue.lifecycle.sweep(force=True) == []
    run_ahead(app, timedelta(minutes=3))
    assert services(app).dialogue.lifecycle.sweep(force=True) == [conversation]
    services(app).storage.close()


def test_abandoned_after_must_be_whole_minutes(app_factory: Any, bot_dir: Path) -> None:
    from botbuilder.content.loader import load_bot
    from botbuilder.errors import FlowError

    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "handoff:\n", "handoff:\n  abandoned_after: soon\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(FlowError, match="'abandoned_after' must be a whole number of minutes"):
        load_bot(bot_dir)


def test_two_replicas_sweeping_at_once_abandon_each_chat_once(app: Any, client: Any) -> None:
    conversation = waiting_member(client)
    url = services(app).storage.url
    later = lambda: utcnow() + timedelta(minutes=20)  # noqa: E731
    replicas = [Storage(url, migrate=False) for _ in range(2)]
    try:
        sweeps = [
            Lifecycle(r, lambda: timedelta(minutes=15), clock=later).sweep() for r in replicas
        ]
        assert sorted(sweeps, key=len) == [[], [conversation]]
        said = [m.text for m in replicas[0].messages(conversation)]
        assert sum(t.startswith("We hoorden een tijd niets") for t in said) == 1
    finally:
        for r in replicas:
            r.close()


# -- the console ---------------------------------------------------------------------------


def sign_in_agent(app: Any) -> Any:
    accounts = services(app).accounts
    if ANN not in {u.email for u in accounts.users()}:
        accounts.add(ANN, PASSWORD, "agent")
    return sign_in(app, ANN)


def test_an_agent_is_not_online_until_they_press_online(client: Any, app: Any) -> None:
    agent = sign_in_agent(app)
    page = agent.get("/console").text
    assert "Signing in does not make you online" in page and "90 seconds" in page
    assert agent.get("/console/api/queue").json["presence"] == ""
    assert services(app).queue.presence() == {}
    agent.post("/console/presence", data={"csrf_token": agent.csrf, "status": "online"})
    assert agent.get("/console/api/queue").json["presence"] == "online"
    # A reload keeps the choice: nothing in the page sets presence by itself.
    agent.get("/console")
    assert services(app).queue.presence() == {ANN: "online"}


def test_a_handoff_asked_for_in_words_shows_no_bot_guesses(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    say(client, conversation, "ik wil iemand spreken")
    trigger = services(app).queue.trigger(conversation)
    assert trigger is not None and trigger.candidates  # the matcher did score it…
    page = sign_in_agent(app).get(f"/console/conversations/{conversation}").text
    assert 'id="guesses"' not in page  # …but the agent is not shown those scores
    assert "asked for a person directly" in page


def test_a_handoff_the_bot_was_unsure_about_shows_its_guesses(client: Any, app: Any) -> None:
    conversation = start(client)["conversation_id"]
    # Off-topic: handed off for low confidence. (Not the weather: with e5 the small bot asks
    # that one back instead, see test_api.)
    say(client, conversation, "Wat is de hoofdstad van Australië?")
    page = sign_in_agent(app).get(f"/console/conversations/{conversation}").text
    assert 'id="guesses"' in page


# -- what the widget reads at start ----------------------------------------------------------


def test_widget_config_has_the_texts_per_language_and_the_privacy_link(
    app_factory: Any, bot_dir: Path
) -> None:
    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "  title: Vraag het ons\n",
            "  title: {nl: Vraag het ons, en: Ask us}\n"
            "  welcome: {nl: Welkom!, en: Welcome!}\n"
            "  privacy_url: https://example.org/privacy\n",
        ),
        encoding="utf-8",
    )
    app = app_factory(bot_dir)
    config = app.test_client().get("/api/v1/widget-config").json
    assert config["title"] == "Vraag het ons"
    assert config["titles"] == {"nl": "Vraag het ons", "en": "Ask us"}
    assert config["welcome"] == {"nl": "Welkom!", "en": "Welcome!"}
    assert config["greeting"] == {
        "nl": "Hoi! Waar kan ik je mee helpen?",
        "en": "Hi! How can I help?",
    }
    assert config["offline"]["nl"].startswith("We zijn er weer op maandag")
    assert config["privacy_url"] == "https://example.org/privacy"
    services(app).storage.close()


def test_privacy_url_must_be_a_web_address(bot_dir: Path) -> None:
    from botbuilder.content.loader import load_bot
    from botbuilder.errors import FlowError

    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "widget:\n", "widget:\n  privacy_url: javascript:alert(1)\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(FlowError, match="privacy_url 'javascript:alert\\(1\\)' must be an http"):
        load_bot(bot_dir)


def test_close_answers_as_the_openapi_document_says(client: Any, app: Any) -> None:
    from tests.test_openapi_document import check

    path = "/api/v1/conversations/{conversation_id}/close"
    conversation = waiting_member(client)
    url = f"/api/v1/conversations/{conversation}/close"
    assert check(client.post(url, json={"back_to_bot": True}), path)["state"] == "bot"
    check(client.post(url, json={"back_to_bot": "yes"}), path)
    say(client, conversation, PERSON)
    services(app).queue.claim(conversation, ANN)
    assert client.post(url, json={"back_to_bot": True}).status_code == 409
    check(client.post(url, json={"back_to_bot": True}), path)
    assert check(client.post(url), path)["state"] == "closed"
    check(client.post(url, json={"back_to_bot": True}), path)
    check(client.post("/api/v1/conversations/doesnotexist/close"), path)
