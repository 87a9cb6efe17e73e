"""action_botbuilder_faq through rasa-sdk's own HTTP endpoint, on a real `botbuilder actions` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .conftest import SMALL_BOT
from .servers import free_port, wait_until_healthy


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    instance = tmp_path_factory.mktemp("actions-instance")
    env = dict(os.environ, BOTBUILDER_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    log = (instance / "server.log").open("w")  # a file, not a pipe nobody reads while it fills
    process = subprocess.Popen(
        [sys.executable, "-m", "botbuilder.cli", "actions", str(SMALL_BOT), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        cwd=instance,
        start_new_session=True,  # Sanic runs worker processes: stop the whole group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{url}/health", process, instance / "server.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def rasa_request(
    text: str,
    intent: str = "nlu_fallback",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body Rasa sends to an action server (rasa/core/actions/action.py: RemoteAction)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.4},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": 0.4}],
    }
    return {
        "next_action": "action_botbuilder_faq",
        "sender_id": "member-42",
        "version": "3.21.0",
        "tracker": {
            "sender_id": "member-42",
            "slots": {"language": None, **(slots or {})},
            "latest_message": latest,
            "latest_event_time": 1764000000.0,
            "followup_action": None,
            "paused": False,
            "stream_paused": False,
            "events": [
                {"event": "action", "name": "action_session_start", "timestamp": 1764000000.0},
                {"event": "action", "name": "action_listen", "timestamp": 1764000000.1},
                {"event": "user", "text": text, "parse_data": latest, "timestamp": 1764000000.2},
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": {
            "version": "3.1",
            "intents": ["nlu_fallback", "botbuilder_goto", "botbuilder_handoff"],
            "entities": ["botbuilder_intent"],
            "slots": {},
            "responses": {},
            "actions": ["action_botbuilder_faq"],
            "forms": {},
        },
    }


def call(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{url}/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_answer_comes_back_as_text_buttons_and_a_slot(action_server: str) -> None:
    result = call(action_server, rasa_request("Hoe kan ik mijn lidmaatschap opzeggen?"))
    (response,) = result["responses"]
    assert response["text"].startswith("Je zegt op via **Mijn account → Lidmaatschap**.")
    assert "[Naar mijn account](https://example.org/account)" in response["text"]
    assert response["buttons"] == [
        {
            "title": "Wat is de opzegtermijn?",
            "payload": '/botbuilder_goto{"botbuilder_intent": "opzegtermijn"}',
        },
        {"title": "Ik wil iemand spreken", "payload": "/botbuilder_handoff"},
    ]
    assert result["events"] == [
        {"event": "slot", "timestamp": None, "name": "botbuilder_intent", "value": "opzeggen"}
    ]


def test_goto_button_payload_answers_the_target_intent(action_server: str) -> None:
    body = rasa_request(
        '/botbuilder_goto{"botbuilder_intent": "opzegtermijn"}',
        intent="botbuilder_goto",
        entities=[{"entity": "botbuilder_intent", "value": "opzegtermijn", "start": 0, "end": 0}],
    )
    (response,) = call(action_server, body)["responses"]
    assert response["text"] == "De opzegtermijn is *een maand*."


def test_language_slot_chooses_the_answer_language(action_server: str) -> None:
    # A Dutch question the bot answers outright; the slot, not the question, picks English.
    # (A bare "contributie" is now confirmed with "Did you mean…?": 0.83 under a
    # calibrated answer threshold of 0.85.)
    result = call(
        action_server, rasa_request("Hoeveel kost het lidmaatschap?", slots={"language": "en"})
    )
    assert result["responses"][0]["text"] == "The fee is 25 euros a year."


def test_request_for_a_person_pauses_the_conversation(action_server: str) -> None:
    result = call(action_server, rasa_request("Ik wil een medewerker spreken"))
    assert result["responses"][0]["text"].startswith("Ik zet je door naar een collega")
    events = result["events"]
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "botbuilder_handoff_team",
        "value": "leden",
    } in events
    assert events[-1]["event"] == "pause"


def test_handoff_button_payload_hands_off(action_server: str) -> None:
    result = call(action_server, rasa_request("/botbuilder_handoff", intent="botbuilder_handoff"))
    assert result["events"][-1]["event"] == "pause"


def test_complaint_intent_answers_and_pauses(action_server: str) -> None:
    result = call(action_server, rasa_request("Ik wil een klacht indienen"))
    assert [r["text"] for r in result["responses"]] == [
        "Wat vervelend! Ik zet je door naar een collega."
    ]
    assert result["events"][0]["value"] == "klacht" and result["events"][-1]["event"] == "pause"


def test_unknown_action_is_rasa_sdks_404(action_server: str) -> None:
    body = rasa_request("hoi")
    body["next_action"] = "action_does_not_exist"
    response = requests.post(f"{action_server}/webhook", json=body, timeout=30)
    assert response.status_code == 404
