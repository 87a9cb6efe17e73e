"""Follow-ups: a member's e-mail address and question, left when nobody could answer.

Outside office hours, or when no agent is online, the dialogue offers the
member to leave an address ("asked"); the address makes it an item on the
team's list ("open") until an agent has written back ("done"); while a reply
from the console is being sent it is "replying". An agent who
answers from the console (`answer_follow_up`, after the e-mail went out) leaves
the reply in the transcript as an agent message and its Message-ID here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.content.emails import is_email
from botbuilder.content.rendering import render_markdown
from botbuilder.conversations.store import Message, MessageRecord, Storage, message_record
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.errors import N_, BadRequest, Conflict, NotFound

__all__ = ["FollowUp", "FollowUpRecord", "FollowUps"]

REPLY_CLAIM = timedelta(minutes=10)  # a reply being sent holds its follow-up this long at most


class FollowUp(Base):  # created by migration 0003
    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    team: Mapped[str] = mapped_column(String(64))
    # asked: the member was offered the e-mail option; open: they left an address;
    # replying: an agent's e-mail to them is being sent; done
    status: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    question: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    done_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the e-mail an agent sent from the console (migration 0009)
    reply_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class FollowUpRecord:
    id: int
    conversation_id: str
    team: str
    status: str
    email: str | None
    question: str
    language: str
    done_by: str | None
    created_at: datetime
    reply_message_id: str | None = None


def _record(row: FollowUp) -> FollowUpRecord:
    return FollowUpRecord(
        row.id,
        row.conversation_id,
        row.team,
        row.status,
        row.email,
        row.question,
        row.language,
        row.done_by,
        aware_utc(row.created_at),
        row.reply_message_id,
    )


class FollowUps:
    """Members' e-mail follow-ups, on one storage."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime] = utcnow) -> None:
        self.storage = storage
        self.clock = clock

    def offer_follow_up(
        self, conversation_id: str, team: str, language: str, question: str
    ) -> FollowUpRecord:
        """Note that the member was offered the e-mail option (once per conversation)."""
        with self.storage.session() as s, s.begin():
            row = _asked(s, conversation_id)
            if row is None:
                now = self.clock()
                row = FollowUp(
                    conversation_id=conversation_id,
                    team=team,
                    status="asked",
                    question=question,
                    language=language,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
        return _record(row)

    def asked_follow_up(self, conversation_id: str) -> FollowUpRecord | None:
        """The pending e-mail offer of a conversation, if the member has not answered it."""
        with self.storage.session() as s:
            row = _asked(s, conversation_id)
            return _record(row) if row else None

    def follow_up_since(self, conversation_id: str, since: datetime) -> bool:
        """Whether the member was offered the e-mail option since `since`, or has one pending."""
        with self.storage.session() as s:
            rows = s.scalars(select(FollowUp).where(FollowUp.conversation_id == conversation_id))
            return any(
                r.status in ("asked", "open") or aware_utc(r.created_at) >= since for r in rows
            )

    def leave_email(self, conversation_id: str, email: str, question: str) -> FollowUpRecord:
        """The member's address and question: a follow-up item for the team."""
        if not is_email(email):
            raise BadRequest(N_("'%(email)s' is not an e-mail address"), email=email)
        with self.storage.session() as s, s.begin():
            row = _asked(s, conversation_id)
            if row is None:
                raise Conflict(N_("this conversation was not offered an e-mail follow-up"))
            row.status, row.email, row.updated_at = "open", email, self.clock()
            if question:
                row.question = question
        return _record(row)

    def follow_ups(self, status: str = "open", team: str | None = None) -> list[FollowUpRecord]:
        """Follow-up items, oldest first."""
        with self.storage.session() as s:
            stmt = select(FollowUp).where(FollowUp.status == status)
            if team:
                stmt = stmt.where(FollowUp.team == team)
            return [_record(f) for f in s.scalars(stmt.order_by(FollowUp.id))]

    def finish_follow_up(self, follow_up_id: int, agent: str) -> FollowUpRecord:
        """Mark a follow-up as handled (the agent has written to the member)."""
        with self.storage.session() as s, s.begin():
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(FollowUp)
                .where(FollowUp.id == follow_up_id, FollowUp.status == "open")
                .values(status="done", done_by=agent, updated_at=self.clock())
            )
            row = s.get(FollowUp, follow_up_id)
            if row is None:
                raise NotFound(N_("no follow-up %(id)s"), id=follow_up_id)
            if not result.rowcount:
                raise Conflict(
                    N_("follow-up %(id)s is '%(status)s', not open"),
                    id=follow_up_id,
                    status=row.status,
                )
            return _record(row)

    def follow_up(self, follow_up_id: int) -> FollowUpRecord:
        with self.storage.session() as s:
            row = s.get(FollowUp, follow_up_id)
            if row is None:
                raise NotFound(N_("no follow-up %(id)s"), id=follow_up_id)
            return _record(row)

    def start_reply(self, follow_up_id: int, agent: str) -> FollowUpRecord:
        """Take an open follow-up to answer by e-mail ("replying"), so two agents never both send.

        A claim older than `REPLY_CLAIM` (its sender died) may be taken again."""
        now = self.clock()
        with self.storage.session() as s, s.begin():
            takeable = (FollowUp.status == "open") | (
                (FollowUp.status == "replying") & (FollowUp.updated_at < now - REPLY_CLAIM)
            )
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(FollowUp)
                .where(FollowUp.id == follow_up_id, takeable)
                .values(status="replying", done_by=agent, updated_at=now)
            )
            row = s.get(FollowUp, follow_up_id)
            if row is None:
                raise NotFound(N_("no follow-up %(id)s"), id=follow_up_id)
            if not result.rowcount:
                if row.status == "replying" and row.done_by:
                    raise Conflict(
                        N_("follow-up %(id)s is being answered by %(agent)s"),
                        id=follow_up_id,
                        agent=row.done_by,
                    )
                raise Conflict(
                    N_("follow-up %(id)s is '%(status)s', not open"),
                    id=follow_up_id,
                    status=row.status,
                )
            return _record(row)

    def release_reply(self, follow_up_id: int) -> None:
        """The reply was not sent: the follow-up is open again."""
        with self.storage.session() as s, s.begin():
            s.execute(
                update(FollowUp)
                .where(FollowUp.id == follow_up_id, FollowUp.status == "replying")
                .values(status="open", done_by=None, updated_at=self.clock())
            )

    def answer_follow_up(
        self, follow_up_id: int, agent: str, text: str, message_id: str
    ) -> tuple[FollowUpRecord, MessageRecord]:
        """After the reply went out: keep it in the transcript and mark the follow-up done."""
        now = self.clock()
        with self.storage.session() as s, s.begin():
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(FollowUp)
                .where(FollowUp.id == follow_up_id, FollowUp.status.in_(("open", "replying")))
                .values(
                    status="done",
                    done_by=agent,
                    updated_at=now,
                    reply_message_id=message_id,
                    replied_at=now,
                )
            )
            row = s.get(FollowUp, follow_up_id)
            if row is None:
                raise NotFound(N_("no follow-up %(id)s"), id=follow_up_id)
            if not result.rowcount:
                raise Conflict(
                    N_("follow-up %(id)s is '%(status)s', not open"),
                    id=follow_up_id,
                    status=row.status,
                )
            message = Message(
                conversation_id=row.conversation_id,
                role="agent",
                text=text,
                html=render_markdown(text),
                buttons=[],
                candidates=[],
                created_at=now,
            )
            s.add(message)
            s.flush()
            return _record(row), message_record(message)


def _asked(s: Session, conversation_id: str) -> FollowUp | None:
    """The conversation's e-mail offer the member has not answered yet."""
    return s.scalars(
        select(FollowUp).where(
            FollowUp.conversation_id == conversation_id, FollowUp.status == "asked"
        )
    ).first()
