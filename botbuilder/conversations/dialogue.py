"""The dialogue engine: one member message in, the bot's messages out.

Conversation states:

    bot ──handoff──▶ waiting ──claim──▶ agent ──hand back──▶ bot
      ╲                 ╲                 ╲
       ╰──────────────── closed ◀──────────╯

A member's message is stored before anything else happens, so nothing a
member says is lost if matching fails. In `waiting` and `agent` the bot
stays silent and the message waits for the agent, with one exception: when
nobody can answer (outside office hours, no agent online, or nobody claimed
the conversation within `unclaimed_after`), the member is offered to leave an
e-mail address, and an address they then type becomes a follow-up item for
the team (see `botbuilder.conversations.queue`). The conversation stays in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botbuilder.content.languages import guess_language
from botbuilder.content.model import Bot, Intent
from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.office_hours import handoff_text, team_is_open
from botbuilder.conversations.queue import HandoffQueue, find_email, is_email
from botbuilder.conversations.store import (
    ConversationRecord,
    HandoffRecord,
    MessageRecord,
    Storage,
    utcnow,
)
from botbuilder.errors import BadRequest, Conflict, PayloadTooLarge
from botbuilder.matching.matcher import ANSWER, CLARIFY, HANDOFF, Match
from botbuilder.matching.runtime import BotRuntime
from botbuilder.matching.understanding import understand

__all__ = ["Dialogue", "Turn", "MAX_MESSAGE_CHARS"]

MAX_MESSAGE_CHARS = 2000
# How long a conversation may wait unclaimed before the member is offered the e-mail option.
UNCLAIMED_AFTER = timedelta(minutes=5)

log = logging.getLogger(__name__)

# Called after each new handoff (e.g. to send a team's webhook); must not block.
HandoffListener = Callable[[HandoffRecord, ConversationRecord], None]


@dataclass(frozen=True)
class Turn:
    """What one member action produced."""

    conversation: ConversationRecord
    decision: str | None  # answer | clarify | handoff, None when the bot stays silent
    messages: list[MessageRecord] = field(default_factory=list)
    member_message: MessageRecord | None = None


class Dialogue:
    """Runs conversations of one bot against one storage."""

    def __init__(
        self,
        runtime: BotRuntime,
        storage: Storage,
        clock: Callable[[], datetime] = utcnow,
        queue: HandoffQueue | None = None,
    ) -> None:
        self.runtime = runtime
        self.storage = storage
        self.clock = clock
        # The server passes its one queue; a dialogue on its own (CLI chat, Rasa) makes one.
        self.queue = queue if queue is not None else HandoffQueue(storage, clock=clock)
        self.unclaimed_after: timedelta | None = UNCLAIMED_AFTER
        self.handoff_listeners: list[HandoffListener] = []

    # -- starting -------------------------------------------------------------

    def start(self, language: str | None = None) -> Turn:
        """A new conversation with the greeting in the member's language."""
        bot = self.runtime.current().bot
        if language is not None and language not in bot.languages:
            raise BadRequest(
                f"language '{language}' is not one of this bot's: {', '.join(bot.languages)}"
            )
        lang = language or bot.settings.language
        conversation = self.storage.create_conversation(lang)
        text = bot.settings.greeting.get(lang) or system_text("greeting", lang)
        greeting = self._say(conversation.id, text)
        return Turn(conversation, None, [greeting])

    # -- member messages ------------------------------------------------------

    def receive_text(self, conversation_id: str, text: Any) -> Turn:
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("'text' must be a non-empty string")
        text = text.strip()
        if len(text) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(
                f"a message may be at most {MAX_MESSAGE_CHARS} characters; this one has {len(text)}"
            )
        conversation = self._open_conversation(conversation_id)
        loaded = self.runtime.current()
        bot = loaded.bot
        member = self.storage.add_message(conversation_id, "member", text)
        language = guess_language(text, bot.languages) or conversation.language
        if language != conversation.language:
            # Only the language: writing the state back could undo an agent's claim
            # made in the meantime by another process.
            conversation = self.storage.set_language(conversation_id, language)
        if conversation.state == "waiting":
            return Turn(conversation, None, self._follow_up_step(conversation, member), member)
        if conversation.state != "bot":
            return Turn(conversation, None, [], member)

        match = understand(loaded.matcher, text)
        member = self.storage.annotate_message(
            member.id,
            decision=match.decision,
            intent=match.intent,
            confidence=match.confidence,
            candidates=[{"intent": c.intent, "score": c.score} for c in match.candidates],
        )
        if match.decision == ANSWER and match.intent:
            return self._answer(conversation, bot, match.intent, member, match.confidence)
        if match.decision == CLARIFY:
            return self._clarify(conversation, bot, match, member)
        reason = "member_request" if match.intent is None else "low_confidence"
        return self._handoff(conversation, bot, reason, text, member)

    def press_button(self, conversation_id: str, button_id: Any) -> Turn:
        """A quick reply from the conversation's last bot message."""
        if not isinstance(button_id, str) or not button_id:
            raise BadRequest("'button' must be the id of a button of the last bot message")
        conversation = self._open_conversation(conversation_id)
        last = self.storage.last_message(conversation_id, ("bot", "agent"))
        offered = {b["id"]: b for b in (last.buttons if last else ())}
        if button_id not in offered:
            raise BadRequest(
                f"button '{button_id}' is not offered in this conversation's last bot message"
            )
        button = offered[button_id]
        if button.get("url"):
            raise BadRequest(f"button '{button_id}' is a link; open its url instead")
        if conversation.state != "bot":
            raise Conflict(
                f"the conversation is '{conversation.state}'; buttons answer only in 'bot'"
            )
        bot = self.runtime.current().bot
        member = self.storage.add_message(conversation_id, "member", button["label"])
        if button_id == "handoff":
            member = self.storage.annotate_message(member.id, decision=HANDOFF)
            return self._handoff(conversation, bot, "member_request", button["label"], member)
        target = button_id.removeprefix("goto:")
        if bot.intent(target, conversation.language) is None:
            raise Conflict(
                f"'{target}' is no longer an answer of this bot; ask your question again"
            )
        member = self.storage.annotate_message(
            member.id, decision=ANSWER, intent=target, confidence=1.0
        )
        return self._answer(conversation, bot, target, member, 1.0)

    def feedback(self, conversation_id: str, message_id: Any, helpful: Any) -> None:
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise BadRequest("'message_id' must be the id (a number) of a bot message")
        if not isinstance(helpful, bool):
            raise BadRequest("'helpful' must be true or false")
        self.storage.conversation(conversation_id)
        self.storage.set_feedback(conversation_id, message_id, helpful)

    def updates(
        self, conversation_id: str, after: int | None
    ) -> tuple[ConversationRecord, list[MessageRecord]]:
        conversation = self.storage.conversation(conversation_id)
        if conversation.state == "waiting":
            self._offer_when_unclaimed(conversation)
        return conversation, self.storage.messages(conversation_id, after)

    # -- outcomes -------------------------------------------------------------

    def _answer(
        self,
        conversation: ConversationRecord,
        bot: Bot,
        intent_id: str,
        member: MessageRecord,
        confidence: float,
    ) -> Turn:
        intent = bot.intent(intent_id, conversation.language)
        assert intent is not None  # the matcher only returns intents of this bot
        message = self._say(
            conversation.id,
            intent.answer,
            buttons=_buttons(intent),
            intent=intent.id,
            decision=ANSWER,
            confidence=confidence,
        )
        if intent.handoff_team is not None:
            turn = self._handoff(
                conversation,
                bot,
                "intent",
                member.text,
                member,
                team=intent.handoff_team,
                acknowledged=True,
            )
            return Turn(turn.conversation, HANDOFF, [message, *turn.messages], member)
        return Turn(conversation, ANSWER, [message], member)

    def _clarify(
        self, conversation: ConversationRecord, bot: Bot, match: Match, member: MessageRecord
    ) -> Turn:
        lang = conversation.language
        buttons = []
        for option in match.options:
            intent = bot.intent(option, lang)
            if intent is not None:
                buttons.append({"id": f"goto:{option}", "label": _title(intent)})
        buttons.append({"id": "handoff", "label": system_text("something_else", lang)})
        message = self._say(
            conversation.id,
            system_text("clarify", lang),
            buttons=buttons,
            decision=CLARIFY,
            intent=match.intent,
            confidence=match.confidence,
        )
        return Turn(conversation, CLARIFY, [message], member)

    def _handoff(
        self,
        conversation: ConversationRecord,
        bot: Bot,
        reason: str,
        question: str,
        member: MessageRecord,
        team: str | None = None,
        acknowledged: bool = False,
    ) -> Turn:
        lang = conversation.language
        team = team or bot.settings.handoff.default_team
        conversation = self.storage.set_state(
            conversation.id, "waiting", expect=("bot",), team=team
        )
        entry = self.storage.open_handoff(conversation.id, team, reason, question)
        messages = []
        now = self.clock()
        text = handoff_text(bot, team, lang, reason, now)
        if not team_is_open(bot, team, now):
            self.queue.offer_follow_up(conversation.id, team, lang, question)
        elif self.queue.nobody_online():
            text = system_text("no_agent", lang)
            self.queue.offer_follow_up(conversation.id, team, lang, question)
        for listener in self.handoff_listeners:
            try:
                listener(entry, conversation)
            except Exception:  # a notification must never cost the member their handoff
                log.exception("handoff listener failed for conversation %s", conversation.id)
        waiting_for_agent = text in (
            system_text("handoff", lang),
            system_text("handoff_unsure", lang),
        )
        if waiting_for_agent:
            position = self.storage.queue_position(conversation.id)
            place = (
                system_text("queue_position", lang).format(position=position) if position else ""
            )
            # An intent that hands off has already said its own words: add only the place.
            text = place if acknowledged else f"{text} {place}".strip()
        if text:
            messages.append(self._say(conversation.id, text, decision=HANDOFF))
        return Turn(conversation, HANDOFF, messages, member)

    # -- nobody there: an e-mail address instead ------------------------------

    def _follow_up_step(
        self, conversation: ConversationRecord, member: MessageRecord
    ) -> list[MessageRecord]:
        """In `waiting`: take an e-mail address the member was asked for, else stay silent."""
        self._offer_when_unclaimed(conversation)
        offer = self.queue.asked_follow_up(conversation.id)
        if offer is None:
            return []
        lang = conversation.language
        email = find_email(member.text)
        if email is None:
            return []
        if not is_email(email):
            return [
                self._say(conversation.id, system_text("email_invalid", lang).format(email=email))
            ]
        later = [
            m.text
            for m in self.storage.messages(conversation.id)
            if m.role == "member" and m.created_at >= offer.created_at and m.id != member.id
        ]
        rest = member.text.replace(email, "").strip(" ,.:;-")
        question = "\n".join(t for t in [offer.question, *later, rest] if t)
        self.queue.leave_email(conversation.id, email, question)
        return [self._say(conversation.id, system_text("email_thanks", lang).format(email=email))]

    def _offer_when_unclaimed(self, conversation: ConversationRecord) -> None:
        """Offer the e-mail option once when the conversation waited too long unclaimed."""
        if self.unclaimed_after is None:
            return
        handoff = self.queue.current_handoff(conversation.id)
        if handoff is None or handoff.status != "waiting":
            return
        if self.clock() - handoff.created_at < self.unclaimed_after:
            return
        if self.queue.follow_up_since(conversation.id, handoff.created_at):
            return
        self.queue.offer_follow_up(
            conversation.id, handoff.team, conversation.language, handoff.question
        )
        self._say(conversation.id, system_text("still_waiting", conversation.language))

    # -- helpers --------------------------------------------------------------

    def _open_conversation(self, conversation_id: str) -> ConversationRecord:
        conversation = self.storage.conversation(conversation_id)
        if conversation.state == "closed":
            raise Conflict("this conversation is closed; start a new one")
        return conversation

    def _say(self, conversation_id: str, text: str, **fields: Any) -> MessageRecord:
        return self.storage.add_message(
            conversation_id, "bot", text, html=render_markdown(text), **fields
        )


def _title(intent: Intent) -> str:
    """How an intent is named in a "did you mean" button: its first example question."""
    return intent.questions[0] if intent.questions else intent.id


def _buttons(intent: Intent) -> list[dict[str, str]]:
    buttons = []
    for button in intent.buttons:
        entry = {"id": button.id, "label": button.label}
        if button.url:
            entry["url"] = button.url
        buttons.append(entry)
    return buttons
