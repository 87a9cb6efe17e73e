"""The thumbs-down review: every 👎 with the question, the answer given and what came next.

A manager reads these to see where the bot answers wrongly: the member's
question (the last member message before the answer), the answer the bot
gave, and what the member did next (their next message, a handoff to a
team, or nothing). Rows are grouped per intent, worst first (most 👎), and
read a page at a time: each page is one small query per intent group it
touches, with the question and what came next looked up only for that page's
rows (correlated subqueries on the messages' conversation index), so the
page costs the same on 100,000 conversations as on a hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message
from botbuilder.db.base import aware_utc
from botbuilder.db.engine import Database
from botbuilder.insights.figures import Period
from botbuilder.insights.local_time import day_start

__all__ = ["MAX_PAGE", "PER_PAGE", "FeedbackPage", "IntentFeedback", "ThumbsDown", "thumbs_down"]

PER_PAGE = 50
MAX_PAGE = 10_000  # deeper than anyone reads; bounds the OFFSET a request can ask for


@dataclass(frozen=True)
class IntentFeedback:
    """One intent's 👍 and 👎 in the period (intent None: bot messages without one)."""

    intent: str | None
    not_helpful: int
    helpful: int


@dataclass(frozen=True)
class ThumbsDown:
    """One 👎: the question, the answer, and what the member did next."""

    message_id: int  # the bot message that was marked
    conversation_id: str
    language: str
    intent: str | None
    question: str  # "" when the answer had no member message before it (a greeting)
    answer: str
    answered_at: datetime
    next_message: str | None  # the member's next message, if any
    handoff_team: str | None  # the team of the first handoff after the answer, if any

    @property
    def next_step(self) -> str:
        """What happened next, in one word: "handoff", "message" or "nothing"."""
        if self.handoff_team is not None:
            return "handoff"
        return "message" if self.next_message is not None else "nothing"


@dataclass(frozen=True)
class FeedbackPage:
    groups: tuple[IntentFeedback, ...]  # every intent with a 👎 in the period, worst first
    items: tuple[ThumbsDown, ...]  # this page's rows, in the order of `groups`
    page: int
    pages: int
    total: int  # 👎 in the period


def thumbs_down(
    database: Database, period: Period, page: int = 1, per_page: int = PER_PAGE
) -> FeedbackPage:
    """The 👎 given in `period`, grouped per intent, newest first: one page of them."""
    period.check()
    page = max(1, min(page, MAX_PAGE))
    start = day_start(period.since, period.timezone)
    end = day_start(period.until + timedelta(days=1), period.timezone)
    language = period.language
    with database.session() as s:
        counted = s.execute(_counts(start, end, language)).all()
        groups = sorted(
            (IntentFeedback(row.intent, int(row.not_helpful), int(row.helpful)) for row in counted),
            key=lambda g: (-g.not_helpful, g.helpful / (g.helpful + g.not_helpful), g.intent or ""),
        )
        groups = [g for g in groups if g.not_helpful]
        total = sum(g.not_helpful for g in groups)
        items: list[ThumbsDown] = []
        offset, wanted = (page - 1) * per_page, per_page
        for group in groups:
            if wanted <= 0:
                break
            if offset >= group.not_helpful:
                offset -= group.not_helpful
                continue
            rows = s.execute(_rows(start, end, language, group.intent, offset, wanted)).all()
            items += [_thumbs_down(row) for row in rows]
            wanted -= len(rows)
            offset = 0
    pages = max(1, -(-total // per_page))
    return FeedbackPage(tuple(groups), tuple(items), page, pages, total)


def _in_period(stmt: Any, start: datetime, end: datetime, language: str | None) -> Any:
    # Counted when the member rated, as `figures` counts feedback, so the totals agree.
    stmt = stmt.where(Feedback.created_at >= start, Feedback.created_at < end)
    if language:
        stmt = stmt.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.language == language
        )
    return stmt


def _counts(start: datetime, end: datetime, language: str | None) -> Any:
    not_helpful = func.sum(case((Feedback.helpful.is_(False), 1), else_=0))
    helpful = func.sum(case((Feedback.helpful.is_(True), 1), else_=0))
    stmt = select(
        Message.intent.label("intent"),
        not_helpful.label("not_helpful"),
        helpful.label("helpful"),
    ).join(Message, Message.id == Feedback.message_id)
    return _in_period(stmt, start, end, language).group_by(Message.intent)


def _rows(
    start: datetime,
    end: datetime,
    language: str | None,
    intent: str | None,
    offset: int,
    limit: int,
) -> Any:
    other = aliased(Message)
    same_conversation = other.conversation_id == Message.conversation_id
    question = (
        select(other.text)
        .where(same_conversation, other.role == "member", other.id < Message.id)
        .order_by(other.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    next_message = (
        select(other.text)
        .where(same_conversation, other.role == "member", other.id > Message.id)
        .order_by(other.id)
        .limit(1)
        .scalar_subquery()
    )
    handoff_team = (
        select(Handoff.team)
        .where(
            Handoff.conversation_id == Message.conversation_id,
            Handoff.created_at >= Message.created_at,
        )
        .order_by(Handoff.id)
        .limit(1)
        .scalar_subquery()
    )
    owner = aliased(Conversation)  # not the outer query's, which a language filter joins
    language_of = (
        select(owner.language).where(owner.id == Message.conversation_id).scalar_subquery()
    )
    stmt = select(
        Message.id,
        Message.conversation_id,
        language_of.label("language"),
        Message.intent,
        question.label("question"),
        Message.text.label("answer"),
        Message.created_at,
        next_message.label("next_message"),
        handoff_team.label("handoff_team"),
    ).join(Feedback, Feedback.message_id == Message.id)
    stmt = stmt.where(
        Feedback.helpful.is_(False),
        Message.intent.is_(None) if intent is None else Message.intent == intent,
    )
    return (
        _in_period(stmt, start, end, language)
        .order_by(Feedback.id.desc())
        .offset(offset)
        .limit(limit)
    )


def _thumbs_down(row: Any) -> ThumbsDown:
    return ThumbsDown(
        message_id=row.id,
        conversation_id=row.conversation_id,
        language=row.language or "",
        intent=row.intent,
        question=row.question or "",
        answer=row.answer,
        answered_at=aware_utc(row.created_at),
        next_message=row.next_message,
        handoff_team=row.handoff_team,
    )
