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

Anything else is a `Conflict`. Each move's change of the conversation and of
its handoff is also checked against the tables in `states`. The queue is also
agents' `Presence` and members' `FollowUps`, so the console and the dialogue
hold one object with one clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.content.plain_text import plain_text
from botbuilder.content.rendering import render_markdown
from botbuilder.content.texts import system_text
from botbuilder.conversations.followups import FollowUps
from botbuilder.conversations.presence import Presence
from botbuilder.conversations.states import HANDOFF_TRANSITIONS, check_handoff_move, sources_of
from botbuilder.conversations.store import (
    Conversation,
    ConversationRecord,
    Handoff,
    HandoffRecord,
    Message,
    MessageRecord,
    Storage,
    conversation_record,
    handoff_record,
    is_conversation_id,
    message_record,
)
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.errors import N_, BadRequest, Conflict, NotFound, Phrase

__all__ = ["HandoffQueue", "NoteRecord", "QueueEntry"]

MAX_REPLY_CHARS = 4000


class AgentNote(Base):  # created by migration 0003
    __tablename__ = "agent_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


class HandoffQueue(Presence, FollowUps):
    """Waiting conversations and the agents who take them, on one storage."""

    def __init__(
        self,
        storage: Storage,
        teams: Callable[[], list[str]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # Presence and FollowUps need nothing else: they share these two attributes.
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
                record = handoff_record(handoff)
                entries.append(
                    QueueEntry(
                        record,
                        conversation_record(conversation),
                        max(0, int((now - record.created_at).total_seconds())),
                    )
                )
            return entries

    def current_handoff(self, conversation_id: str) -> HandoffRecord | None:
        """The latest queue entry of a conversation, whatever its status."""
        with self.storage.session() as s:
            row = self._latest(s, conversation_id)
            return handoff_record(row) if row else None

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
                if aware_utc(row.created_at) <= handoff.created_at:
                    return message_record(row)
        return None

    # -- moves --------------------------------------------------------------------------

    def claim(self, conversation_id: str, agent: str) -> ConversationRecord:
        """Take a waiting conversation; Conflict if someone else was first."""
        with self.storage.session() as s, s.begin():
            conversation = self._move(s, conversation_id, "agent", ("waiting",), "claim")
            handoff = self._advance(s, conversation_id, "claimed")
            if handoff is not None and handoff.status == "claimed":
                handoff.claimed_by, handoff.claimed_at = agent, self.clock()
            self._say(s, conversation, system_text("agent_joined", conversation.language))
        return self.storage.conversation(conversation_id)

    def reply(self, conversation_id: str, agent: str, text: str) -> MessageRecord:
        """An agent's message to the member; only the agent who claimed it may reply."""
        text = _text(text, N_("a reply"))
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
        return message_record(row)

    def note(self, conversation_id: str, agent: str, text: str) -> NoteRecord:
        """An internal note on a conversation: for agents only, never sent to the member."""
        text = _text(text, N_("a note"))
        self.storage.conversation(conversation_id)  # NotFound if missing
        row = AgentNote(
            conversation_id=conversation_id, author=agent, text=text, created_at=self.clock()
        )
        with self.storage.session() as s, s.begin():
            s.add(row)
        return NoteRecord(row.id, conversation_id, agent, text, aware_utc(row.created_at))

    def notes(self, conversation_id: str) -> list[NoteRecord]:
        with self.storage.session() as s:
            rows = s.scalars(
                select(AgentNote)
                .where(AgentNote.conversation_id == conversation_id)
                .order_by(AgentNote.id)
            )
            return [
                NoteRecord(n.id, n.conversation_id, n.author, n.text, aware_utc(n.created_at))
                for n in rows
            ]

    def transfer(self, conversation_id: str, agent: str, team: str) -> ConversationRecord:
        """Put the conversation back in the queue of another team."""
        if self.teams is not None and team not in self.teams():
            known = ", ".join(self.teams()) or "none"
            raise BadRequest(
                N_("there is no team '%(team)s'; this bot's teams: %(known)s"),
                team=team,
                known=known,
            )
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
            current = self._advance(s, conversation_id, "transferred")
            question = current.question if current else ""
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
            self._advance(s, conversation_id, status)
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
        """The conditional UPDATE every move starts with; the row stays locked until commit.

        It changes the state only from those of `expect` that the conversation table
        allows, so no move can make a transition `states.TRANSITIONS` does not list.
        """
        sources = sources_of(state, expect)
        values: dict[str, Any] = {"state": state, "updated_at": self.clock()}
        if team is not None:
            values["team"] = team
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.state.in_(sources))
            .values(**values)
        )
        row = s.get(Conversation, conversation_id) if is_conversation_id(conversation_id) else None
        if row is None:
            raise NotFound(N_("no conversation '%(id)s'"), id=conversation_id)
        if not result.rowcount:
            raise _refusal(verb, row.state)
        if owner is not None:
            latest = self._latest(s, conversation_id)
            holder = latest.claimed_by if latest and latest.status == "claimed" else None
            if holder is not None and holder != owner:
                raise Conflict(
                    N_("%(holder)s has this conversation; only they can %(action)s it"),
                    holder=holder,
                    action=Phrase(_VERBS[verb]),
                )
        return row

    def _advance(self, s: Session, conversation_id: str, status: str) -> Handoff | None:
        """Move the conversation's latest handoff to `status` if it is still open,
        along `states.HANDOFF_TRANSITIONS`; an ended one is left as it ended."""
        current = self._latest(s, conversation_id)
        if current is None or not HANDOFF_TRANSITIONS.get(current.status):
            return current
        check_handoff_move(current.status, status)
        current.status = status
        if status != "claimed":
            current.closed_at = self.clock()
        return current

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


def _text(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(N_("%(what)s cannot be empty"), what=Phrase(what))
    text = plain_text(text.strip(), what)
    if len(text) > MAX_REPLY_CHARS:
        raise BadRequest(
            N_("%(what)s may be at most %(most)d characters; this has %(length)d"),
            what=Phrase(what),
            most=MAX_REPLY_CHARS,
            length=len(text),
        )
    return text


# What an agent tried, and why a conversation in each state refuses it: the
# parts of a refusal, each translated on the console (errors.Phrase).
_VERBS = {
    "claim": N_("claim"),
    "reply to": N_("reply to"),
    "transfer": N_("transfer"),
    "hand back": N_("hand back"),
    "close": N_("close"),
}
_WHY = {
    "bot": N_("the bot has it (nobody asked for a person)"),
    "waiting": N_("it is waiting in the queue; claim it first"),
    "agent": N_("an agent has already claimed it"),
    "closed": N_("it is closed"),
}


def _refusal(verb: str, state: str) -> Conflict:
    return Conflict(
        N_("cannot %(action)s this conversation: %(why)s"),
        action=Phrase(_VERBS[verb]),
        why=Phrase(_WHY[state]),
    )
