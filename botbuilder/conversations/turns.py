"""The turn policy: what the bot replies to one understood member message.

One pure function, `reply`, turns (bot, match, language, time) into a frozen
`Reply` with an explicit `Outcome`. The widget's dialogue, the Rasa action and
the editor's "try it" all call it, so a member gets the same answer, the same
"did you mean…?" and the same handoff everywhere; each caller only stores,
sends or shows the reply in its own way. No storage, no clock, no I/O here:
the time is an argument, so office hours are decided the same way in a test.

What the policy does not know is whether an agent is online; that needs the
queue, so the dialogue decides it after the reply (see `TeamHandoff.team_open`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from botbuilder.content.model import Bot, Button, Intent
from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.office_hours import handoff_text, team_is_open
from botbuilder.matching.decision import ANSWER, CLARIFY, HANDOFF, Match

__all__ = [
    "TeamHandoff",
    "Outcome",
    "Reply",
    "PERSON_REQUEST",
    "chosen",
    "reply",
]


class Outcome(StrEnum):
    """What the bot does with a member's message; its value is the decision a turn reports."""

    ANSWER = ANSWER  # says an intent's answer and keeps the conversation
    CLARIFY = CLARIFY  # asks "did you mean…?" with the closest intents as buttons
    HANDOFF = HANDOFF  # passes the conversation to a team, after the intent's answer if any


@dataclass(frozen=True)
class TeamHandoff:
    """The team a conversation goes to, and what the member reads about it."""

    team: str
    reason: str  # member_request | low_confidence | intent
    team_open: bool  # within the team's office hours at the turn's time
    # The handoff message: the offline message when the team is closed, else the
    # "passing you on" phrase, or "" when the intent's answer already said so.
    text: str


@dataclass(frozen=True)
class Reply:
    """The bot's reply to one member message."""

    outcome: Outcome
    intent: str | None  # the answered intent, or the matcher's best guess
    confidence: float
    text: str = ""  # the answer or the "did you mean…?" question; "" for a bare handoff
    html: str = ""
    buttons: tuple[Button, ...] = ()  # under the text: the intent's, or the clarify options
    options: tuple[str, ...] = ()  # the intents offered when clarifying
    handoff: TeamHandoff | None = None


# A member who pressed "talk to a person", or asked for one in words.
PERSON_REQUEST = Match(HANDOFF, None, 1.0, ())


def chosen(intent_id: str) -> Match:
    """The match of a button that names an intent: that intent, for certain.

    A button may name a context_only intent, which the matcher never returns.
    """
    return Match(ANSWER, intent_id, 1.0, ())


def reply(bot: Bot, match: Match, language: str, at: datetime) -> Reply:
    """The bot's reply to a message understood as `match`, in `language`, at time `at`."""
    if match.decision == ANSWER and match.intent is not None:
        intent = bot.intent(match.intent, language)
        if intent is None:
            raise ValueError(f"'{match.intent}' is not an intent of this bot")
        return _answer(bot, intent, language, match.confidence, at)
    if match.decision == CLARIFY:
        return _clarify(bot, match, language)
    reason = "member_request" if match.intent is None else "low_confidence"
    return Reply(
        Outcome.HANDOFF,
        match.intent,
        match.confidence,
        handoff=_handoff(bot, bot.settings.handoff.default_team, reason, language, at),
    )


def _answer(bot: Bot, intent: Intent, language: str, confidence: float, at: datetime) -> Reply:
    handoff = None
    if intent.handoff_team is not None:
        handoff = _handoff(bot, intent.handoff_team, "intent", language, at, acknowledged=True)
    return Reply(
        Outcome.HANDOFF if handoff else Outcome.ANSWER,
        intent.id,
        confidence,
        text=intent.answer,
        html=render_markdown(intent.answer),
        buttons=intent.buttons,
        handoff=handoff,
    )


def _clarify(bot: Bot, match: Match, language: str) -> Reply:
    buttons = []
    for option in match.options:
        intent = bot.intent(option, language)
        if intent is not None:
            buttons.append(Button(label=_title(intent), goto=option))
    buttons.append(Button(label=system_text("something_else", language), handoff=True))
    text = system_text("clarify", language)
    return Reply(
        Outcome.CLARIFY,
        match.intent,
        match.confidence,
        text=text,
        html=render_markdown(text),
        buttons=tuple(buttons),
        options=match.options,
    )


def _handoff(
    bot: Bot, team: str, reason: str, language: str, at: datetime, acknowledged: bool = False
) -> TeamHandoff:
    team = team or bot.settings.handoff.default_team
    is_open = team_is_open(bot, team, at)
    text = handoff_text(bot, team, language, reason, at)
    if acknowledged and is_open:
        # An intent that hands off has already said its own words.
        text = ""
    return TeamHandoff(team=team, reason=reason, team_open=is_open, text=text)


def _title(intent: Intent) -> str:
    """How an intent is named in a "did you mean" button: its first example question."""
    return intent.questions[0] if intent.questions else intent.id
