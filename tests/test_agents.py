"""The handoff queue and the agent's moves, on real SQLite files (and PostgreSQL when
BOTBUILDER_TEST_DATABASE_URL is set): every state transition, every forbidden one,
concurrent claims, order of messages, notes, presence and follow-ups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from botbuilder.content.emails import find_email, is_email
from botbuilder.conversations.dialogue import Dialogue
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.states import HANDOFF_STATUSES, TRANSITIONS, check_handoff_move
from botbuilder.conversations.store import Storage
from botbuilder.errors import BadRequest, Conflict
from botbuilder.matching.runtime import BotRuntime

ANN, BOB = "ann@example.org", "bob@example.org"


@pytest.fixture
def queue(storage: Storage) -> HandoffQueue:
    return HandoffQueue(storage, teams=lambda: ["leden", "nacht"])


def conversation_in(storage: Storage, queue: HandoffQueue, state: str) -> str:
    """A conversation brought to `state` the way it gets there in real life."""
    conversation = storage.create_conversation("nl")
    storage.add_message(conversation.id, "member", "Mijn fiets is gestolen", decision="handoff")
    if state == "bot":
        return conversation.id
    storage.set_state(conversation.id, "waiting", expect=("bot",), team="leden")
    storage.open_handoff(conversation.id, "leden", "low_confidence", "Mijn fiets is gestolen")
    if state in ("agent", "closed"):
        queue.claim(conversation.id, ANN)
    if state == "closed":
        queue.close(conversation.id, ANN)
    return conversation.id


MOVES = {
    "claim": lambda q, c: q.claim(c, ANN),
    "reply": lambda q, c: q.reply(c, ANN, "Hallo, ik help je"),
    "transfer": lambda q, c: q.transfer(c, ANN, "nacht"),
    "close": lambda q, c: q.close(c, ANN),
    "hand_back": lambda q, c: q.hand_back(c, ANN),
}
# (move, from state) -> state after; every pair not listed must be a Conflict.
ALLOWED = {
    ("claim", "waiting"): "agent",
    ("reply", "agent"): "agent",
    ("transfer", "waiting"): "waiting",
    ("transfer", "agent"): "waiting",
    ("close", "waiting"): "closed",
    ("close", "agent"): "closed",
    ("hand_back", "agent"): "bot",
}


@pytest.mark.parametrize("state", ["bot", "waiting", "agent", "closed"])
@pytest.mark.parametrize("move", list(MOVES))
def test_every_transition_and_every_forbidden_one(
    storage: Storage, queue: HandoffQueue, move: str, state: str
) -> None:
    conversation = conversation_in(storage, queue, state)
    before = storage.messages(conversation)
    if (move, state) in ALLOWED:
        MOVES[move](queue, conversation)
        assert storage.conversation(conversation).state == ALLOWED[(move, state)]
        said = storage.messages(conversation, before[-1].id)
        assert said, "the member is told about every move"
    else:
        with pytest.raises(Conflict) as refused:
            MOVES[move](queue, conversation)
        assert refused.value.status == 409
        assert "cannot" in refused.value.message
        assert storage.conversation(conversation).state == state
        assert storage.messages(conversation) == before


def test_only_the_agent_who_claimed_may_reply_or_hand_back(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversation = conversation_in(storage, queue, "agent")
    for move in (
        lambda: queue.reply(conversation, BOB, "ik neem het over"),
        lambda: queue.hand_back(conversation, BOB),
        lambda: queue.close(conversation, BOB),
    ):
        with pytest.raises(Conflict, match=ANN):
            move()
    assert storage.conversation(conversation).state == "agent"


def test_two_agents_claiming_at_once_exactly_one_wins(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversations = [conversation_in(storage, queue, "waiting") for _ in range(5)]
    for conversation in conversations:
        start = threading.Barrier(2)
        results: dict[str, str] = {}

        def claim(
            agent: str, conversation: str = conversation, start=start, results=results
        ) -> None:  # type: ignore[no-untyped-def]
            start.wait()
            try:
                queue.claim(conversation, agent)
                results[agent] = "won"
            except Conflict:
                results[agent] = "409"

        threads = [threading.Thread(target=claim, args=(a,)) for a in (ANN, BOB)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == ["409", "won"]
        winner = next(a for a, r in results.items() if r == "won")
        assert queue.owner(conversation) == winner
        joined = [m for m in storage.messages(conversation) if "collega is er nu" in m.text]
        assert len(joined) == 1


def test_member_and_agent_writing_at_once_lose_nothing_and_keep_order(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversation = conversation_in(storage, queue, "agent")
    start = threading.Barrier(2)

    def member() -> None:
        start.wait()
        for i in range(15):
            storage.add_message(conversation, "member", f"member {i}")

    def agent() -> None:
        start.wait()
        for i in range(15):
            queue.reply(conversation, ANN, f"agent {i}")

    threads = [threading.Thread(target=member), threading.Thread(target=agent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    messages = storage.messages(conversation)
    for role in ("member", "agent"):
        texts = [m.text for m in messages if m.role == role and m.text.startswith(role)]
        assert texts == [f"{role} {i}" for i in range(15)]
    ids = [m.id for m in messages]
    assert ids == sorted(ids)


def test_queue_lists_waiting_conversations_per_team_oldest_first(
    storage: Storage, queue: HandoffQueue
) -> None:
    first = conversation_in(storage, queue, "waiting")
    second = conversation_in(storage, queue, "waiting")
    claimed = conversation_in(storage, queue, "agent")
    assert [e.conversation.id for e in queue.waiting()] == [first, second]
    assert [e.conversation.id for e in queue.waiting("nacht")] == []
    assert [e.conversation.id for e in queue.assigned_to(ANN)] == [claimed]
    assert queue.waiting()[0].waiting_seconds >= 0
    queue.transfer(first, BOB, "nacht")
    assert [e.conversation.id for e in queue.waiting("nacht")] == [first]
    assert [e.conversation.id for e in queue.waiting("leden")] == [second]


def test_transfer_to_an_unknown_team_is_refused(storage: Storage, queue: HandoffQueue) -> None:
    conversation = conversation_in(storage, queue, "waiting")
    with pytest.raises(BadRequest, match="no team 'nachtt'"):
        queue.transfer(conversation, ANN, "nachtt")


def test_notes_are_kept_apart_from_the_member_transcript(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversation = conversation_in(storage, queue, "agent")
    queue.note(conversation, ANN, "Lid belt morgen terug")
    assert [n.text for n in queue.notes(conversation)] == ["Lid belt morgen terug"]
    assert all("belt morgen" not in m.text for m in storage.messages(conversation))


def test_empty_reply_is_a_bad_request(storage: Storage, queue: HandoffQueue) -> None:
    conversation = conversation_in(storage, queue, "agent")
    with pytest.raises(BadRequest):
        queue.reply(conversation, ANN, "   ")


def test_the_trigger_message_carries_the_bots_guesses(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversation = storage.create_conversation("nl")
    message = storage.add_message(conversation.id, "member", "fiets gestolen")
    storage.annotate_message(
        message.id, decision="handoff", candidates=[{"intent": "verzekering", "score": 0.31}]
    )
    storage.set_state(conversation.id, "waiting", expect=("bot",), team="leden")
    storage.open_handoff(conversation.id, "leden", "low_confidence", "fiets gestolen")
    trigger = queue.trigger(conversation.id)
    assert trigger is not None and trigger.candidates[0]["intent"] == "verzekering"


def test_presence_goes_away_when_an_agent_falls_silent(storage: Storage) -> None:
    now = [datetime(2025, 3, 3, 10, 0, tzinfo=UTC)]
    queue = HandoffQueue(storage, clock=lambda: now[0])
    assert not queue.nobody_online()  # a console never opened changes nothing
    queue.set_presence(ANN, "online")
    assert queue.presence() == {ANN: "online"} and not queue.nobody_online()
    now[0] += timedelta(minutes=5)
    assert queue.presence() == {ANN: "away"} and queue.nobody_online()
    queue.set_presence(ANN, "online")
    queue.set_presence(BOB, "away")
    assert queue.presence() == {ANN: "online", BOB: "away"}
    with pytest.raises(BadRequest):
        queue.set_presence(ANN, "busy")


@pytest.mark.parametrize(
    "text, valid",
    [
        ("jan@example.org", True),
        ("j.de.vries+fiets@groene-spaak.nl", True),
        ("jan@example", False),
        ("jan example.org", False),
        ("@example.org", False),
        ("jan@@example.org", False),
    ],
)
def test_email_validation(text: str, valid: bool) -> None:
    assert is_email(text) is valid


@pytest.mark.parametrize(
    "text, found",
    [
        ("Mail me at (jan@example.org).", "jan@example.org"),
        ("mijn adres: <j.de.vries@groene-spaak.nl>, dank", "j.de.vries@groene-spaak.nl"),
        ("jan@example is what I have", "jan@example"),
        ("no address here, or @ alone", None),
    ],
)
def test_an_address_in_running_text_is_found_valid_or_not(text: str, found: str | None) -> None:
    assert find_email(text) == found


# -- the state tables ---------------------------------------------------------------------


def test_every_move_of_the_queue_is_a_transition_the_conversation_table_allows() -> None:
    for (_move, before), after in ALLOWED.items():
        assert after in TRANSITIONS[before], f"{before} -> {after}"


@pytest.mark.parametrize("ended", ["transferred", "closed", "returned"])
def test_an_ended_handoff_never_changes_again(ended: str) -> None:
    for status in HANDOFF_STATUSES:
        with pytest.raises(Conflict, match=f"the handoff is '{ended}', so it cannot become"):
            check_handoff_move(ended, status)


def test_a_claimed_handoff_cannot_be_claimed_again_even_when_its_conversation_waits(
    storage: Storage, queue: HandoffQueue
) -> None:
    conversation = conversation_in(storage, queue, "agent")
    storage.set_state(conversation, "waiting")  # ANN's handoff stays claimed
    before = storage.messages(conversation)
    with pytest.raises(Conflict, match="the handoff is 'claimed', so it cannot become 'claimed'"):
        queue.claim(conversation, BOB)
    assert storage.conversation(conversation).state == "waiting"
    assert queue.owner(conversation) == ANN
    assert storage.messages(conversation) == before


# -- through the dialogue: nobody there, an e-mail address instead ----------------------


@pytest.fixture
def runtime(bot_dir: Path, encoder) -> BotRuntime:  # type: ignore[no-untyped-def]
    return BotRuntime(bot_dir, encoder=encoder, check_interval=0)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Storage]:
    store = Storage(f"sqlite:///{tmp_path / 'd.sqlite'}")
    yield store
    store.close()


def test_no_agent_online_offers_email_and_makes_a_follow_up(
    runtime: BotRuntime, sqlite: Storage
) -> None:
    dialogue = Dialogue(runtime, sqlite)
    dialogue.queue.set_presence(ANN, "away")
    conversation = dialogue.start().conversation.id
    turn = dialogue.receive_text(conversation, "medewerker")
    assert turn.conversation.state == "waiting"
    assert "geen collega beschikbaar" in turn.messages[-1].text
    bad = dialogue.receive_text(conversation, "jan@example")
    assert "geen geldig e-mailadres" in bad.messages[0].text
    assert dialogue.queue.follow_ups() == []
    good = dialogue.receive_text(
        conversation, "Mijn mail is jan@example.org, het gaat over mijn factuur"
    )
    assert "jan@example.org" in good.messages[0].text
    (item,) = dialogue.queue.follow_ups()
    assert item.email == "jan@example.org" and item.team == "leden"
    # The question reads as the member meant it: no failed try at an address, no
    # "Mijn mail is ," left behind.
    assert item.question == "medewerker\nhet gaat over mijn factuur" and item.language == "nl"
    # still in the queue: an agent who comes online can take it
    assert [e.conversation.id for e in dialogue.queue.waiting()] == [conversation]
    # an address typed later is just a message
    assert dialogue.receive_text(conversation, "piet@example.org").messages == []


def test_outside_office_hours_the_offer_is_made_and_the_address_taken(
    bot_dir: Path, encoder, sqlite: Storage
) -> None:  # type: ignore[no-untyped-def]
    (bot_dir / "faq.yml").write_text(
        (bot_dir / "faq.yml").read_text().replace("handoff: leden", "handoff: nacht")
    )
    runtime = BotRuntime(bot_dir, encoder=encoder, check_interval=0)
    # Sunday 30 March 2025, 12:00 in Amsterdam: the day clocks went forward; 'nacht' is closed
    noon = datetime(2025, 3, 30, 10, 0, tzinfo=UTC)
    dialogue = Dialogue(runtime, sqlite, clock=lambda: noon)
    conversation = dialogue.start().conversation.id
    turn = dialogue.receive_text(conversation, "Ik wil een klacht indienen")
    assert turn.conversation.team == "nacht"
    assert any("Laat je e-mail achter" in m.text for m in turn.messages)
    dialogue.receive_text(conversation, "lid@example.org")
    (item,) = dialogue.queue.follow_ups(team="nacht")
    assert item.email == "lid@example.org"


def test_unclaimed_too_long_offers_the_email_option_once(
    runtime: BotRuntime, sqlite: Storage
) -> None:
    dialogue = Dialogue(runtime, sqlite)
    conversation = dialogue.start().conversation.id
    turn = dialogue.receive_text(conversation, "medewerker")
    cursor = turn.member_message.id if turn.member_message else None
    _, fresh = dialogue.updates(conversation, cursor)
    assert all("langer dan" not in m.text for m in fresh)
    dialogue.unclaimed_after = timedelta(0)
    _, late = dialogue.updates(conversation, cursor)
    assert sum("langer dan" in m.text for m in late) == 1
    _, again = dialogue.updates(conversation, cursor)
    assert sum("langer dan" in m.text for m in again) == 1
    dialogue.receive_text(conversation, "jan@example.org")
    assert [f.email for f in dialogue.queue.follow_ups()] == ["jan@example.org"]


def test_a_handed_back_conversation_is_answered_by_the_bot_again(
    runtime: BotRuntime, sqlite: Storage
) -> None:
    dialogue = Dialogue(runtime, sqlite)
    conversation = dialogue.start().conversation.id
    dialogue.receive_text(conversation, "medewerker")
    dialogue.queue.claim(conversation, ANN)
    assert dialogue.receive_text(conversation, "hallo?").messages == []
    dialogue.queue.hand_back(conversation, ANN)
    turn = dialogue.receive_text(conversation, "Hoeveel kost het lidmaatschap?")
    assert turn.decision == "answer" and "25 euro" in turn.messages[0].text


def test_handoff_listeners_hear_of_each_new_handoff_and_cannot_break_it(
    runtime: BotRuntime, sqlite: Storage
) -> None:
    dialogue = Dialogue(runtime, sqlite)
    heard = []
    dialogue.handoff_listeners.append(lambda h, c: heard.append((h.team, h.question)))
    dialogue.handoff_listeners.append(lambda h, c: 1 / 0)
    conversation = dialogue.start().conversation.id
    turn = dialogue.receive_text(conversation, "medewerker")
    assert turn.conversation.state == "waiting"
    assert heard == [("leden", "medewerker")]
