"""Storage on real databases: migrations, ordering, and races between processes' requests."""

from __future__ import annotations

import threading

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from botbuilder.conversations.states import STATES, TRANSITIONS
from botbuilder.conversations.store import Storage
from botbuilder.db.migrations import alembic_config
from botbuilder.errors import BadRequest, Conflict, NotFound


@pytest.fixture
def storage(database_url: str):  # type: ignore[no-untyped-def]
    store = Storage(database_url)
    yield store
    store.close()


def test_schema_is_created_by_migrations_and_upgrading_again_is_a_no_op(database_url: str) -> None:
    first = Storage(database_url)
    second = Storage(database_url)  # a second process starting against the same database
    tables = set(inspect(second.engine).get_table_names())
    assert {"conversations", "messages", "handoffs", "feedback", "alembic_version"} <= tables
    with second.engine.connect() as connection:
        (version,) = connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version"
        ).fetchone()  # type: ignore[misc]
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    first.close()
    second.close()


def test_messages_keep_their_order_and_fields(storage: Storage) -> None:
    conversation = storage.create_conversation("nl")
    a = storage.add_message(conversation.id, "member", "hoi")
    b = storage.add_message(
        conversation.id,
        "bot",
        "Hallo",
        html="<p>Hallo</p>",
        buttons=[{"id": "handoff", "label": "Mens"}],
        intent="groet",
        decision="answer",
        confidence=0.9,
        candidates=[{"intent": "groet", "score": 0.9}],
    )
    messages = storage.messages(conversation.id)
    assert [m.id for m in messages] == [a.id, b.id] and a.id < b.id
    assert messages[1].buttons == ({"id": "handoff", "label": "Mens"},)
    assert messages[1].created_at.tzinfo is not None
    assert storage.messages(conversation.id, after=a.id) == [messages[1]]


def test_unknown_conversation_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.conversation("0" * 32)


def test_state_change_with_expectation_lets_exactly_one_racer_win(storage: Storage) -> None:
    conversation = storage.create_conversation("nl")
    storage.set_state(conversation.id, "waiting")
    results: list[str] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        try:
            storage.set_state(conversation.id, "agent", expect=("waiting",))
            results.append("won")
        except Conflict:
            results.append("lost")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost"] * 7 + ["won"]
    assert storage.conversation(conversation.id).state == "agent"


# How a conversation reaches each state by legal moves only.
ROUTES = {
    "bot": (),
    "waiting": ("waiting",),
    "agent": ("waiting", "agent"),
    "closed": ("closed",),
}


@pytest.mark.parametrize("after", STATES)
@pytest.mark.parametrize("before", STATES)
def test_a_state_change_the_transition_table_does_not_list_is_refused(
    storage: Storage, before: str, after: str
) -> None:
    conversation = storage.create_conversation("nl").id
    for step in ROUTES[before]:
        storage.set_state(conversation, step)
    if after in TRANSITIONS[before]:
        assert storage.set_state(conversation, after).state == after
    else:
        with pytest.raises(Conflict, match=f"is '{before}', so it cannot become '{after}'"):
            storage.set_state(conversation, after)
        assert storage.conversation(conversation).state == before


def test_a_closed_conversation_is_never_reopened(storage: Storage) -> None:
    conversation = storage.create_conversation("nl").id
    storage.set_state(conversation, "closed")
    for state in STATES:
        with pytest.raises(Conflict, match="cannot become"):
            storage.set_state(conversation, state)


def test_a_conversation_with_the_bot_cannot_skip_the_queue(storage: Storage) -> None:
    conversation = storage.create_conversation("nl").id
    with pytest.raises(Conflict, match="conversation is 'bot', so it cannot become 'agent'"):
        storage.set_state(conversation, "agent")


def test_an_unknown_state_is_a_bad_request(storage: Storage) -> None:
    conversation = storage.create_conversation("nl").id
    with pytest.raises(BadRequest, match="unknown state 'paused'"):
        storage.set_state(conversation, "paused")


def test_concurrent_writers_lose_no_message(storage: Storage) -> None:
    conversation = storage.create_conversation("nl")

    def write(role: str) -> None:
        for i in range(15):
            storage.add_message(conversation.id, role, f"{role} {i}")

    threads = [threading.Thread(target=write, args=(role,)) for role in ("member", "agent")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    messages = storage.messages(conversation.id)
    assert len(messages) == 30
    for role in ("member", "agent"):
        assert [m.text for m in messages if m.role == role] == [f"{role} {i}" for i in range(15)]


def test_queue_position_counts_per_team_oldest_first(storage: Storage) -> None:
    ids = [storage.create_conversation("nl").id for _ in range(3)]
    for conversation_id, team in zip(ids, ["leden", "pers", "leden"], strict=True):
        storage.set_state(conversation_id, "waiting", expect=("bot",), team=team)
    storage.open_handoff(ids[0], "leden", "intent", "a")
    storage.open_handoff(ids[1], "pers", "intent", "b")
    storage.open_handoff(ids[2], "leden", "intent", "c")
    assert [storage.queue_position(i) for i in ids] == [1, 1, 2]
    # Only live entries count: a conversation that waits no more has no place.
    storage.set_state(ids[0], "bot", expect=("waiting",))
    assert [storage.queue_position(i) for i in ids] == [None, 1, 1]
    assert [h.conversation_id for h in storage.handoffs("waiting", team="leden")] == [
        ids[0],
        ids[2],
    ]


def test_bad_database_url_is_a_clear_error() -> None:
    from botbuilder.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot use database URL 'nosuchdb://x'"):
        Storage("nosuchdb://x")
