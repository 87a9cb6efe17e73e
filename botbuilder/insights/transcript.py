"""One conversation as the browser shows it: messages, handoffs and notes in order.

Each bot turn is paired with the member question it answered, which carries
what the matcher made of it (intent, confidence, decision, the candidates it
weighed), so a manager can see why the bot said what it said and teach it from
there. Agents' notes and the handoffs' moves come from their own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from botbuilder.conversations.queue import AgentNote
from botbuilder.conversations.store import (
    ConversationRecord,
    Handoff,
    MessageRecord,
    Storage,
    message_record,
)
from botbuilder.conversations.store import Message as MessageRow
from botbuilder.db.base import aware_utc

__all__ = ["HandoffEvent", "NoteEvent", "Transcript", "Turn", "transcript"]


@dataclass(frozen=True)
class Turn:
    """A message, and for a bot message the member question it answered (if any)."""

    message: MessageRecord
    question: MessageRecord | None = None  # the member message this bot message replied to
    feedback: bool | None = None  # the member's 👍 (True) or 👎 (False) on this bot message
    first_reply: bool = False  # the first bot message after its question: where actions go


@dataclass(frozen=True)
class HandoffEvent:
    team: str
    reason: str
    status: str
    claimed_by: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class NoteEvent:
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Transcript:
    conversation: ConversationRecord
    # In time order; each item is a Turn, a HandoffEvent or a NoteEvent.
    timeline: tuple[Turn | HandoffEvent | NoteEvent, ...]


def transcript(storage: Storage, conversation_id: str) -> Transcript:
    """The whole conversation in order; NotFound if there is none with this id."""
    conversation = storage.conversation(conversation_id)
    feedback = storage.feedback(conversation_id)
    with storage.session() as s:
        messages = [
            message_record(m)
            for m in s.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id)
            )
        ]
        handoffs = [
            HandoffEvent(
                h.team,
                h.reason,
                h.status,
                h.claimed_by,
                aware_utc(h.created_at),
                aware_utc(h.claimed_at) if h.claimed_at else None,
                aware_utc(h.closed_at) if h.closed_at else None,
            )
            for h in s.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation_id)
                .order_by(Handoff.id)
            )
        ]
        notes = [
            NoteEvent(n.author, n.text, aware_utc(n.created_at))
            for n in s.scalars(
                select(AgentNote)
                .where(AgentNote.conversation_id == conversation_id)
                .order_by(AgentNote.id)
            )
        ]
    timeline: list[tuple[datetime, int, Turn | HandoffEvent | NoteEvent]] = []
    for order, turn in enumerate(_turns(messages, feedback)):
        timeline.append((turn.message.created_at, order, turn))
    # A handoff is opened after the question that caused it and before the bot says so;
    # equal times keep messages first, then the handoff, then notes.
    events: list[HandoffEvent | NoteEvent] = [*handoffs, *notes]
    for i, event in enumerate(events, start=len(messages)):
        timeline.append((event.created_at, i, event))
    timeline.sort(key=lambda item: (item[0], item[1]))
    return Transcript(conversation, tuple(item[2] for item in timeline))


def _turns(messages: list[MessageRecord], feedback: dict[int, bool]) -> list[Turn]:
    turns = []
    question: MessageRecord | None = None
    answered: set[int] = set()
    for m in messages:
        if m.role == "member":
            question = m if m.decision else None
            turns.append(Turn(m))
            continue
        pair = question if m.role == "bot" else None
        first = pair is not None and pair.id not in answered
        if pair is not None:
            answered.add(pair.id)
        turns.append(Turn(m, pair, feedback.get(m.id), first))
    return turns
