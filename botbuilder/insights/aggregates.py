"""Daily figures kept after the transcripts are gone (migration 0007).

The purge deletes messages and feedback of conversations past retention, and
the figures of those days would go with them. So before it deletes, the purge
calls `seal`: the day rows of `counting` for every whole day before a given
day are written to `insights_daily`, and the day to `insights_sealed_days`.
From then on `figures` reads that day from here and no longer from the
stored rows, so a period's figures are the same before and after the purge.

The rows hold counts, intent ids, team names, languages and durations in
seconds: nothing about a member. Sealing is safe to repeat and to run on two
replicas at once: every row has a unique key and is inserted or ignored, and a
day's rows and its seal are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.content.model import HandoffSettings, TeamSettings
from botbuilder.conversations.store import Conversation
from botbuilder.db.base import Base, aware_utc, upsert, utcnow
from botbuilder.db.engine import Database
from botbuilder.insights.counting import DayRow, count_rows
from botbuilder.insights.local_time import day_start, team_timezone, zone

__all__ = [
    "DailyFigure",
    "RollupMark",
    "Rollup",
    "SealedDay",
    "insert_or_ignore",
    "seal",
    "seal_before",
    "sealed_rows",
]


class DailyFigure(Base):  # created by migration 0007
    __tablename__ = "insights_daily"
    __table_args__ = (
        UniqueConstraint("day", "language", "metric", "key", name="uq_insights_daily_row"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the bot's timezone
    language: Mapped[str] = mapped_column(String(8))
    metric: Mapped[str] = mapped_column(String(32))  # see counting.METRICS
    key: Mapped[str] = mapped_column(String(100), default="")
    count: Mapped[int] = mapped_column(Integer)
    # handoffs only: per handoff [first response, resolution, the same in office hours] (s)
    durations: Mapped[list[list[int | None]] | None] = mapped_column(JSON, nullable=True)


class SealedDay(Base):  # created by migration 0007
    __tablename__ = "insights_sealed_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rollup(Base):  # created by migration 0018; kept and checked by `rollups`
    """A finished day's figures as counted from the stored rows, which are still there:
    a cache that `rollups` drops when a later change touches the day."""

    __tablename__ = "insights_rollups"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # in the bot's timezone
    basis: Mapped[str] = mapped_column(String(16), primary_key=True)  # timezone and office hours
    rows: Mapped[dict[str, Any]] = mapped_column(JSON)  # see rollups._packed
    checks: Mapped[list[int]] = mapped_column(JSON)  # see rollups.CHECKS
    rolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RollupMark(Base):  # created by migration 0018
    """How far `rollups` has read the conversations' updates for late changes."""

    __tablename__ = "insights_rollup_marks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def seal(
    database: Database,
    until_day: date,
    timezone: str,
    teams: Mapping[str, TeamSettings] | None = None,
) -> list[date]:
    """Keep the figures of every whole day before `until_day` not kept yet; the days sealed."""
    with database.engine.begin() as c:
        first = c.execute(select(func.min(Conversation.created_at))).scalar()
        if first is None:
            return []
        day = aware_utc(first).astimezone(zone(timezone)).date()
        done = set(
            c.execute(
                select(SealedDay.day).where(
                    SealedDay.day >= day.isoformat(), SealedDay.day < until_day.isoformat()
                )
            ).scalars()
        )
        days = []
        while day < until_day:
            if day.isoformat() not in done:
                days.append(day)
            day += timedelta(days=1)
        if not days:
            return []
        wanted = {d.isoformat() for d in days}
        start, end = day_start(days[0], timezone), day_start(days[-1] + timedelta(1), timezone)
        rows = count_rows(c, start, end, timezone, teams, by_language=True)
        rows = [r for r in rows if r.day in wanted]
        insert_or_ignore(c, DailyFigure.__table__, [_stored(r) for r in rows])  # type: ignore[arg-type]
        now = utcnow()
        insert_or_ignore(
            c,
            SealedDay.__table__,  # type: ignore[arg-type]
            [{"day": d, "timezone": timezone, "sealed_at": now} for d in sorted(wanted)],
        )
    return days


def seal_before(
    database: Database, cutoff: datetime, handoff: HandoffSettings | None = None
) -> list[date]:
    """Seal every day up to and including the one `cutoff` falls on, in the bot's timezone
    (the purge's cutoff: rows before it are about to go). That day is over: the cutoff
    is a day or more ago."""
    handoff = handoff or HandoffSettings()
    timezone = team_timezone(handoff.teams, handoff.default_team)
    last = cutoff.astimezone(zone(timezone)).date()
    return seal(database, last + timedelta(days=1), timezone, handoff.teams)


def sealed_rows(
    connection: Connection, since: date, until: date, language: str | None = None
) -> tuple[set[str], list[DayRow]]:
    """The sealed days from `since` to `until` (inclusive), and their rows."""
    days = set(
        connection.execute(
            select(SealedDay.day).where(
                SealedDay.day >= since.isoformat(), SealedDay.day <= until.isoformat()
            )
        ).scalars()
    )
    if not days:
        return days, []
    stmt = select(
        DailyFigure.day,
        DailyFigure.language,
        DailyFigure.metric,
        DailyFigure.key,
        DailyFigure.count,
        DailyFigure.durations,
    ).where(DailyFigure.day >= since.isoformat(), DailyFigure.day <= until.isoformat())
    if language is not None:
        stmt = stmt.where(DailyFigure.language == language)
    rows = [
        DayRow(day, lang, metric, key, count, tuple(tuple(d) for d in durations or ()))
        for day, lang, metric, key, count, durations in connection.execute(stmt)
        if day in days
    ]
    return days, rows


def _stored(row: DayRow) -> dict[str, Any]:
    return {
        "day": row.day,
        "language": row.language,
        "metric": row.metric,
        "key": row.key,
        "count": row.count,
        "durations": [list(d) for d in row.values] if row.values else None,
    }


def insert_or_ignore(c: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert `rows`, skipping any whose unique key is there already (another replica's)."""
    rows = list(rows)
    if not rows:
        return
    if c.dialect.name in ("postgresql", "sqlite"):
        stmt: Any = upsert(c.dialect.name, table).on_conflict_do_nothing()
    else:
        stmt = insert(table)
    for at in range(0, len(rows), 1000):
        c.execute(stmt, rows[at : at + 1000])
