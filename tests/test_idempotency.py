"""Exactly-once member messages: a retry with the same idempotency key stores nothing new.

Through the Flask test client on a real SQLite file (and PostgreSQL when
BOTBUILDER_TEST_DATABASE_URL is set); two apps on one database stand for two
replicas, and two threads for two copies of one request racing.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from botbuilder.conversations.idempotency import IdempotencyKey, IdempotencyKeys
from botbuilder.conversations.store import Message
from botbuilder.db.base import utcnow

QUESTION = {"text": "Hoe kan ik mijn lidmaatschap opzeggen?"}
START_KEY = "start-0b9e2c41-5d7f-4c4e-9a51-6f3e2b8d1c07"  # starting keys must be unguessable


def start(client: Any) -> str:
    response = client.post("/api/v1/conversations", json={})
    assert response.status_code == 201, response.json
    return response.json["conversation_id"]  # type: ignore[no-any-return]


def post(client: Any, conversation: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/v1/conversations/{conversation}/messages", json=body, headers=headers)


def member_messages(app: Any, conversation: str) -> list[str]:
    storage = app.extensions["botbuilder"].storage
    return [m.text for m in storage.messages(conversation) if m.role == "member"]


def test_same_key_twice_stores_one_message_and_returns_the_first_response(
    app: Any, client: Any
) -> None:
    conversation = start(client)
    first = post(client, conversation, QUESTION, key="k-1")
    again = post(client, conversation, QUESTION, key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert member_messages(app, conversation) == [QUESTION["text"]]


def test_different_keys_store_two_messages(app: Any, client: Any) -> None:
    conversation = start(client)
    assert post(client, conversation, QUESTION, key="k-1").status_code == 200
    assert post(client, conversation, QUESTION, key="k-2").status_code == 200
    assert member_messages(app, conversation) == [QUESTION["text"]] * 2


def test_client_message_id_in_the_body_works_like_the_header(app: Any, client: Any) -> None:
    conversation = start(client)
    body = {**QUESTION, "client_message_id": "widget-7f3a"}
    first = post(client, conversation, body)
    again = post(client, conversation, body)
    by_header = post(client, conversation, QUESTION, key="widget-7f3a")
    assert again.json == first.json == by_header.json
    assert member_messages(app, conversation) == [QUESTION["text"]]


def test_same_key_with_a_different_body_is_a_422(app: Any, client: Any) -> None:
    conversation = start(client)
    post(client, conversation, QUESTION, key="k-1")
    response = post(client, conversation, {"text": "Iets anders"}, key="k-1")
    assert response.status_code == 422
    assert response.json["ok"] is False and response.json["status"] == 422
    assert "already used for a different request" in response.json["error"]
    assert member_messages(app, conversation) == [QUESTION["text"]]


def test_header_and_body_key_that_differ_are_a_400(client: Any) -> None:
    conversation = start(client)
    response = post(client, conversation, {**QUESTION, "client_message_id": "a"}, key="b")
    assert response.status_code == 400
    assert "differ" in response.json["error"]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_key_that_is_not_1_to_255_printable_ascii_is_a_400(client: Any, key: str) -> None:
    conversation = start(client)
    body = {**QUESTION, "client_message_id": key}
    response = post(client, conversation, body)
    assert response.status_code == 400
    assert "1 to 255 printable ASCII" in response.json["error"]


def test_key_of_255_characters_is_accepted(app: Any, client: Any) -> None:
    conversation = start(client)
    assert post(client, conversation, QUESTION, key="k" * 255).status_code == 200
    assert post(client, conversation, QUESTION, key="k" * 255).status_code == 200
    assert len(member_messages(app, conversation)) == 1


def test_a_short_key_on_conversation_creation_is_refused_as_guessable(client: Any) -> None:
    # Every client starts conversations in one scope: "1" would return a stranger's conversation.
    response = client.post("/api/v1/conversations", json={}, headers={"Idempotency-Key": "1"})
    assert response.status_code == 400 and "at least 32 characters" in response.json["error"]


def test_key_on_conversation_creation_returns_the_same_conversation(app: Any, client: Any) -> None:
    headers = {"Idempotency-Key": START_KEY}
    first = client.post("/api/v1/conversations", json={"language": "en"}, headers=headers)
    again = client.post("/api/v1/conversations", json={"language": "en"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    with app.extensions["botbuilder"].storage.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1  # one greeting


def test_same_key_in_another_conversation_is_another_message(app: Any, client: Any) -> None:
    one, two = start(client), start(client)
    assert post(client, one, QUESTION, key="k-1").status_code == 200
    assert post(client, two, QUESTION, key="k-1").status_code == 200
    assert member_messages(app, one) == member_messages(app, two) == [QUESTION["text"]]


def test_refusal_is_stored_too_and_replayed(app: Any, client: Any) -> None:
    conversation = start(client)
    first = post(client, conversation, {"text": ""}, key="k-1")
    again = post(client, conversation, {"text": ""}, key="k-1")
    assert first.status_code == again.status_code == 400
    assert again.json == first.json


def test_retry_on_the_other_replica_stores_nothing_new(
    app_factory: Any, bot_dir: Path, database_url: str, tmp_path: Path
) -> None:
    replica_a = app_factory(bot_dir, database_url)
    replica_b = app_factory(bot_dir, database_url, INSTANCE_PATH=str(tmp_path / "instance-b"))
    try:
        conversation = start(replica_a.test_client())
        first = post(replica_a.test_client(), conversation, QUESTION, key="k-1")
        again = post(replica_b.test_client(), conversation, QUESTION, key="k-1")
        assert again.status_code == 200 and again.json == first.json
        assert member_messages(replica_b, conversation) == [QUESTION["text"]]
    finally:
        for replica in (replica_a, replica_b):
            replica.extensions["botbuilder"].storage.close()


def test_two_threads_posting_the_same_key_at_once_store_one_message(app: Any, client: Any) -> None:
    conversation = start(client)
    gate = threading.Barrier(2)
    responses: list[Any] = []

    def send() -> None:
        test_client = app.test_client()
        gate.wait()
        responses.append(post(test_client, conversation, QUESTION, key="race"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in responses)
    # The loser gets the winner's answer, or 409 "still being handled" while it runs.
    assert statuses in ([200, 200], [200, 409])
    assert member_messages(app, conversation) == [QUESTION["text"]]
    conflict = [r for r in responses if r.status_code == 409]
    if conflict:
        assert conflict[0].headers["Retry-After"] == "1"
        assert post(client, conversation, QUESTION, key="race").json == next(
            r.json for r in responses if r.status_code == 200
        )


def test_key_still_being_handled_is_a_409_with_retry_after(app: Any, client: Any) -> None:
    conversation = start(client)
    keys: IdempotencyKeys = app.extensions["botbuilder"].idempotency
    from botbuilder.conversations.idempotency import fingerprint

    assert keys.claim(conversation, "k-1", fingerprint(QUESTION)) is None
    response = post(client, conversation, QUESTION, key="k-1")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert "still being handled" in response.json["error"]
    assert member_messages(app, conversation) == []


def test_claim_abandoned_by_a_killed_process_is_taken_over_after_the_lease(
    app: Any, client: Any
) -> None:
    conversation = start(client)
    keys: IdempotencyKeys = app.extensions["botbuilder"].idempotency
    from botbuilder.conversations.idempotency import fingerprint

    keys.claim(conversation, "k-1", fingerprint(QUESTION))
    _age_keys(keys, keys.lease + timedelta(seconds=1))
    assert post(client, conversation, QUESTION, key="k-1").status_code == 200
    assert member_messages(app, conversation) == [QUESTION["text"]]


def test_expired_keys_are_forgotten_and_purged(app: Any, client: Any) -> None:
    conversation = start(client)
    keys: IdempotencyKeys = app.extensions["botbuilder"].idempotency
    post(client, conversation, QUESTION, key="k-1")
    post(client, conversation, QUESTION, key="k-2")
    _age_keys(keys, keys.ttl + timedelta(minutes=1))
    assert keys.purge_expired(limit=1) == 1  # bounded: one batch at a time
    assert keys.purge_expired() == 1
    assert keys.purge_expired() == 0
    assert post(client, conversation, QUESTION, key="k-1").status_code == 200
    assert len(member_messages(app, conversation)) == 3


def _age_keys(keys: IdempotencyKeys, by: timedelta) -> None:
    with keys.database.session() as s, s.begin():
        s.execute(update(IdempotencyKey).values(created_at=utcnow() - by))


@pytest.mark.parametrize("conversation", ["conversations", "nope", "A" * 32])
def test_key_on_an_unknown_conversation_is_a_plain_404(client: Any, conversation: str) -> None:
    response = post(client, conversation, QUESTION, key=START_KEY)
    assert response.status_code == 404
    assert (
        client.post(
            "/api/v1/conversations", json={}, headers={"Idempotency-Key": START_KEY}
        ).status_code
        == 201
    )


def test_retry_after_a_first_try_killed_half_way_answers_from_what_it_stored(
    app: Any, client: Any
) -> None:
    """The first try claimed the key and stored the turn, then its process died
    before it could store its answer: the retry after the lease sends that turn."""
    from botbuilder.conversations.idempotency import fingerprint

    conversation = start(client)
    built = app.extensions["botbuilder"]
    built.idempotency.claim(conversation, "k-1", fingerprint(QUESTION))
    turn = built.dialogue.receive_text(conversation, QUESTION["text"])  # then kill -9
    _age_keys(built.idempotency, built.idempotency.lease + timedelta(seconds=1))
    response = post(client, conversation, QUESTION, key="k-1")
    assert response.status_code == 200
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.json["member_message"]["id"] == turn.member_message.id
    assert [m["id"] for m in response.json["messages"]] == [m.id for m in turn.messages]
    assert response.json["decision"] == turn.decision == "answer"
    assert member_messages(app, conversation) == [QUESTION["text"]]
    assert post(client, conversation, QUESTION, key="k-1").json == response.json


def test_a_page_on_an_allowed_origin_may_send_the_key_and_read_retry_after(client: Any) -> None:
    origin = {"Origin": "http://localhost"}
    preflight = client.options("/api/v1/conversations", headers=origin)
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.post("/api/v1/conversations", json={}, headers=origin)
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "Retry-After" in exposed and "Idempotent-Replayed" in exposed
