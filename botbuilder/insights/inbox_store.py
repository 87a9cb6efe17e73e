"""The gap inbox's table: one row per member question the bot missed, with its state.

A question enters once (`message_id` is the key), with why it entered and the
intent whose answer the member rejected, if any; its state (new, accepted,
ignored) and the group it was last put in live on the same row, so they
survive re-clustering: an ignored question never comes back, an accepted one
waits until the bot has it as a phrasing. The row carries the question's
`conversation_id`, so deleting or purging a member's conversations removes
it too (`privacy.tables` treats every table with that column as theirs); its
vector lives here rather than in the embedding cache file for the same
reason: the cache is not a member table, and nothing a member wrote should
outlive their deletion.

`inbox_scan` finds the questions and puts them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    LargeBinary,
    String,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.conversations.store import Message
from botbuilder.db.base import Base, aware_utc

__all__ = [
    "REASONS",
    "STATES",
    "GapQuestion",
    "InboxRow",
    "load_rows",
    "save_groups",
    "set_state",
    "unread",
]

STATES = ("new", "accepted", "ignored")
# Why a question is in the inbox: handed off for low confidence; asked back
# ("Bedoelde je…?") without a pick; answered and marked not helpful; answered,
# then the member asked for a person; put there by a manager from a transcript.
REASONS = ("low_confidence", "clarify", "not_helpful", "person", "manual")


class GapQuestion(Base):
    __tablename__ = "gap_questions"
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(16))
    # The intent whose answer the member rejected (👎, or a person asked for
    # right after it): never suggested as the home of this question.
    rejected_intent: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    # The suggestion this question was last grouped into; "" alone (loose);
    # None: not grouped yet (new since the last clustering).
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    typicality: Mapped[float] = mapped_column(Float, default=0.0)  # closeness to its group
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    vector_model: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class InboxRow:
    """One inbox question with what the grouping and the suggestion need."""

    message_id: int
    conversation_id: str
    language: str
    text: str
    reason: str
    rejected_intent: str | None
    state: str
    group_id: str | None
    typicality: float
    asked_at: datetime


def load_rows(
    session: Session,
    *,
    language: str | None = None,
    states: Iterable[str] = ("new",),
    group_id: str | None = None,
    since: datetime | None = None,
    read_by: str | None = None,
    grouped: bool = False,
) -> list[InboxRow]:
    """Inbox questions with their text and stored scores, oldest first; only those
    read (encoded) by the model `read_by`, or only those in a group or loose (`grouped`),
    if asked: a first look at a large inbox has read few of them."""
    q = GapQuestion
    # Columns, not whole rows: a row also holds its vector, which the grouping
    # reads on its own (`vectors_of`) and most reads never need.
    stmt = (
        select(
            q.message_id,
            q.conversation_id,
            q.language,
            Message.text,
            q.reason,
            q.rejected_intent,
            q.state,
            q.group_id,
            q.typicality,
            q.asked_at,
        )
        .join(Message, Message.id == q.message_id)
        .where(q.state.in_(tuple(states)))
        .order_by(q.message_id)
    )
    if language is not None:
        stmt = stmt.where(q.language == language)
    if group_id is not None:
        stmt = stmt.where(q.group_id == group_id)
    if since is not None:
        stmt = stmt.where(q.asked_at >= since)
    if read_by is not None:
        stmt = stmt.where(q.vector_model == read_by, q.vector.is_not(None))
    if grouped:
        stmt = stmt.where(q.group_id.is_not(None))
    return [
        InboxRow(m, c, lang, text, reason, rejected, state, group, typical, aware_utc(asked))
        for m, c, lang, text, reason, rejected, state, group, typical, asked in session.execute(
            stmt
        )
    ]


def version(session: Session) -> tuple[Any, ...]:
    """A cheap mark that changes whenever the inbox does: a question in or out,
    a state decided, a regrouping (by this process or another)."""
    return tuple(
        session.execute(
            select(
                func.count(),
                func.max(GapQuestion.message_id),
                func.max(GapQuestion.decided_at),
                func.count(GapQuestion.group_id),
                func.sum(GapQuestion.typicality),
            )
        ).one()
    )


def last_asked(session: Session) -> datetime | None:
    """When the newest question in the inbox was asked."""
    newest = session.scalar(select(func.max(GapQuestion.asked_at)))
    return aware_utc(newest) if newest is not None else None


def _unread(model: str) -> Any:
    """New questions without a vector of `model`: not read (encoded) yet."""
    q = GapQuestion
    return and_(
        q.state == "new", or_(q.vector.is_(None), q.vector_model.is_(None), q.vector_model != model)
    )


def unread(session: Session, model: str, limit: int | None) -> list[tuple[int, str]]:
    """(message id, text) of up to `limit` unread questions, newest first."""
    stmt = (
        select(GapQuestion.message_id, Message.text)
        .join(Message, Message.id == GapQuestion.message_id)
        .where(_unread(model))
        .order_by(GapQuestion.message_id.desc())
        .limit(limit)
    )
    return [(m, text) for m, text in session.execute(stmt)]


def count_unread(session: Session, model: str, language: str | None = None) -> int:
    stmt = select(func.count()).select_from(GapQuestion).where(_unread(model))
    if language is not None:
        stmt = stmt.where(GapQuestion.language == language)
    return int(session.scalar(stmt) or 0)


def pending_languages(session: Session, model: str) -> set[str]:
    """Languages with new questions that are read but not grouped yet."""
    q = GapQuestion
    return {
        language
        for (language,) in session.execute(
            select(q.language)
            .where(q.state == "new", q.group_id.is_(None), q.vector_model == model)
            .where(q.vector.is_not(None))
            .distinct()
        )
    }


def vectors_of(session: Session, message_ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
    """The stored vectors of these questions made by `model` (others are missing)."""
    found: dict[int, np.ndarray] = {}
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        for message_id, blob in session.execute(
            select(GapQuestion.message_id, GapQuestion.vector).where(
                GapQuestion.message_id.in_(chunk),
                GapQuestion.vector_model == model,
                GapQuestion.vector.is_not(None),
            )
        ):
            if blob is not None:
                found[message_id] = np.frombuffer(blob, dtype=np.float32)
    return found


def save_vectors(session: Session, vectors: dict[int, np.ndarray], model: str) -> None:
    if vectors:
        session.execute(
            update(GapQuestion),
            [
                {
                    "message_id": m,
                    "vector": v.astype(np.float32).tobytes(),
                    "vector_model": model,
                }
                for m, v in vectors.items()
            ],
        )


def save_groups(session: Session, groups: dict[int, tuple[str, float]]) -> None:
    """Record each question's group id ("" for loose) and typicality."""
    if groups:
        session.execute(
            update(GapQuestion),
            [{"message_id": m, "group_id": g, "typicality": t} for m, (g, t) in groups.items()],
        )


def set_state(
    session: Session, message_ids: Sequence[int], state: str, by: str | None, at: datetime
) -> None:
    session.execute(
        update(GapQuestion)
        .where(GapQuestion.message_id.in_(list(message_ids)))
        .values(state=state, decided_by=by, decided_at=at)
    )
