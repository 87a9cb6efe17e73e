"""The dialogue engine and the bot runtime, on a real SQLite file and the real model."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from botbuilder.content.loader import load_bot
from botbuilder.content.model import TeamSettings
from botbuilder.conversations.dialogue import Dialogue
from botbuilder.conversations.office_hours import is_open, next_opening
from botbuilder.conversations.store import Storage
from botbuilder.errors import Conflict, FlowError
from botbuilder.matching.runtime import BotRuntime


@pytest.fixture
def runtime(bot_dir: Path, encoder) -> BotRuntime:  # type: ignore[no-untyped-def]
    return BotRuntime(bot_dir, encoder=encoder, check_interval=0)


@pytest.fixture
def storage(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Storage(f"sqlite:///{tmp_path / 'd.sqlite'}")
    yield store
    store.close()


def test_state_moves_bot_to_waiting_and_opens_one_queue_entry(
    runtime: BotRuntime, storage: Storage
) -> None:
    dialogue = Dialogue(runtime, storage)
    conversation = dialogue.start().conversation
    turn = dialogue.receive_text(conversation.id, "medewerker")
    assert turn.decision == "handoff" and turn.conversation.state == "waiting"
    assert turn.conversation.team == "leden"  # the first team is the default
    assert len(storage.handoffs("waiting")) == 1
    silent = dialogue.receive_text(conversation.id, "hallo?")
    assert silent.decision is None and silent.messages == []
    assert len(storage.handoffs("waiting")) == 1


def test_button_in_waiting_state_is_a_conflict(runtime: BotRuntime, storage: Storage) -> None:
    dialogue = Dialogue(runtime, storage)
    conversation = dialogue.start().conversation
    dialogue.receive_text(conversation.id, "Hoe zeg ik mijn lidmaatschap op?")
    storage.set_state(conversation.id, "waiting")
    with pytest.raises(Conflict):
        dialogue.press_button(conversation.id, "goto:opzegtermijn")


def test_outside_office_hours_the_member_gets_the_offline_message(
    bot_dir: Path, encoder, storage: Storage
) -> None:  # type: ignore[no-untyped-def]
    (bot_dir / "faq.yml").write_text(
        (bot_dir / "faq.yml").read_text().replace("handoff: leden", "handoff: nacht")
    )
    (bot_dir / "faq_en.yml").write_text(
        (bot_dir / "faq_en.yml").read_text().replace("handoff: leden", "handoff: nacht")
    )
    runtime = BotRuntime(bot_dir, encoder=encoder)
    noon = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    dialogue = Dialogue(runtime, storage, clock=lambda: noon)
    conversation = dialogue.start().conversation
    turn = dialogue.receive_text(conversation.id, "Ik wil een klacht indienen")
    texts = [m.text for m in turn.messages]
    assert texts[-1] == "We zijn er weer op maandag om 9:00. Laat je e-mail achter."
    assert turn.conversation.team == "nacht"


def test_office_hours_follow_the_team_time_zone_across_dst() -> None:
    from datetime import time as t

    team = TeamSettings(name="leden", hours={d: ((t(9), t(17)),) for d in range(5)})
    # 08:30 UTC is 09:30 in Amsterdam in winter (CET) but 10:30 in summer (CEST).
    assert is_open(team, datetime(2026, 1, 14, 8, 30, tzinfo=UTC))
    assert not is_open(team, datetime(2026, 1, 14, 7, 30, tzinfo=UTC))  # 08:30 CET
    assert is_open(team, datetime(2026, 7, 15, 7, 30, tzinfo=UTC))  # 09:30 CEST
    assert not is_open(team, datetime(2026, 1, 17, 12, 0, tzinfo=UTC))  # Saturday
    friday_evening = datetime(2026, 3, 27, 18, 0, tzinfo=UTC)  # DST starts Sunday 29 March
    assert next_opening(team, friday_evening) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_closed_day_closes_the_team() -> None:
    from datetime import date
    from datetime import time as t

    team = TeamSettings(
        name="leden",
        hours={d: ((t(9), t(17)),) for d in range(5)},
        closed_days=(date(2026, 12, 25),),
    )
    assert not is_open(team, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    assert next_opening(team, datetime(2026, 12, 25, 10, 0, tzinfo=UTC)).day == 28  # type: ignore[union-attr]


def test_team_without_hours_is_always_open() -> None:
    assert is_open(TeamSettings(name="x"), datetime(2026, 12, 25, 3, 0, tzinfo=UTC))


def test_language_falls_back_to_the_conversation_language_for_short_messages(
    runtime: BotRuntime, storage: Storage
) -> None:
    dialogue = Dialogue(runtime, storage)
    conversation = dialogue.start("en").conversation
    turn = dialogue.receive_text(conversation.id, "wachtwoord")  # no function words: keep English
    assert turn.conversation.language == "en"
    turn = dialogue.receive_text(conversation.id, "Hoe kan ik mijn wachtwoord veranderen?")
    assert turn.conversation.language == "nl"
    assert turn.messages[0].text.startswith("Klik op")


def test_clarify_offers_at_most_three_options_and_a_person(
    bot_dir: Path,
    encoder,  # type: ignore[no-untyped-def]
    storage: Storage,
) -> None:
    # Fixed thresholds: this is about the dialogue, not about calibration.
    # "lid" splits between cancelling and the fee, and is asked back.
    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + "matcher:\n  answer_threshold: 0.7\n  clarify_threshold: 0.45\n",
        encoding="utf-8",
    )
    dialogue = Dialogue(BotRuntime(bot_dir, encoder=encoder, check_interval=0), storage)
    question = "lid"
    conversation = dialogue.start().conversation
    turn = dialogue.receive_text(conversation.id, question)
    (message,) = turn.messages
    assert message.text == "Bedoelde je…?"
    assert 1 <= len(message.buttons) - 1 <= 3
    assert message.buttons[-1] == {"id": "handoff", "label": "Iets anders / een medewerker"}
    first = message.buttons[0]["id"]
    answered = dialogue.press_button(conversation.id, first)
    assert answered.decision == "answer"
    assert answered.messages[0].intent == first.removeprefix("goto:")


def test_broken_edit_never_replaces_the_running_bot(bot_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    runtime = BotRuntime(bot_dir, encoder=encoder, check_interval=0)
    working = runtime.current()
    (bot_dir / "faq.yml").write_text("intents:\n  - id: x\n   questions: [oops\n")
    time.sleep(0.01)
    assert runtime.current() is working
    assert isinstance(runtime.last_error, FlowError)
    assert "faq.yml:3:" in str(runtime.last_error)


def test_good_edit_is_picked_up_without_restart(bot_dir: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    runtime = BotRuntime(bot_dir, encoder=encoder, check_interval=0)
    path = bot_dir / "faq.yml"
    path.write_text(
        path.read_text().replace("De contributie is 25 euro per jaar.", "Nu 30 euro per jaar.")
    )
    loaded = runtime.current()
    assert loaded.bot.intent("contributie", "nl").answer == "Nu 30 euro per jaar."  # type: ignore[union-attr]
    assert runtime.last_error is None


def test_starting_with_broken_flows_raises_flow_error(tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "faq.yml").write_text("intents: [")
    with pytest.raises(FlowError):
        BotRuntime(tmp_path, encoder=encoder)


def test_greeting_defaults_per_language(tmp_path: Path, encoder, storage: Storage) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bot.yml").write_text("language: en\n")
    (tmp_path / "faq.yml").write_text("intents:\n  - id: a\n    questions: [q]\n    answer: x\n")
    runtime = BotRuntime(tmp_path, encoder=encoder)
    assert load_bot(tmp_path).settings.language == "en"
    turn = Dialogue(runtime, storage).start()
    assert turn.messages[0].text == "Hi! How can I help you?"
