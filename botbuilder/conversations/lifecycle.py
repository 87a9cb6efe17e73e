"""How a member's conversation ends or stops waiting: leaving the queue, closing, going quiet.

    member action            from            to       handoff     the member reads
    back to the bot          waiting         bot      left        "you're no longer waiting"
    close ("new chat")       bot, waiting,   closed   left        "you ended this conversation"
                             agent
    (quiet for `handoff.abandoned_after` minutes)
    abandoned                waiting         bot      abandoned   "we hadn't heard from you"

Leaving again is harmless: back to the bot from `bot`, or close from `closed`,
changes nothing and says nothing, so a retried request gets the same answer.
Any other move is a `Conflict` (409), e.g. back to the bot while an agent has
the conversation.

A member counts as active while they write or while their open widget asks for
news (`touch`, written at most every `TOUCH_EVERY`). The sweep is lazy: the
queue's readers call `sweep`, at most every `SWEEP_EVERY` per process. Each
conversation is taken out of the queue by its own conditional UPDATE (still
waiting, still quiet), so two replicas sweeping at once never both act on one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.states import (
    HANDOFF_TRANSITIONS,
    check_handoff_move,
    refusal,
    sources_of,
)
from botbuilder.conversations.store import (
    Conversation,
    ConversationRecord,
    Handoff,
    HandoffRecord,
    Message,
    MessageRecord,
    Storage,
    handoff_record,
    is_conversation_id,
    message_record,
)
from botbuilder.db.base import utcnow
from botbuilder.errors import N_, Conflict, NotFound

__all__ = ["SWEEP_EVERY", "TOUCH_EVERY", "Lifecycle", "Left"]

# How often one process looks for abandoned conversations, at most.
SWEEP_EVERY = timedelta(seconds=10)
# How often a polling widget's "still here" is written, at most.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Left:
    """A conversation after the member left the queue or closed it, and what the bot said."""

    conversation: ConversationRecord
    messages: list[MessageRecord]


class Lifecycle:
    """Members leaving the queue or closing their chat, and the sweep of abandoned chats."""

    def __init__(
        self,
        storage: Storage,
        abandoned_after: Callable[[], timedelta],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.storage = storage
        self.abandoned_after = abandoned_after  # read on each sweep: bot.yml may change
        self.clock = clock
        self._swept_at: datetime | None = None

    # -- the member leaves -----------------------------------------------------------

    def back_to_bot(self, conversation_id: str) -> Left:
        """Stop waiting for a person: the conversation leaves the queue and the bot answers."""
        current = self.storage.conversation(conversation_id)
        if current.state == "bot":
            return Left(current, [])  # already there: a retry, or a second tab
        if current.state == "agent":
            raise Conflict(
                N_(
                    "a staff member is with this member now, so the conversation cannot go back "
                    "to the bot; close it to end it"
                )
            )
        if current.state == "closed":
            raise Conflict(N_("this conversation is closed; start a new one"))
        return self._leave(conversation_id, "bot", ("waiting",), "left_queue")

    def close(self, conversation_id: str) -> Left:
        """End the conversation for good, leaving the queue if it was in it."""
        current = self.storage.conversation(conversation_id)
        if current.state == "closed":
            return Left(current, [])
        return self._leave(conversation_id, "closed", ("bot", "waiting", "agent"), "member_closed")

    def _leave(self, conversation_id: str, state: str, expect: tuple[str, ...], text: str) -> Left:
        now = self.clock()
        with self.storage.session() as s, s.begin():
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state.in_(sources_of(state, expect)),
                )
                .values(state=state, updated_at=now, last_member_at=now)
            )
            row = s.get(Conversation, conversation_id)
            if row is None:
                raise NotFound(N_("no conversation '%(id)s'"), id=conversation_id)
            if not result.rowcount:  # someone else moved it first (an agent claimed it)
                raise refusal(row.state, state)
            _end_handoff(s, conversation_id, "left", now)
            said = _say(s, row, system_text(text, row.language), now)
        return Left(self.storage.conversation(conversation_id), [message_record(said)])

    # -- the member is still there ---------------------------------------------------

    def touch(self, conversation_id: str) -> None:
        """The member's widget asked for news: they are still there (written now and then)."""
        if not is_conversation_id(conversation_id):
            return
        now = self.clock()
        with self.storage.session() as s, s.begin():
            s.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state == "waiting",
                    or_(
                        Conversation.last_member_at.is_(None),
                        Conversation.last_member_at < now - TOUCH_EVERY,
                    ),
                )
                .values(last_member_at=now)
            )

    def left_since(self, since: datetime, limit: int = 50) -> list[HandoffRecord]:
        """Handoffs that ended since `since` because the member left or went quiet, newest first."""
        with self.storage.session() as s:
            rows = s.scalars(
                select(Handoff)
                .where(Handoff.status.in_(("left", "abandoned")), Handoff.closed_at >= since)
                .order_by(Handoff.closed_at.desc(), Handoff.id.desc())
                .limit(limit)
            )
            return [handoff_record(h) for h in rows]

    # -- the member went quiet -------------------------------------------------------

    def sweep(self, force: bool = False) -> list[str]:
        """Take abandoned conversations out of the queue; their ids (a few per call, usually none).

        Without `force`, at most once per `SWEEP_EVERY` in this process.
        """
        now = self.clock()
        if not force and self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return []
        self._swept_at = now
        quiet = _quiet_since(now - self.abandoned_after())
        with self.storage.session() as s:
            candidates = list(
                s.scalars(
                    select(Conversation.id).where(Conversation.state == "waiting", quiet).limit(500)
                )
            )
        return [cid for cid in candidates if self._abandon(cid, quiet, now)]

    def _abandon(self, conversation_id: str, quiet: ColumnElement[bool], now: datetime) -> bool:
        with self.storage.session() as s, s.begin():
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == "waiting", quiet)
                .values(state="bot", updated_at=now)
            )
            if not result.rowcount:  # another replica, or the member came back
                return False
            _end_handoff(s, conversation_id, "abandoned", now)
            row = s.get(Conversation, conversation_id)
            if row is not None:
                _say(s, row, system_text("abandoned", row.language), now)
        return True


def _quiet_since(cutoff: datetime) -> ColumnElement[bool]:
    """Not heard from since `cutoff` (rows from before migration 0011 go by `updated_at`)."""
    return or_(
        Conversation.last_member_at < cutoff,
        and_(Conversation.last_member_at.is_(None), Conversation.updated_at < cutoff),
    )


def _end_handoff(s: Session, conversation_id: str, status: str, now: datetime) -> None:
    """The conversation's open handoff ends as `status`; an ended one stays as it ended."""
    latest = s.scalars(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    ).first()
    if latest is None or not HANDOFF_TRANSITIONS.get(latest.status):
        return
    check_handoff_move(latest.status, status)
    latest.status, latest.closed_at = status, now


def _say(s: Session, conversation: Conversation, text: str, now: datetime) -> Message:
    row = Message(
        conversation_id=conversation.id,
        role="bot",
        text=text,
        html=render_markdown(text),
        buttons=[],
        candidates=[],
        created_at=now,
    )
    s.add(row)
    s.flush()
    return row
