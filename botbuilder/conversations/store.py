"""Conversations, messages, handoffs and feedback, behind one class.

`Storage` is the installation's `Database` (see `botbuilder.db.engine`) with
the conversation tables on top. Callers get frozen records, never live ORM
objects, so nothing outside the conversations room depends on a session.
A conversation's state changes only along `states.TRANSITIONS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.conversations.states import STATES, refusal, sources_of
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.db.ids import MAX_ID, fits_id
from botbuilder.errors import N_, BadRequest, NotFound

__all__ = [
    "ConversationRecord",
    "HandoffRecord",
    "MessageRecord",
    "Storage",
    "conversation_record",
    "handoff_record",
    "is_conversation_id",
    "message_record",
]


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_member_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    intent: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Handoff(Base):
    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    team: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    language: str
    state: str
    team: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: str
    role: str
    text: str
    html: str
    buttons: tuple[dict[str, Any], ...]
    intent: str | None
    decision: str | None
    confidence: float | None
    candidates: tuple[dict[str, Any], ...]
    created_at: datetime


@dataclass(frozen=True)
class HandoffRecord:
    id: int
    conversation_id: str
    team: str
    reason: str
    question: str
    status: str
    claimed_by: str | None
    created_at: datetime


def conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        row.id,
        row.language,
        row.state,
        row.team,
        aware_utc(row.created_at),
        aware_utc(row.updated_at),
    )


def message_record(row: Message) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        role=row.role,
        text=row.text,
        html=row.html or "",
        buttons=tuple(row.buttons or ()),
        intent=row.intent,
        decision=row.decision,
        confidence=row.confidence,
        candidates=tuple(row.candidates or ()),
        created_at=aware_utc(row.created_at),
    )


def handoff_record(row: Handoff) -> HandoffRecord:
    return HandoffRecord(
        row.id,
        row.conversation_id,
        row.team,
        row.reason,
        row.question,
        row.status,
        row.claimed_by,
        aware_utc(row.created_at),
    )


class Storage(Database):
    """Conversations, messages, handoffs and feedback in the installation's database."""

    # -- conversations --------------------------------------------------------

    def create_conversation(self, language: str) -> ConversationRecord:
        now = utcnow()
        row = Conversation(id=uuid.uuid4().hex, language=language, state="bot")
        row.created_at = row.updated_at = row.last_member_at = now
        with self.session() as s, s.begin():
            s.add(row)
        return conversation_record(row)

    def conversation(self, conversation_id: str) -> ConversationRecord:
        with self.session() as s:
            row = (
                s.get(Conversation, conversation_id)
                if is_conversation_id(conversation_id)
                else None
            )
            if row is None:
                start = N_("no conversation '%(id)s'; start one with POST /api/v1/conversations")
                raise NotFound(start, id=conversation_id)
            return conversation_record(row)

    def set_state(
        self,
        conversation_id: str,
        state: str,
        *,
        expect: tuple[str, ...] | None = None,
        team: str | None = None,
    ) -> ConversationRecord:
        """Move a conversation to `state`, if `TRANSITIONS` allows it from where it is;
        with `expect`, only from one of those states.

        The check and the change are one UPDATE, so two processes racing for
        the same conversation cannot both win.
        """
        sources = sources_of(state, expect or STATES)
        values: dict[str, Any] = {"state": state, "updated_at": utcnow()}
        if team is not None:
            values["team"] = team
        with self.session() as s, s.begin():
            stmt = (
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state.in_(sources))
                .values(**values)
            )
            result: CursorResult[Any] = s.execute(stmt)  # type: ignore[assignment]
            changed = result.rowcount
        if not changed:
            current = self.conversation(conversation_id)  # raises NotFound if missing
            raise refusal(current.state, state)
        return self.conversation(conversation_id)

    def set_language(self, conversation_id: str, language: str) -> ConversationRecord:
        """Record the language the member now writes in."""
        with self.session() as s, s.begin():
            s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(language=language, updated_at=utcnow())
            )
        return self.conversation(conversation_id)

    # -- messages -------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        html: str = "",
        buttons: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        intent: str | None = None,
        decision: str | None = None,
        confidence: float | None = None,
        candidates: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    ) -> MessageRecord:
        now = utcnow()
        row = Message(
            conversation_id=conversation_id,
            role=role,
            text=text,
            html=html,
            buttons=list(buttons),
            intent=intent,
            decision=decision,
            confidence=confidence,
            candidates=list(candidates),
            created_at=now,
        )
        member = {"last_member_at": now} if role == "member" else {}  # see `lifecycle`
        with self.session() as s, s.begin():
            s.add(row)
            s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(updated_at=now, **member)
            )
        return message_record(row)

    def annotate_message(
        self,
        message_id: int,
        *,
        decision: str | None = None,
        intent: str | None = None,
        confidence: float | None = None,
        candidates: list[dict[str, Any]] | None = None,
    ) -> MessageRecord:
        """Record what the bot made of a member message stored earlier."""
        with self.session() as s, s.begin():
            row = s.get(Message, message_id)
            if row is None:
                raise NotFound(N_("no message %(number)s"), number=message_id)
            row.decision = decision
            row.intent = intent
            row.confidence = confidence
            if candidates is not None:
                row.candidates = candidates
        return message_record(row)

    def messages(self, conversation_id: str, after: int | None = None) -> list[MessageRecord]:
        """Messages of a conversation in order, optionally only those after a cursor."""
        with self.session() as s:
            stmt = select(Message).where(Message.conversation_id == conversation_id)
            if after is not None:
                stmt = stmt.where(Message.id > max(0, min(after, MAX_ID)))
            return [message_record(m) for m in s.scalars(stmt.order_by(Message.id))]

    def last_message(self, conversation_id: str, roles: tuple[str, ...]) -> MessageRecord | None:
        with self.session() as s:
            row = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.role.in_(roles))
                .order_by(Message.id.desc())
                .limit(1)
            ).first()
            return message_record(row) if row else None

    def message(self, conversation_id: str, message_id: int) -> MessageRecord:
        with self.session() as s:
            # An id the column cannot hold names no message (and would overflow the driver).
            row = s.get(Message, message_id) if fits_id(message_id) else None
            if row is None or row.conversation_id != conversation_id:
                raise NotFound(N_("no message %(number)s in this conversation"), number=message_id)
            return message_record(row)

    # -- handoffs -------------------------------------------------------------

    def open_handoff(
        self, conversation_id: str, team: str, reason: str, question: str
    ) -> HandoffRecord:
        row = Handoff(
            conversation_id=conversation_id,
            team=team,
            reason=reason,
            question=question,
            status="waiting",
            created_at=utcnow(),
        )
        with self.session() as s, s.begin():
            s.add(row)
        return handoff_record(row)

    def handoffs(
        self, status: str | None = "waiting", team: str | None = None
    ) -> list[HandoffRecord]:
        """Queue entries, oldest first."""
        with self.session() as s:
            stmt = select(Handoff)
            if status:
                stmt = stmt.where(Handoff.status == status)
            if team:
                stmt = stmt.where(Handoff.team == team)
            return [handoff_record(h) for h in s.scalars(stmt.order_by(Handoff.id))]

    def queue_position(self, conversation_id: str) -> int | None:
        """1-based place of a waiting conversation in its team's queue. Only live entries
        count: a conversation the member left, or that was abandoned, waits no more."""
        live = (
            select(Handoff.id, Handoff.team, Handoff.conversation_id)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(Handoff.status == "waiting", Conversation.state == "waiting")
        )
        with self.session() as s:
            rows = s.execute(live).all()
        mine = next((r for r in rows if r.conversation_id == conversation_id), None)
        if mine is None:
            return None
        return sum(1 for r in rows if r.team == mine.team and r.id <= mine.id)

    # -- feedback -------------------------------------------------------------

    def set_feedback(self, conversation_id: str, message_id: int, helpful: bool) -> None:
        """Record (or change) a member's thumbs up/down on a bot message."""
        message = self.message(conversation_id, message_id)
        if message.role != "bot":
            raise BadRequest("feedback is for bot messages only")
        with self.session() as s, s.begin():
            row = s.scalars(select(Feedback).where(Feedback.message_id == message_id)).first()
            if row is None:
                s.add(
                    Feedback(
                        conversation_id=conversation_id,
                        message_id=message_id,
                        helpful=helpful,
                        created_at=utcnow(),
                    )
                )
            else:
                row.helpful = helpful

    def feedback(self, conversation_id: str) -> dict[int, bool]:
        with self.session() as s:
            rows = s.scalars(select(Feedback).where(Feedback.conversation_id == conversation_id))
            return {f.message_id: f.helpful for f in rows}


def is_conversation_id(value: str) -> bool:
    """Whether `value` can be a conversation id at all (saves a query on junk)."""
    return isinstance(value, str) and 0 < len(value) <= 36 and value.isalnum()
