"""web/openapi.yaml is valid OpenAPI 3.1 and tells the truth about real responses.

Every response the API gives in a walk through a conversation is checked
against the schema the document gives for that path, method and status, so a
field added, renamed or dropped in `server/api.py` fails here until the
document says so too. (That every route is in the document with its methods
is `test_openapi.py`'s part.)
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from botbuilder.config import DEFAULTS
from botbuilder.conversations.dialogue import MAX_MESSAGE_CHARS

from .conftest import ROOT

DOCUMENT: dict[str, Any] = yaml.safe_load((ROOT / "web" / "openapi.yaml").read_text("utf-8"))


START_KEY = "start-0b9e2c41-5d7f-4c4e-9a51-6f3e2b8d1c07"


def _schema_for(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema the document gives for one response, refs resolvable."""
    operation = DOCUMENT["paths"][path][method]
    response = operation["responses"].get(str(status)) or operation["responses"]["default"]
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = dict(response["content"]["application/json"]["schema"])
    # `#/components/...` refs resolve against the schema's root, so the root carries them.
    schema["components"] = DOCUMENT["components"]
    return schema


def check(response: Any, path: str, method: str = "post") -> Any:
    """Assert that a test-client response matches the document; return its JSON."""
    data = response.json
    try:
        jsonschema.validate(data, _schema_for(path, method, response.status_code))
    except jsonschema.ValidationError as exc:
        pytest.fail(
            f"{method.upper()} {path} {response.status_code} differs from openapi.yaml: "
            f"{exc.message}\n{data}"
        )
    return data


MESSAGES = "/api/v1/conversations/{conversation_id}/messages"
FEEDBACK = "/api/v1/conversations/{conversation_id}/feedback"


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_documented_limits_are_the_servers() -> None:
    send = DOCUMENT["paths"][MESSAGES]["post"]["requestBody"]["content"]["application/json"]
    text = send["schema"]["oneOf"][0]["properties"]["text"]
    assert text["maxLength"] == MAX_MESSAGE_CHARS
    match = DOCUMENT["paths"]["/api/v1/match"]["post"]["requestBody"]["content"]
    assert (
        match["application/json"]["schema"]["properties"]["text"]["maxLength"] == MAX_MESSAGE_CHARS
    )
    assert DEFAULTS["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert "64 KB" in DOCUMENT["info"]["description"]


def test_a_conversation_gets_the_documented_answers(client: Any, app: Any) -> None:
    start = check(client.post("/api/v1/conversations", json={}), "/api/v1/conversations")
    check(client.post("/api/v1/conversations", json={"language": "fr"}), "/api/v1/conversations")
    conversation = start["conversation_id"]
    url = f"/api/v1/conversations/{conversation}"

    answer = check(
        client.post(f"{url}/messages", json={"text": "Hoe zeg ik mijn lidmaatschap op?"}), MESSAGES
    )
    assert answer["decision"] == "answer" and answer["messages"][0]["buttons"]
    check(client.post(f"{url}/messages", json={"button": "goto:opzegtermijn"}), MESSAGES)
    check(client.post(f"{url}/messages", json={"button": "nothing"}), MESSAGES)
    check(client.post(f"{url}/messages", json={"text": "a" * (MAX_MESSAGE_CHARS + 1)}), MESSAGES)
    bot_message = answer["messages"][0]["id"]
    check(
        client.post(f"{url}/feedback", json={"message_id": bot_message, "helpful": True}), FEEDBACK
    )
    check(
        client.post(f"{url}/feedback", json={"message_id": bot_message, "helpful": "yes"}), FEEDBACK
    )
    check(client.post(f"{url}/feedback", json={"message_id": 999999, "helpful": True}), FEEDBACK)

    waiting = check(client.post(f"{url}/messages", json={"text": "mens"}), MESSAGES)
    assert waiting["state"] == "waiting" and waiting["queue_position"] == 1
    silent = check(client.post(f"{url}/messages", json={"text": "Hallo?"}), MESSAGES)
    assert silent["decision"] is None
    history = check(client.get(f"{url}/messages"), MESSAGES, "get")
    check(client.get(f"{url}/messages?after={history['cursor']}"), MESSAGES, "get")
    check(client.get(f"{url}/messages?after=-1"), MESSAGES, "get")

    app.extensions["botbuilder"].storage.set_state(conversation, "closed")
    check(client.post(f"{url}/messages", json={"text": "hoi"}), MESSAGES)
    check(
        client.post("/api/v1/conversations/doesnotexist/messages", json={"text": "hoi"}), MESSAGES
    )
    check(client.get("/api/v1/conversations/doesnotexist/messages"), MESSAGES, "get")


def test_match_widget_config_and_health_answer_as_documented(client: Any) -> None:
    matched = check(
        client.post("/api/v1/match", json={"text": "Ik ben mijn wachtwoord kwijt"}), "/api/v1/match"
    )
    assert matched["decision"] == "answer"
    check(client.post("/api/v1/match", json={"text": "mens"}), "/api/v1/match")
    check(client.post("/api/v1/match", json={"text": "x", "language": "zz"}), "/api/v1/match")
    check(client.get("/api/v1/widget-config"), "/api/v1/widget-config", "get")
    check(client.get("/health"), "/health", "get")
    check(client.get("/ready"), "/ready", "get")


def test_refused_origins_and_unknown_paths_get_the_documented_error(client: Any) -> None:
    refused = client.post(
        "/api/v1/conversations", json={}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    check(refused, "/api/v1/conversations")
    preflight = client.options(
        "/api/v1/match",
        headers={"Origin": "https://allowed.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    nowhere = client.get("/api/v1/nope")
    jsonschema.validate(nowhere.json, {**DOCUMENT["components"]["schemas"]["Error"]})


def test_retries_with_an_idempotency_key_get_the_documented_answers(client: Any) -> None:
    first = client.post("/api/v1/conversations", json={}, headers={"Idempotency-Key": START_KEY})
    again = client.post("/api/v1/conversations", json={}, headers={"Idempotency-Key": START_KEY})
    assert check(again, "/api/v1/conversations") == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    url = f"/api/v1/conversations/{first.json['conversation_id']}/messages"
    sent = {"text": "mens", "client_message_id": "m-1"}
    assert check(client.post(url, json=sent), MESSAGES) == check(
        client.post(url, json=sent), MESSAGES
    )
    reused = client.post(url, json={"text": "hoi", "client_message_id": "m-1"})
    assert reused.status_code == 422
    check(reused, MESSAGES)
