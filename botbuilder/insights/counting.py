"""The day rows the figures are made of, counted from the stored conversations.

Each `DayRow` is one count for one local day and language: conversations,
member messages per hour, decisions, answers per intent, feedback per intent,
and handoffs per team with each handoff's times. `aggregates.seal` writes
exactly these rows for days whose transcripts will be purged, and `figures`
adds rows up the same way whether they come from here or from the sealed
table, so the figures of a day do not change when its messages are gone.

Every count is a GROUP BY in the database; only handoffs come back one per row
(a period has thousands at most), because their percentiles need each time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, case, exists, func, or_, select

from botbuilder.content.model import TeamSettings
from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message
from botbuilder.insights.local_time import LocalStamps, OfficeClock

__all__ = ["METRICS", "DayRow", "count_rows"]

# metric -> what its key holds
METRICS = {
    "conversations": "",  # conversations started that day in which the member wrote
    "member_messages": "local hour, 00-23",
    "decisions": "answer, clarify or handoff",
    "answers": "intent id",
    "helpful": "intent id of the rated bot message ('' if none)",
    "not_helpful": "intent id of the rated bot message ('' if none)",
    "handoffs": "team; values: [first response, resolution, both in office hours] per handoff",
    "claimed": "team",
}
DECISIONS = ("answer", "clarify", "handoff")
ENDED = ("closed", "returned")  # a handoff that ended with the conversation (not a transfer)


@dataclass(slots=True)  # not frozen: a long period makes tens of thousands, and a
class DayRow:  # frozen dataclass is several times slower to make
    day: str  # YYYY-MM-DD, in the bot's timezone
    language: str
    metric: str
    key: str
    count: int
    values: tuple[tuple[int | None, ...], ...] = ()


def count_rows(
    connection: Connection,
    start: datetime,
    end: datetime,
    timezone: str,
    teams: Mapping[str, TeamSettings] | None = None,
    language: str | None = None,
    by_language: bool = False,
) -> list[DayRow]:
    """Every day row for what happened from `start` (inclusive) to `end` (exclusive).

    Rows are per language with `language` (only that one) or `by_language`;
    otherwise message counts carry language '' and skip the join with the
    conversations, which is most of the time of a month of figures.
    """
    counter = _Counter(connection, start, end, timezone, language, by_language)
    return [
        *counter.conversations(),
        *counter.member_messages(),
        *counter.decisions(),
        *counter.feedback(),
        *counter.handoffs(teams or {}),
    ]


class _Counter:
    def __init__(
        self,
        connection: Connection,
        start: datetime,
        end: datetime,
        timezone: str,
        language: str | None,
        by_language: bool,
    ) -> None:
        self.connection = connection
        self.start, self.end = start, end
        self.timezone = timezone
        self.dialect = connection.dialect.name
        self.stamps = LocalStamps(self.dialect, timezone, start, end)
        self.language = language
        self.joined = by_language or language is not None
        # the language of a message's conversation, when it is asked for
        self.languages: list[Any] = [Conversation.language] if self.joined else []

    def _stamp(self, column: Any, hours: bool = True) -> Any:
        """SQL to group on; `_execute` turns what it gives into the local stamp."""
        return self.stamps.sql(column, hours).label("stamp")

    def _within(self, column: Any) -> Any:
        condition = and_(column >= self.start, column < self.end)
        if self.language is not None:
            condition = and_(condition, Conversation.language == self.language)
        return condition

    def _of_conversation(self, stmt: Any, conversation_id: Any) -> Any:
        """`stmt` joined with the conversations, if the language is asked for."""
        return stmt.join(Conversation, Conversation.id == conversation_id) if self.joined else stmt

    def _execute(self, stmt: Any, hours: bool = True, joined: bool | None = None) -> list[Any]:
        """Rows with the local stamp first and the language in second place ('' when
        not asked for). Several rows may carry the same stamp: callers add them up."""
        rows = self.connection.execute(stmt).all()
        local = self.stamps.local
        if self.joined if joined is None else joined:
            return [(local(r[0], hours), *r[1:]) for r in rows]
        return [(local(r[0], hours), "", *r[1:]) for r in rows]

    def conversations(self) -> list[DayRow]:
        stamp = self._stamp(Conversation.created_at, hours=False)
        wrote = exists().where(Message.conversation_id == Conversation.id, Message.role == "member")
        rows = self._execute(
            select(stamp, Conversation.language, func.count())
            .where(self._within(Conversation.created_at), wrote)
            .group_by(stamp, Conversation.language),
            hours=False,
            joined=True,
        )
        return _by_day(rows, "conversations", lambda _stamp: "")

    def member_messages(self) -> list[DayRow]:
        stamp = self._stamp(Message.created_at)
        stmt = select(stamp, *self.languages, func.count()).select_from(Message)
        rows = self._execute(
            self._of_conversation(stmt, Message.conversation_id)
            .where(self._within(Message.created_at), Message.role == "member")
            .group_by(stamp, *self.languages)
        )
        return _by_day(rows, "member_messages", lambda stamp: stamp[11:13])

    def decisions(self) -> list[DayRow]:
        """Decisions on member messages, and the answers among them per intent."""
        stamp = self._stamp(Message.created_at, hours=False)
        stmt = select(stamp, *self.languages, Message.decision, Message.intent, func.count())
        rows = self._execute(
            self._of_conversation(stmt.select_from(Message), Message.conversation_id)
            .where(
                self._within(Message.created_at),
                Message.role == "member",
                Message.decision.in_(DECISIONS),
            )
            .group_by(stamp, *self.languages, Message.decision, Message.intent),
            hours=False,
        )
        counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for day, language, decision, intent, count in rows:
            counts[(day, language, "decisions", decision)] += count
            if decision == "answer" and intent:
                counts[(day, language, "answers", intent)] += count
        return [DayRow(*key, count) for key, count in counts.items()]

    def feedback(self) -> list[DayRow]:
        stamp = self._stamp(Feedback.created_at, hours=False)
        stmt = select(stamp, *self.languages, Message.intent, Feedback.helpful, func.count())
        stmt = stmt.select_from(Feedback).join(Message, Message.id == Feedback.message_id)
        rows = self._execute(
            self._of_conversation(stmt, Feedback.conversation_id)
            .where(self._within(Feedback.created_at))
            .group_by(stamp, *self.languages, Message.intent, Feedback.helpful),
            hours=False,
        )
        counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for day, language, intent, helpful, count in rows:
            metric = "helpful" if helpful else "not_helpful"
            counts[(day, language, metric, intent or "")] += count
        return [DayRow(*key, count) for key, count in counts.items()]

    def _epoch(self, column: Any) -> Any:
        """SQL for the POSIX time of `column`, a float (NULL stays NULL)."""
        if self.dialect == "postgresql":
            return func.extract("epoch", column)
        return (func.julianday(column) - _UNIX_JULIAN_DAY) * 86400.0

    def handoffs(self, teams: Mapping[str, TeamSettings]) -> list[DayRow]:
        """Per day, language and team: the handoffs, with each one's times, and the claimed.

        The times come back as POSIX seconds and are worked out per team as arrays
        (`OfficeClock.many`), not one datetime at a time."""
        agent = Message.__table__.alias("agent_message")
        first_reply = (
            select(func.min(agent.c.created_at))
            .where(
                agent.c.conversation_id == Handoff.conversation_id,
                agent.c.role == "agent",
                agent.c.created_at >= Handoff.created_at,
                or_(Handoff.closed_at.is_(None), agent.c.created_at <= Handoff.closed_at),
            )
            .scalar_subquery()
        )
        ended = case((Handoff.status.in_(ENDED), Handoff.closed_at), else_=None)
        stmt = select(
            self._stamp(Handoff.created_at, hours=False),
            *self.languages,
            Handoff.team,
            Handoff.claimed_at.is_not(None),
            self._epoch(Handoff.created_at),
            self._epoch(first_reply),
            self._epoch(ended),
        ).select_from(Handoff)
        rows = self._execute(
            self._of_conversation(stmt, Handoff.conversation_id).where(
                self._within(Handoff.created_at)
            ),
            hours=False,
        )
        by_team: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_team[row[2]].append(row)
        out: list[DayRow] = []
        for team, team_rows in by_team.items():
            out.extend(_team_rows(team, team_rows, OfficeClock(teams.get(team))))
        return out


_UNIX_JULIAN_DAY = 2440587.5  # the Julian day of 1970-01-01 00:00 UTC


def _seconds(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _team_rows(team: str, rows: list[Any], office: OfficeClock) -> list[DayRow]:
    """The handoffs and claimed day rows of one team: per handoff [first response,
    resolution, first response in office hours, resolution in office hours] in seconds."""
    _days, _languages, _teams, _claimed, created, replied, ended = zip(*rows, strict=True)
    start, reply, end = _seconds(created), _seconds(replied), _seconds(ended)
    columns = [reply - start, end - start, office.many(start, reply), office.many(start, end)]
    as_ints = [
        [None if v != v else int(v) for v in np.round(column).tolist()] for column in columns
    ]
    times: dict[tuple[str, str], list[tuple[int | None, ...]]] = defaultdict(list)
    claimed: dict[tuple[str, str], int] = defaultdict(int)
    for (day, language, _team, was_claimed, *_), handoff in zip(
        rows, zip(*as_ints, strict=True), strict=True
    ):
        times[(day, language)].append(handoff)
        claimed[(day, language)] += bool(was_claimed)
    return [
        DayRow(day, language, "handoffs", team, len(values), tuple(values))
        for (day, language), values in times.items()
    ] + [DayRow(day, language, "claimed", team, n) for (day, language), n in claimed.items() if n]


def _by_day(rows: Any, metric: str, key_of: Any) -> list[DayRow]:
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for stamp, language, count in rows:
        counts[(stamp[:10], language, metric, key_of(stamp))] += count
    return [DayRow(*key, count) for key, count in counts.items()]
