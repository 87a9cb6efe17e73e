"""The turn policy on its own: the small test bot, matches made by hand, a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from botbuilder.content.loader import load_bot
from botbuilder.content.model import Bot, Button
from botbuilder.content.texts import system_text
from botbuilder.conversations.turns import PERSON_REQUEST, Outcome, chosen, reply
from botbuilder.matching.decision import ANSWER, CLARIFY, HANDOFF, Candidate, Match

from .conftest import SMALL_BOT

NOON = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Amsterdam


@pytest.fixture(scope="module")
def bot() -> Bot:
    return load_bot(SMALL_BOT)


def test_an_answer_match_replies_with_the_intents_answer_and_buttons(bot: Bot) -> None:
    match = Match(ANSWER, "opzeggen", 0.91, (Candidate("opzeggen", 0.91),))
    said = reply(bot, match, "nl", NOON)
    assert said.outcome == Outcome.ANSWER
    assert (said.intent, said.confidence) == ("opzeggen", 0.91)
    assert said.text == "Je zegt op via **Mijn account → Lidmaatschap**."
    assert "<strong>Mijn account → Lidmaatschap</strong>" in said.html
    assert [b.id for b in said.buttons] == [
        "goto:opzegtermijn",
        "url:https://example.org/account",
        "handoff",
    ]
    assert said.handoff is None


def test_the_answer_is_in_the_language_asked_for(bot: Bot) -> None:
    said = reply(bot, Match(ANSWER, "contributie", 0.9, ()), "en", NOON)
    assert said.text == "The fee is 25 euros a year."


def test_a_clarify_match_offers_the_options_and_a_person(bot: Bot) -> None:
    match = Match(CLARIFY, "contributie", 0.4, (), options=("contributie", "wachtwoord"))
    said = reply(bot, match, "nl", NOON)
    assert said.outcome == Outcome.CLARIFY
    assert said.text == system_text("clarify", "nl")
    assert said.options == ("contributie", "wachtwoord")
    assert said.buttons == (
        Button(label="Hoeveel kost het lidmaatschap?", goto="contributie"),
        Button(label="Ik ben mijn wachtwoord vergeten", goto="wachtwoord"),
        Button(label=system_text("something_else", "nl"), handoff=True),
    )
    assert said.handoff is None


def test_an_intent_with_a_team_answers_and_hands_off_to_that_team(bot: Bot) -> None:
    said = reply(bot, Match(ANSWER, "klacht", 0.8, ()), "nl", NOON)
    assert said.outcome == Outcome.HANDOFF
    assert said.text == "Wat vervelend! Ik zet je door naar een collega."
    assert said.handoff is not None
    assert (said.handoff.team, said.handoff.reason) == ("leden", "intent")
    # The answer already says the member is passed on: no second "passing you on".
    assert said.handoff.team_open and said.handoff.text == ""


def test_an_intent_handing_off_to_a_closed_team_adds_the_offline_message(
    bot_dir: Path,
) -> None:
    faq = bot_dir / "faq.yml"
    faq.write_text(faq.read_text().replace("handoff: leden", "handoff: nacht"))
    said = reply(load_bot(bot_dir), Match(ANSWER, "klacht", 0.8, ()), "nl", NOON)
    assert said.handoff is not None and said.handoff.team == "nacht"
    assert not said.handoff.team_open
    assert said.handoff.text == "We zijn er weer op maandag om 9:00. Laat je e-mail achter."


def test_a_person_request_hands_off_to_the_default_team(bot: Bot) -> None:
    said = reply(bot, PERSON_REQUEST, "nl", NOON)
    assert said.outcome == Outcome.HANDOFF
    assert said.text == "" and said.intent is None
    assert said.handoff is not None
    assert (said.handoff.team, said.handoff.reason) == ("leden", "member_request")
    assert said.handoff.text == system_text("handoff", "nl")


def test_a_low_confidence_match_hands_off_saying_the_bot_is_unsure(bot: Bot) -> None:
    said = reply(bot, Match(HANDOFF, "contributie", 0.12, ()), "en", NOON)
    assert said.outcome == Outcome.HANDOFF and said.intent == "contributie"
    assert said.handoff is not None and said.handoff.reason == "low_confidence"
    assert said.handoff.text == system_text("handoff_unsure", "en")


def test_a_button_may_target_a_context_only_intent(bot: Bot) -> None:
    said = reply(bot, chosen("opzegtermijn"), "nl", NOON)
    assert said.outcome == Outcome.ANSWER
    assert (said.intent, said.confidence) == ("opzegtermijn", 1.0)
    assert said.text == "De opzegtermijn is *een maand*."


def test_an_answer_for_an_intent_the_bot_lacks_is_refused(bot: Bot) -> None:
    with pytest.raises(ValueError, match="'bestaat_niet' is not an intent of this bot"):
        reply(bot, chosen("bestaat_niet"), "nl", NOON)


def test_outcomes_are_the_decisions_a_conversation_reports() -> None:
    assert [o.value for o in Outcome] == [ANSWER, CLARIFY, HANDOFF]
