"""Finding the member questions the bot missed, and putting them in the inbox's table.

`scan` finds them with SQL for the rows (only conversations that can hold
one: `_missable`) and light Python for "what came next in the conversation"
(see `_reasons`); `add_found` inserts them in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, and_, cast, insert, or_, select
from sqlalchemy.orm import Session, aliased

from botbuilder.conversations.store import Conversation, Feedback, Message
from botbuilder.db.base import aware_utc
from botbuilder.insights.inbox_store import GapQuestion

__all__ = ["Found", "add_found", "scan"]

_TABLE: Table = GapQuestion.__table__  # type: ignore[assignment]  # rows, not ORM objects


@dataclass(frozen=True)
class Found:
    """A question `scan` found, not yet in the inbox."""

    message_id: int
    conversation_id: str
    text: str
    conversation_language: str
    reason: str
    rejected_intent: str | None
    asked_at: datetime


# Stored with candidates: typed, not a pressed button. Told by SQL (decoding every
# message's JSON cost a quarter of the scan).
_TYPED = and_(
    Message.candidates.is_not(None), cast(Message.candidates, String).not_in(("[]", "null"))
)
_MESSAGE_COLUMNS = (
    Message.id,
    Message.conversation_id,
    Message.role,
    Message.text,
    Message.decision,
    Message.intent,
    _TYPED.label("typed"),
    Message.created_at,
)


def scan(session: Session, since: datetime | None, settle_before: datetime) -> list[Found]:
    """Questions of conversations active since `since` (None: all) that belong in the inbox.

    A question asked back and left without a next message counts only once it
    was asked before `settle_before`: the member may still be choosing.
    """
    rows_of = select(*_MESSAGE_COLUMNS, Conversation.language).join(
        Conversation, Conversation.id == Message.conversation_id
    )
    unhelpful_of = select(Feedback.message_id).where(Feedback.helpful.is_(False))
    known = select(GapQuestion.message_id)
    if since is None:  # every conversation that may hold a missed question
        rows_of = rows_of.where(Message.conversation_id.in_(_missable(None)))
    else:
        recent = select(Feedback.conversation_id).where(Feedback.created_at >= since)
        touched = select(Conversation.id).where(
            (Conversation.updated_at >= since) | Conversation.id.in_(recent)
        )
        rows_of = rows_of.where(Message.conversation_id.in_(_missable(touched)))
        unhelpful_of = unhelpful_of.where(Feedback.conversation_id.in_(touched))
        known = known.where(GapQuestion.conversation_id.in_(touched))
    rows = session.execute(
        rows_of.where(Message.role.in_(("member", "bot"))).order_by(
            Message.conversation_id, Message.id
        )
    ).all()
    if not rows:
        return []
    unhelpful = set(session.scalars(unhelpful_of))
    already = set(session.scalars(known))
    found: list[Found] = []
    start = 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end][1] != rows[start][1]:  # [1]: conversation_id
            found.extend(_reasons(rows[start:end], unhelpful, settle_before))
            start = end
    return [f for f in found if f.message_id not in already]


def _missable(touched: Any) -> Any:
    """The conversations (of `touched`; None: all) where `_reasons` can find a question:
    a typed one handed off or asked back, or answered in a conversation with a 👎 or
    a request for a person. The rest (most answered ones) are never read: the first
    scan of 100,000 conversations read every message."""
    asked = aliased(Message)
    member = and_(Message.role == "member", _TYPED)
    disliked = select(Feedback.conversation_id).where(Feedback.helpful.is_(False))
    person = select(asked.conversation_id).where(
        asked.role == "member", asked.decision == "handoff", asked.intent.is_(None)
    )
    if touched is not None:  # each part within them: a look reads no more than they hold
        member = and_(member, Message.conversation_id.in_(touched))
        disliked = disliked.where(Feedback.conversation_id.in_(touched))
        person = person.where(asked.conversation_id.in_(touched))
    return select(Message.conversation_id).where(
        member,
        or_(
            and_(Message.decision == "handoff", Message.intent.is_not(None)),
            Message.decision == "clarify",
            and_(
                Message.decision == "answer",
                Message.conversation_id.in_(disliked) | Message.conversation_id.in_(person),
            ),
        ),
    )


def add_found(
    session: Session, found: Sequence[Found], language_of: Callable[[Found], str]
) -> None:
    """Put what `scan` found in the inbox, new and not read yet, in one bulk insert
    (a first look at an old database takes in thousands at once) of plain rows:
    the ORM's bulk insert cost more than the rows' SQL."""
    if found:
        session.execute(
            insert(_TABLE),
            [
                {
                    "message_id": f.message_id,
                    "conversation_id": f.conversation_id,
                    "language": language_of(f),
                    "reason": f.reason,
                    "rejected_intent": f.rejected_intent,
                    "state": "new",
                    "typicality": 0.0,
                    "asked_at": f.asked_at,
                }
                for f in found
            ],
        )


def _is_typed(row: Any) -> bool:
    """A question the member typed: a pressed button is stored without candidates."""
    return row.role == "member" and bool(row.typed)


def _reasons(rows: Sequence[Any], unhelpful: set[int], settle_before: datetime) -> list[Found]:
    """The questions of one conversation (its messages in order) that the bot missed."""
    found = []
    for n, row in enumerate(rows):
        if not _is_typed(row):
            continue
        later = rows[n + 1 :]
        next_member = next((r for r in later if r.role == "member"), None)
        said = (
            [r for r in later[: later.index(next_member)] if r.role == "bot"]
            if next_member
            else [r for r in later if r.role == "bot"]
        )
        answer = next((r for r in said if r.decision == "answer" and r.intent), None)
        reason, rejected = None, None
        if row.decision == "handoff" and row.intent is not None:
            reason = "low_confidence"
        elif row.decision == "clarify":
            picked = (
                next_member is not None
                and next_member.decision == "answer"
                and not next_member.typed
            )
            settled = next_member is not None or aware_utc(row.created_at) < settle_before
            reason = "clarify" if settled and not picked else None
        elif row.decision == "answer" and answer is not None:
            if any(r.id in unhelpful for r in said):
                reason, rejected = "not_helpful", answer.intent
            elif (
                next_member is not None
                and next_member.decision == "handoff"
                and next_member.intent is None
            ):
                reason, rejected = "person", answer.intent
        if reason is not None:
            found.append(
                Found(
                    row.id,
                    row.conversation_id,
                    row.text,
                    row.language,
                    reason,
                    rejected,
                    aware_utc(row.created_at),
                )
            )
    return found
