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

from botbuilder.content.emails import find_email, is_email, without_address
from botbuilder.content.languages import guess_language
from botbuilder.content.model import Button
from botbuilder.content.personal_data import mask_personal_data
from botbuilder.content.plain_text import plain_text
from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.announcements import Announcements
from botbuilder.conversations.lifecycle import Left, Lifecycle
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.store import ConversationRecord, HandoffRecord, MessageRecord, Storage
from botbuilder.conversations.turns import (
    PERSON_REQUEST,
    Outcome,
    Reply,
    TeamHandoff,
    chosen,
    reply,
)
from botbuilder.db.base import utcnow
from botbuilder.errors import BadRequest, Conflict, PayloadTooLarge
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
    decision: Outcome | None  # None when the bot stays silent
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
        announcements: Announcements | None = None,
    ) -> None:
        self.runtime = runtime
        self.storage = storage
        self.clock = clock
        # The server passes its one queue; a dialogue on its own (CLI chat, Rasa) makes one.
        self.queue = queue if queue is not None else HandoffQueue(storage, clock=clock)
        self.announcements = announcements if announcements is not None else Announcements(storage)
        self.unclaimed_after: timedelta | None = UNCLAIMED_AFTER
        self.handoff_listeners: list[HandoffListener] = []
        # Leaving the queue, closing, abandoned chats; on this dialogue's clock, read when used.
        self.lifecycle = Lifecycle(storage, self._abandoned_after, clock=lambda: self.clock())

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
        text = plain_text(text.strip(), "a message")
        if len(text) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(
                f"a message may be at most {MAX_MESSAGE_CHARS} characters; this one has {len(text)}"
            )
        conversation = self._open_conversation(conversation_id)
        loaded = self.runtime.current()
        bot = loaded.bot
        member = self.storage.add_message(conversation_id, "member", self._masked(text))
        language = guess_language(text, bot.languages) or conversation.language
        if language != conversation.language:
            # Only the language: writing the state back could undo an agent's claim
            # made in the meantime by another process.
            conversation = self.storage.set_language(conversation_id, language)
        if conversation.state == "waiting":
            return Turn(
                conversation, None, self._follow_up_step(conversation, member, text), member
            )
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
        answer = reply(bot, match, conversation.language, self.clock())
        return self._reply(conversation, answer, member)

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
        now = self.clock()
        if button_id == "handoff":
            member = self.storage.annotate_message(member.id, decision=Outcome.HANDOFF.value)
            answer = reply(bot, PERSON_REQUEST, conversation.language, now)
            return self._reply(conversation, answer, member)
        target = button_id.removeprefix("goto:")
        if bot.intent(target, conversation.language) is None:
            raise Conflict(
                f"'{target}' is no longer an answer of this bot; ask your question again"
            )
        member = self.storage.annotate_message(
            member.id, decision=Outcome.ANSWER.value, intent=target, confidence=1.0
        )
        answer = reply(bot, chosen(target), conversation.language, now)
        return self._reply(conversation, answer, member)

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
            self.lifecycle.touch(conversation_id)  # asking for news: the member is still there
            self.lifecycle.sweep()
            self._offer_when_unclaimed(conversation)
            conversation = self.storage.conversation(conversation_id)
        return conversation, self.storage.messages(conversation_id, after)

    def leave(self, conversation_id: str, back_to_bot: bool) -> Left:
        """The member stops waiting (back to the bot) or ends the conversation (close)."""
        if back_to_bot:
            return self.lifecycle.back_to_bot(conversation_id)
        return self.lifecycle.close(conversation_id)

    def _abandoned_after(self) -> timedelta:
        return timedelta(minutes=self.runtime.current().bot.settings.handoff.abandoned_after)

    # -- outcomes -------------------------------------------------------------

    def _reply(
        self, conversation: ConversationRecord, answer: Reply, member: MessageRecord
    ) -> Turn:
        """Say the reply in the conversation, and hand the conversation over if it says so.

        A running announcement that overrides the answered intent is said first.
        """
        answered = answer.intent if answer.text and answer.outcome == Outcome.ANSWER else None
        default = self.runtime.current().bot.settings.language
        messages = [
            self._say(conversation.id, notice.text(conversation.language, default))
            for notice in self.announcements.overriding(answered)
        ]
        if answer.text:
            # With a handoff after it, the intent's answer is still an answer.
            said = Outcome.CLARIFY if answer.outcome == Outcome.CLARIFY else Outcome.ANSWER
            messages.append(
                self._say(
                    conversation.id,
                    answer.text,
                    html=answer.html,
                    buttons=_buttons(answer.buttons),
                    decision=said.value,
                    intent=answer.intent,
                    confidence=answer.confidence,
                )
            )
        if answer.handoff is not None:
            conversation, handed = self._hand_off(conversation, answer.handoff, member)
            messages += handed
        return Turn(conversation, answer.outcome, messages, member)

    def _hand_off(
        self, conversation: ConversationRecord, handoff: TeamHandoff, member: MessageRecord
    ) -> tuple[ConversationRecord, list[MessageRecord]]:
        """Put the conversation in the team's queue and tell the member where they stand."""
        lang = conversation.language
        team = handoff.team
        conversation = self.storage.set_state(
            conversation.id, "waiting", expect=("bot",), team=team
        )
        entry = self.storage.open_handoff(conversation.id, team, handoff.reason, member.text)
        text = handoff.text
        agent_will_come = handoff.team_open and not self.queue.nobody_online()
        if not agent_will_come:
            if handoff.team_open:
                text = system_text("no_agent", lang)
            self.queue.offer_follow_up(conversation.id, team, lang, member.text)
        for listener in self.handoff_listeners:
            try:
                listener(entry, conversation)
            except Exception:  # a notification must never cost the member their handoff
                log.exception("handoff listener failed for conversation %s", conversation.id)
        if agent_will_come:
            self.lifecycle.sweep()  # so the place counts only members still there
            position = self.storage.queue_position(conversation.id)
            place = (
                system_text("queue_position", lang).format(position=position) if position else ""
            )
            text = f"{text} {place}".strip()
        if not text:
            return conversation, []
        return conversation, [self._say(conversation.id, text, decision=Outcome.HANDOFF.value)]

    # -- nobody there: an e-mail address instead ------------------------------

    def _follow_up_step(
        self, conversation: ConversationRecord, member: MessageRecord, text: str
    ) -> list[MessageRecord]:
        """In `waiting`: take an e-mail address the member was asked for, else stay silent.

        `text` is what the member typed: the stored message may have the address masked.
        """
        self._offer_when_unclaimed(conversation)
        offer = self.queue.asked_follow_up(conversation.id)
        if offer is None:
            return []
        lang = conversation.language
        email = find_email(text)
        if email is None:
            return []
        if not is_email(email):
            return [
                self._say(conversation.id, system_text("email_invalid", lang).format(email=email))
            ]
        # What the member added since the offer, without earlier tries at an address.
        later = [
            m.text
            for m in self.storage.messages(conversation.id)
            if m.role == "member"
            and m.created_at >= offer.created_at
            and m.id != member.id
            and find_email(m.text) is None  # masked addresses keep their @ too
        ]
        rest = self._masked(without_address(text, email))
        question = "\n".join(t for t in [offer.question, *later, rest] if t)
        self.queue.leave_email(conversation.id, email, question)
        return [self._say(conversation.id, system_text("email_thanks", lang).format(email=email))]

    def _masked(self, text: str) -> str:
        """Member text as stored: personal data masked unless bot.yml's privacy.mask is off."""
        masked = self.runtime.current().bot.settings.privacy.mask
        return mask_personal_data(text) if masked else text

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

    def _say(
        self, conversation_id: str, text: str, html: str | None = None, **fields: Any
    ) -> MessageRecord:
        html = render_markdown(text) if html is None else html
        return self.storage.add_message(conversation_id, "bot", text, html=html, **fields)


def _buttons(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    """Buttons as a message stores them: the id a client posts back, the label, a link's url."""
    stored = []
    for button in buttons:
        entry = {"id": button.id, "label": button.label}
        if button.url:
            entry["url"] = button.url
        stored.append(entry)
    return stored
