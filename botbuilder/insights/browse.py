"""The conversations browser's queries: filters, search on member text, keyset pages.

Pages are keyset-paginated, newest first, on (created_at, id): a page is one
walk down the conversations' created_at index from the cursor, whatever page
it is, where OFFSET would read and throw away every row before it. The cursor
names the last conversation shown, so conversations that arrive while someone
reads do not shift the pages after it.

Filters on messages, handoffs and feedback are `id IN (subquery)`: each
subquery runs once (a covering index for intent and decision, one scan of the
messages for the search), and the walk tests each conversation against its
result. Measured on 100,000 generated conversations (SQLite, 2 cores), EXISTS
per conversation took 50 ms when many matched but 3 to 4 s when none did (an
index probe and a row read for every conversation); this way every filter
stays within about 0.5 s. The search is LIKE with `%`, `_` and the escape
character escaped (ILIKE on PostgreSQL; SQLite's LIKE ignores ASCII case
already), on member messages only, at most 200 characters. Times in and out are
UTC; dates from a person are days in the bot's timezone. `benchmarks/browse.py`
measures the pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from botbuilder.content.plain_text import untypable
from botbuilder.conversations.states import STATES
from botbuilder.conversations.store import (
    Conversation,
    Feedback,
    Handoff,
    Message,
    is_conversation_id,
)
from botbuilder.db.base import aware_utc
from botbuilder.db.engine import Database
from botbuilder.errors import N_, BadRequest
from botbuilder.insights.local_time import FIGURE_YEARS

__all__ = [
    "DECISIONS",
    "FEEDBACK",
    "MAX_SEARCH_CHARS",
    "PAGE_SIZE",
    "ConversationRow",
    "Filters",
    "Page",
    "browse",
    "filters_from",
    "like_pattern",
]

PAGE_SIZE = 50
MAX_SEARCH_CHARS = 200  # a search longer than any question is a mistake, not a query
DECISIONS = ("answer", "clarify", "handoff")
FEEDBACK = ("helpful", "not_helpful", "none")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?")
_CURSOR = re.compile(r"([0-9]{20})-([0-9A-Za-z]{1,36})")
_CURSOR_TIME = "%Y%m%d%H%M%S%f"
_ESCAPE = "\\"


@dataclass(frozen=True)
class Filters:
    """What a manager or agent narrowed the list to; empty values filter nothing."""

    since: date | None = None
    until: date | None = None
    language: str | None = None
    decision: str | None = None  # a member question the bot answered, clarified or handed off
    intent: str | None = None  # a member question matched to this intent
    feedback: str | None = None  # helpful | not_helpful | none
    team: str | None = None  # handed off to this team (at any time in the conversation)
    state: str | None = None
    search: str = ""  # words in a member's message
    timezone: str = "Europe/Amsterdam"  # the days of since/until are days here

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments, for links to the next page."""
        values: dict[str, Any] = {
            "since": self.since,
            "until": self.until,
            "language": self.language,
            "decision": self.decision,
            "intent": self.intent,
            "feedback": self.feedback,
            "team": self.team,
            "state": self.state,
            "q": self.search,
        }
        return {k: str(v) for k, v in values.items() if v}


@dataclass(frozen=True)
class ConversationRow:
    """One line of the list: the conversation and a summary of what happened in it."""

    id: str
    created_at: datetime  # UTC
    language: str
    state: str
    team: str | None
    question: str  # the member's first message ("" if none yet)
    member_messages: int
    decisions: Mapping[str, int] = field(default_factory=dict)
    intents: tuple[str, ...] = ()
    helpful: int = 0
    not_helpful: int = 0


@dataclass(frozen=True)
class Page:
    rows: tuple[ConversationRow, ...]
    older: str | None  # the cursor of the next (older) page, None on the last page


# -- reading filters -------------------------------------------------------------------------


def filters_from(args: Mapping[str, str], timezone: str) -> Filters:
    """Filters from a query string; BadRequest naming the value that cannot be a filter."""
    since, until = _day(args, "since"), _day(args, "until")
    if since and until and since > until:
        raise BadRequest(
            N_("'since' (%(since)s) is after 'until' (%(until)s); swap them"),
            since=since,
            until=until,
        )
    language = _value(args, "language", 16)
    if language and not _LANGUAGE.fullmatch(language):
        raise BadRequest(
            N_("'language' must be a language code such as nl or en, not %(value)r"),
            value=language,
        )
    return Filters(
        since=since,
        until=until,
        language=language,
        decision=_choice(args, "decision", DECISIONS),
        intent=_value(args, "intent", 100),
        feedback=_choice(args, "feedback", FEEDBACK),
        team=_value(args, "team", 64),
        state=_choice(args, "state", STATES),
        search=_value(args, "q", MAX_SEARCH_CHARS) or "",
        timezone=timezone,
    )


def _value(args: Mapping[str, str], name: str, limit: int) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > limit:
        raise BadRequest(
            N_("'%(name)s' may be at most %(limit)s characters; this one has %(count)s"),
            name=name,
            limit=limit,
            count=len(value),
        )
    problem = untypable(value)
    if problem:
        raise BadRequest(
            N_("'%(name)s' contains %(problem)s; type plain text"), name=name, problem=problem
        )
    return value or None


def _choice(args: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    value = _value(args, name, 32)
    if value is not None and value not in choices:
        choices_text = ", ".join(choices)
        # The same words as the inbox's filters (server/inbox.py).
        raise BadRequest(
            N_("'%(name)s' must be one of %(choices)s; not %(value)r"),
            name=name,
            choices=choices_text,
            value=value,
        )
    return value


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = _value(args, name, 10)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            N_("'%(name)s' must be a date as YYYY-MM-DD, not %(value)r"), name=name, value=value
        ) from None
    if day.year not in FIGURE_YEARS:
        raise BadRequest(
            N_("'%(name)s' must be a date from 1970 to 9000, not %(value)r"),
            name=name,
            value=value,
        )
    return day


def like_pattern(words: str) -> str:
    """`words` as a LIKE pattern that finds them anywhere, with its wildcards escaped."""
    escaped = words.replace(_ESCAPE, _ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# -- cursors ---------------------------------------------------------------------------------


def cursor_of(row: ConversationRow) -> str:
    """The cursor that continues the list after `row`."""
    return f"{row.created_at.astimezone(UTC):{_CURSOR_TIME}}-{row.id}"


def _after(cursor: str) -> tuple[datetime, str]:
    found = _CURSOR.fullmatch(cursor)
    when = None
    if found and is_conversation_id(found.group(2)):
        try:
            when = datetime.strptime(found.group(1), _CURSOR_TIME)
        except ValueError:
            when = None
    if found is None or when is None:
        raise BadRequest(
            N_("'older' is not a cursor of this list; open the first page and follow its links")
        )
    return when.replace(tzinfo=UTC), found.group(2)


# -- the page --------------------------------------------------------------------------------


def browse(
    database: Database, filters: Filters, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of conversations, newest first, after `cursor` (from `Page.older`)."""
    insensitive = database.engine.dialect.name == "postgresql"
    stmt = select(Conversation).where(*_conditions(filters, insensitive))
    if cursor:
        when, conversation_id = _after(cursor)
        stmt = stmt.where(
            tuple_(Conversation.created_at, Conversation.id) < tuple_(when, conversation_id)
        )
    stmt = stmt.order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(limit + 1)
    with database.session() as s:
        found = list(s.scalars(stmt))
        more = len(found) > limit
        rows = _summaries(s, found[:limit])
    return Page(tuple(rows), cursor_of(rows[-1]) if more and rows else None)


def _conditions(filters: Filters, ilike: bool = False) -> list[ColumnElement[bool]]:
    c = Conversation
    conditions: list[ColumnElement[bool]] = []
    zone = ZoneInfo(filters.timezone)
    if filters.since:
        conditions.append(c.created_at >= _utc(filters.since, zone))
    if filters.until:
        conditions.append(c.created_at < _utc(filters.until + timedelta(days=1), zone))
    if filters.language:
        conditions.append(c.language == filters.language)
    if filters.state:
        conditions.append(c.state == filters.state)
    # `id || ''` is the same id, but SQLite will not drive the query from the subquery's
    # rows through it (and then sort them all): it walks the conversations newest first.
    walked = c.id.concat("")
    member = Message.role == "member"
    if filters.team:
        handed = select(Handoff.conversation_id).where(Handoff.team == filters.team)
        conditions.append(walked.in_(handed))
    if filters.decision:
        decided = select(Message.conversation_id).where(
            member, Message.decision == filters.decision
        )
        conditions.append(walked.in_(decided))
    if filters.intent:
        matched = select(Message.conversation_id).where(member, Message.intent == filters.intent)
        conditions.append(walked.in_(matched))
    if filters.search:
        pattern = like_pattern(filters.search)
        text = Message.text
        like = text.ilike(pattern, escape=_ESCAPE) if ilike else text.like(pattern, escape=_ESCAPE)
        # `role || ''`: read the messages in one scan, not row by row through the role index.
        said = select(Message.conversation_id).where(Message.role.concat("") == "member", like)
        conditions.append(walked.in_(said))
    if filters.feedback == "none":
        conditions.append(walked.not_in(select(Feedback.conversation_id)))
    elif filters.feedback:
        helpful = filters.feedback == "helpful"
        marked = select(Feedback.conversation_id).where(Feedback.helpful == helpful)
        conditions.append(walked.in_(marked))
    return conditions


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _summaries(s: Any, conversations: list[Conversation]) -> list[ConversationRow]:
    """What each conversation on the page holds, read in two queries for the whole page."""
    ids = [c.id for c in conversations]
    texts: dict[str, str] = {}
    counts: dict[str, int] = dict.fromkeys(ids, 0)
    decisions: dict[str, dict[str, int]] = {i: {} for i in ids}
    intents: dict[str, dict[str, None]] = {i: {} for i in ids}
    if ids:
        messages = s.execute(
            select(Message.conversation_id, Message.text, Message.decision, Message.intent)
            .where(Message.conversation_id.in_(ids), Message.role == "member")
            .order_by(Message.id)
        )
        for conversation_id, text, decision, intent in messages:
            texts.setdefault(conversation_id, text)
            counts[conversation_id] += 1
            if decision:
                mine = decisions[conversation_id]
                mine[decision] = mine.get(decision, 0) + 1
            if intent and decision == "answer":
                intents[conversation_id][intent] = None
    marks: dict[tuple[str, bool], int] = {}
    if ids:
        for conversation_id, helpful, n in s.execute(
            select(Feedback.conversation_id, Feedback.helpful, func.count())
            .where(Feedback.conversation_id.in_(ids))
            .group_by(Feedback.conversation_id, Feedback.helpful)
        ):
            marks[(conversation_id, bool(helpful))] = n
    return [
        ConversationRow(
            id=c.id,
            created_at=aware_utc(c.created_at),
            language=c.language,
            state=c.state,
            team=c.team,
            question=texts.get(c.id, ""),
            member_messages=counts[c.id],
            decisions=decisions[c.id],
            intents=tuple(intents[c.id]),
            helpful=marks.get((c.id, True), 0),
            not_helpful=marks.get((c.id, False), 0),
        )
        for c in conversations
    ]
