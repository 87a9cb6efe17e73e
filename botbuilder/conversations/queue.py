"""The agent side of a handoff: the queue, and what an agent does with a conversation.

Every move is one transaction that starts with a conditional UPDATE of the
conversation's state, so of two agents (or two server processes) acting on the
same conversation at once exactly one wins; the other gets `Conflict` (409).

    action      from            to        the member reads
    claim       waiting         agent     "a colleague is with you now"
    reply       agent (owner)   agent     the agent's message
    note        any             same      nothing: notes are for agents only
    transfer    waiting, agent  waiting   "passing you to another team"
    close       waiting, agent  closed    "this conversation is closed"
    hand_back   agent (owner)   bot       "you're talking to the bot again"

Anything else is a `Conflict`. Also here: agents' presence (online/away),
which tells the dialogue whether anyone is there to answer, and follow-up
items (an e-mail address a member left when nobody was there).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.store import (
    Base,
    Conversation,
    ConversationRecord,
    Handoff,
    HandoffRecord,
    Message,
    MessageRecord,
    Storage,
    _aware,
    _handoff,
    _message,
    utcnow,
)
from botbuilder.errors import BadRequest, Conflict, NotFound

__all__ = [
    "FollowUpRecord",
    "HandoffQueue",
    "NoteRecord",
    "PRESENCE_TIMEOUT",
    "QueueEntry",
    "is_email",
]

MAX_REPLY_CHARS = 4000
# An agent whose console has not been heard from for this long counts as away.
PRESENCE_TIMEOUT = timedelta(seconds=90)
PRESENCE = ("online", "away")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
_EMAIL_IN_TEXT = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


# -- tables (created by migration 0003) ---------------------------------------------------


class AgentNote(Base):
    __tablename__ = "agent_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FollowUp(Base):
    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    team: Mapped[str] = mapped_column(String(64))
    # asked: the member was offered the e-mail option; open: they left an address; done
    status: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    question: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    done_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgentPresence(Base):
    __tablename__ = "agent_presence"
    agent: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    """A conversation in the queue (or assigned to an agent), with its handoff."""

    handoff: HandoffRecord
    conversation: ConversationRecord
    waiting_seconds: int


@dataclass(frozen=True)
class NoteRecord:
    id: int
    conversation_id: str
    author: str
    text: str
    created_at: datetime


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


def _follow_up(row: FollowUp) -> FollowUpRecord:
    return FollowUpRecord(
        row.id,
        row.conversation_id,
        row.team,
        row.status,
        row.email,
        row.question,
        row.language,
        row.done_by,
        _aware(row.created_at),
    )


def is_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces)."""
    return len(text) <= 254 and bool(_EMAIL.match(text))


def find_email(text: str) -> str | None:
    """The first thing in `text` that looks like an e-mail address, valid or not."""
    found = _EMAIL_IN_TEXT.search(text)
    return found.group(0).rstrip(".") if found else None


class HandoffQueue:
    """Waiting conversations and the agents who take them, on one storage."""

    def __init__(
        self,
        storage: Storage,
        teams: Callable[[], list[str]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.storage = storage
        self.teams = teams  # the bot's team names, to check a transfer target
        self.clock = clock

    # -- reading ------------------------------------------------------------------------

    def waiting(self, team: str | None = None) -> list[QueueEntry]:
        """Waiting conversations, oldest first."""
        return self._entries("waiting", team=team)

    def assigned_to(self, agent: str) -> list[QueueEntry]:
        """Conversations `agent` has claimed and not yet closed or handed back."""
        return self._entries("claimed", agent=agent)

    def _entries(
        self, status: str, team: str | None = None, agent: str | None = None
    ) -> list[QueueEntry]:
        now = self.clock()
        with self.storage.session() as s:
            stmt = (
                select(Handoff, Conversation)
                .join(Conversation, Conversation.id == Handoff.conversation_id)
                .where(Handoff.status == status)
            )
            if team:
                stmt = stmt.where(Handoff.team == team)
            if agent:
                stmt = stmt.where(Handoff.claimed_by == agent)
            rows = s.execute(stmt.order_by(Handoff.created_at, Handoff.id)).all()
            entries = []
            for handoff, conversation in rows:
                record = _handoff(handoff)
                entries.append(
                    QueueEntry(
                        record,
                        _conversation_record(conversation),
                        max(0, int((now - record.created_at).total_seconds())),
                    )
                )
            return entries

    def current_handoff(self, conversation_id: str) -> HandoffRecord | None:
        """The latest queue entry of a conversation, whatever its status."""
        with self.storage.session() as s:
            row = s.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id)
                .order_by(Handoff.id.desc())
                .limit(1)
            ).first()
            return _handoff(row) if row else None

    def owner(self, conversation_id: str) -> str | None:
        """The agent who has the conversation now, if any."""
        handoff = self.current_handoff(conversation_id)
        return handoff.claimed_by if handoff and handoff.status == "claimed" else None

    def trigger(self, conversation_id: str) -> MessageRecord | None:
        """The member message that led to the latest handoff (its `candidates` are the
        bot's guesses), or None when the conversation was never handed off."""
        handoff = self.current_handoff(conversation_id)
        if handoff is None:
            return None
        with self.storage.session() as s:
            rows = s.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.role == "member",
                    Message.decision.is_not(None),
                )
                .order_by(Message.id.desc())
            )
            for row in rows:
                if _aware(row.created_at) <= handoff.created_at:
                    return _message(row)
        return None

    # -- moves --------------------------------------------------------------------------

    def claim(self, conversation_id: str, agent: str) -> ConversationRecord:
        """Take a waiting conversation; Conflict if someone else was first."""
        now = self.clock()
        with self.storage.session() as s, s.begin():
            conversation = self._move(s, conversation_id, "agent", ("waiting",), "claim")
            s.execute(
                update(Handoff)
                .where(Handoff.conversation_id == conversation_id, Handoff.status == "waiting")
                .values(status="claimed", claimed_by=agent, claimed_at=now)
            )
            self._say(s, conversation, system_text("agent_joined", conversation.language))
        return self.storage.conversation(conversation_id)

    def reply(self, conversation_id: str, agent: str, text: str) -> MessageRecord:
        """An agent's message to the member; only the agent who claimed it may reply."""
        text = _text(text, "a reply")
        with self.storage.session() as s, s.begin():
            self._move(s, conversation_id, "agent", ("agent",), "reply to", owner=agent)
            row = Message(
                conversation_id=conversation_id,
                role="agent",
                text=text,
                html=render_markdown(text),
                buttons=[],
                candidates=[],
                created_at=self.clock(),
            )
            s.add(row)
        return _message(row)

    def note(self, conversation_id: str, agent: str, text: str) -> NoteRecord:
        """An internal note on a conversation: for agents only, never sent to the member."""
        text = _text(text, "a note")
        self.storage.conversation(conversation_id)  # NotFound if missing
        row = AgentNote(
            conversation_id=conversation_id, author=agent, text=text, created_at=self.clock()
        )
        with self.storage.session() as s, s.begin():
            s.add(row)
        return NoteRecord(row.id, conversation_id, agent, text, _aware(row.created_at))

    def notes(self, conversation_id: str) -> list[NoteRecord]:
        with self.storage.session() as s:
            rows = s.scalars(
                select(AgentNote)
                .where(AgentNote.conversation_id == conversation_id)
                .order_by(AgentNote.id)
            )
            return [
                NoteRecord(n.id, n.conversation_id, n.author, n.text, _aware(n.created_at))
                for n in rows
            ]

    def transfer(self, conversation_id: str, agent: str, team: str) -> ConversationRecord:
        """Put the conversation back in the queue of another team."""
        if self.teams is not None and team not in self.teams():
            known = ", ".join(self.teams()) or "none"
            raise BadRequest(f"there is no team '{team}'; this bot's teams: {known}")
        now = self.clock()
        with self.storage.session() as s, s.begin():
            conversation = self._move(
                s,
                conversation_id,
                "waiting",
                ("waiting", "agent"),
                "transfer",
                owner=agent,
                team=team,
            )
            current = self._latest(s, conversation_id)
            question = current.question if current else ""
            if current is not None and current.status in ("waiting", "claimed"):
                current.status = "transferred"
                current.closed_at = now
            s.add(
                Handoff(
                    conversation_id=conversation_id,
                    team=team,
                    reason="transfer",
                    question=question,
                    status="waiting",
                    created_at=now,
                )
            )
            self._say(s, conversation, system_text("transferred", conversation.language))
        return self.storage.conversation(conversation_id)

    def close(self, conversation_id: str, agent: str) -> ConversationRecord:
        """End the conversation; the member is told and can start a new one."""
        return self._finish(conversation_id, agent, "closed", "closed", "closed")

    def hand_back(self, conversation_id: str, agent: str) -> ConversationRecord:
        """Give the conversation back to the bot; it answers the member's next question."""
        return self._finish(conversation_id, agent, "bot", "returned", "handed_back")

    def _finish(
        self, conversation_id: str, agent: str, state: str, status: str, text_key: str
    ) -> ConversationRecord:
        expect = ("agent",) if state == "bot" else ("waiting", "agent")
        verb = "hand back" if state == "bot" else "close"
        with self.storage.session() as s, s.begin():
            conversation = self._move(s, conversation_id, state, expect, verb, owner=agent)
            current = self._latest(s, conversation_id)
            if current is not None and current.status in ("waiting", "claimed"):
                current.status = status
                current.closed_at = self.clock()
            self._say(s, conversation, system_text(text_key, conversation.language))
        return self.storage.conversation(conversation_id)

    def _move(
        self,
        s: Session,
        conversation_id: str,
        state: str,
        expect: tuple[str, ...],
        verb: str,
        owner: str | None = None,
        team: str | None = None,
    ) -> Conversation:
        """The conditional UPDATE every move starts with; the row stays locked until commit."""
        values: dict[str, Any] = {"state": state, "updated_at": self.clock()}
        if team is not None:
            values["team"] = team
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state.in_(expect))
            .values(**values)
        )
        row = s.get(Conversation, conversation_id) if _is_id(conversation_id) else None
        if row is None:
            raise NotFound(f"no conversation '{conversation_id}'")
        if not result.rowcount:
            raise Conflict(_refusal(verb, row.state))
        if owner is not None:
            latest = self._latest(s, conversation_id)
            holder = latest.claimed_by if latest and latest.status == "claimed" else None
            if holder is not None and holder != owner:
                raise Conflict(f"{holder} has this conversation; only they can {verb} it")
        return row

    @staticmethod
    def _latest(s: Session, conversation_id: str) -> Handoff | None:
        return s.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.id.desc())
            .limit(1)
        ).first()

    def _say(self, s: Session, conversation: Conversation, text: str) -> None:
        s.add(
            Message(
                conversation_id=conversation.id,
                role="bot",
                text=text,
                html=render_markdown(text),
                buttons=[],
                candidates=[],
                created_at=self.clock(),
            )
        )

    # -- presence -----------------------------------------------------------------------

    def set_presence(self, agent: str, status: str) -> None:
        """Record that `agent` is online or away (the console calls this as a heartbeat)."""
        if status not in PRESENCE:
            raise BadRequest(f"presence must be one of {', '.join(PRESENCE)}, not '{status}'")
        now = self.clock()
        with self.storage.session() as s, s.begin():
            row = s.get(AgentPresence, agent)
            if row is None:
                s.add(AgentPresence(agent=agent, status=status, seen_at=now))
            else:
                row.status, row.seen_at = status, now

    def presence(self) -> dict[str, str]:
        """Every agent ever seen: 'online', or 'away' when they said so or went quiet."""
        cutoff = self.clock() - PRESENCE_TIMEOUT
        with self.storage.session() as s:
            return {
                p.agent: p.status if _aware(p.seen_at) >= cutoff else "away"
                for p in s.scalars(select(AgentPresence).order_by(AgentPresence.agent))
            }

    def nobody_online(self) -> bool:
        """True when agents use the console but none is online now.

        An installation whose console was never opened is not "empty": its
        handoffs behave as before (office hours alone decide).
        """
        presence = self.presence()
        return bool(presence) and "online" not in presence.values()

    # -- follow-ups ---------------------------------------------------------------------

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
        return _follow_up(row)

    def asked_follow_up(self, conversation_id: str) -> FollowUpRecord | None:
        """The pending e-mail offer of a conversation, if the member has not answered it."""
        with self.storage.session() as s:
            row = _asked(s, conversation_id)
            return _follow_up(row) if row else None

    def follow_up_since(self, conversation_id: str, since: datetime) -> bool:
        """Whether the member was offered the e-mail option since `since`, or has one pending."""
        with self.storage.session() as s:
            rows = s.scalars(select(FollowUp).where(FollowUp.conversation_id == conversation_id))
            return any(r.status in ("asked", "open") or _aware(r.created_at) >= since for r in rows)

    def leave_email(self, conversation_id: str, email: str, question: str) -> FollowUpRecord:
        """The member's address and question: a follow-up item for the team."""
        if not is_email(email):
            raise BadRequest(f"'{email}' is not an e-mail address")
        with self.storage.session() as s, s.begin():
            row = _asked(s, conversation_id)
            if row is None:
                raise Conflict("this conversation was not offered an e-mail follow-up")
            row.status, row.email, row.updated_at = "open", email, self.clock()
            if question:
                row.question = question
        return _follow_up(row)

    def follow_ups(self, status: str = "open", team: str | None = None) -> list[FollowUpRecord]:
        """Follow-up items, oldest first."""
        with self.storage.session() as s:
            stmt = select(FollowUp).where(FollowUp.status == status)
            if team:
                stmt = stmt.where(FollowUp.team == team)
            return [_follow_up(f) for f in s.scalars(stmt.order_by(FollowUp.id))]

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
                raise NotFound(f"no follow-up {follow_up_id}")
            if not result.rowcount:
                raise Conflict(f"follow-up {follow_up_id} is '{row.status}', not open")
            return _follow_up(row)


def _conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        row.id, row.language, row.state, row.team, _aware(row.created_at), _aware(row.updated_at)
    )


def _text(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"{what} cannot be empty")
    text = text.strip()
    if len(text) > MAX_REPLY_CHARS:
        raise BadRequest(
            f"{what} may be at most {MAX_REPLY_CHARS} characters; this has {len(text)}"
        )
    return text


def _is_id(value: str) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 36 and value.isalnum()


def _refusal(verb: str, state: str) -> str:
    why = {
        "bot": "the bot has it (nobody asked for a person)",
        "waiting": "it is waiting in the queue; claim it first",
        "agent": "an agent has already claimed it",
        "closed": "it is closed",
    }.get(state, f"it is '{state}'")
    return f"cannot {verb} this conversation: {why}"


def _asked(s: Session, conversation_id: str) -> FollowUp | None:
    """The conversation's e-mail offer the member has not answered yet."""
    return s.scalars(
        select(FollowUp).where(
            FollowUp.conversation_id == conversation_id, FollowUp.status == "asked"
        )
    ).first()
