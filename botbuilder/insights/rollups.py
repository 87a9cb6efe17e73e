"""Finished days' figures kept as one row a day, so a long period reads few rows (issue 12).

Counting 180 days of stored rows takes seconds; reading 180 kept days takes
milliseconds. So `figures` asks `kept_days` for the days of its period that
ended more than `SETTLE` ago and are not sealed. A day not kept yet is counted
once, by the same `counting.count_rows` (per language), and kept in
`insights_rollups` as one row: the day's rows and its check counts (`CHECKS`).

Unlike a sealed day, a kept day's stored rows are still there and can change.
A kept day is dropped, and counted again by the look that finds out, when:

- a conversation with rows on that day was updated after the day was kept: a
  handoff claimed or closed days later, an agent's first reply, the member's
  first message in a conversation opened days before, a changed language. Each
  of these moves `conversations.updated_at`, so each look reads the
  conversations updated since the last look's mark (less `MARGIN`, for
  transactions that commit late) and drops the days of their rows;
- its check counts differ from those of the stored rows: rows deleted (a
  member's erasure request, empty conversations purged), feedback changed in
  place (👍 to 👎), or rows stored with an old time. That is one count per
  table over the kept days, and per day only when one differs;
- the bot's timezone or a team's office hours changed: a day is kept per
  `basis`, and read only in the basis it was counted in.

Safe on two replicas at once: a day is one row with a unique key (day and
basis), inserted or ignored, so a day is never half written; drops and the
mark only ever move towards the newer state. The rows hold counts, intent ids,
team names, languages and durations in seconds: nothing about a member.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, delete, func, select, update
from sqlalchemy.exc import OperationalError

from botbuilder.content.model import TeamSettings
from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message
from botbuilder.db.base import aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.insights.aggregates import Rollup, RollupMark, insert_or_ignore
from botbuilder.insights.counting import DayRow, count_rows
from botbuilder.insights.local_time import LocalStamps, day_start

__all__ = ["CHECKS", "MARGIN", "SETTLE", "basis", "kept_days", "settled"]

SETTLE = timedelta(days=1)  # a day is kept once it ended this long ago
MARGIN = timedelta(minutes=10)  # updates are read again this far back (late commits)
# per kept day: conversations opened, member messages, handoffs and ratings that day, and
# the sum of the ids of the helpful ratings (a rating changed in place changes it)
CHECKS = ("conversations", "member_messages", "handoffs", "feedback", "helpful_ids")
_MARK = "updates"

log = logging.getLogger(__name__)


def basis(timezone: str, teams: Mapping[str, TeamSettings]) -> str:
    """What a day's figures were counted in: the bot's timezone and the teams' office hours."""
    office = sorted(
        (name, t.timezone, sorted((d, tuple(s)) for d, s in t.hours.items()), t.closed_days)
        for name, t in teams.items()
    )
    return hashlib.sha256(repr((timezone, office)).encode()).hexdigest()[:16]


def settled(days: Iterable[date], timezone: str, now: datetime) -> list[date]:
    """The days of `days` that ended `SETTLE` or more before `now`."""
    return [d for d in days if day_start(d + timedelta(days=1), timezone) + SETTLE <= now]


@dataclass
class _Look:
    """What one look found: kept days (day -> rows, checks), days counted now, days to drop."""

    kept: dict[str, tuple[dict[str, Any], list[int]]]
    counted: dict[str, tuple[dict[str, Any], list[int]]] = field(default_factory=dict)
    drops: set[str] = field(default_factory=set)
    drop_all: bool = False
    mark: datetime | None = None


def kept_days(
    database: Database,
    connection: Connection,
    days: list[date],
    timezone: str,
    teams: Mapping[str, TeamSettings],
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[set[str], list[DayRow]]:
    """The days of `days` that are settled, each kept (or counted and kept now), and
    their rows (of `language` only, when given). `connection` reads; the writes
    go in one short transaction of their own."""
    now = now or utcnow()
    ready = settled(days, timezone, now)
    if not ready:
        return set(), []
    key = basis(timezone, teams)
    look = _Look(_stored(connection, ready, key))
    # The mark is shared by every period: read up to the end of any day that can be kept.
    _late_changes(connection, look, now - SETTLE)
    for day in look.drops:
        look.kept.pop(day, None)
    _count(connection, look, [d for d in ready if d.isoformat() not in look.kept], timezone, teams)
    _check(connection, look, ready, timezone, teams)
    _write(database, look, key)
    wanted = {d.isoformat() for d in ready}
    rows: list[DayRow] = []
    for day, (stored, _checks) in (*look.kept.items(), *look.counted.items()):
        if day in wanted:
            rows.extend(_day_rows(day, stored, language))
    return wanted, rows


def _packed(rows: list[DayRow]) -> dict[str, Any]:
    """A day's rows as kept: {"n": {language: {metric: {key: count}}}, "h": {language:
    {team: [first responses, resolutions, both in office hours]}}} (seconds or null)."""
    counts: dict[str, Any] = {}
    handoffs: dict[str, Any] = {}
    for r in rows:
        if r.metric == "handoffs":
            handoffs.setdefault(r.language, {})[r.key] = [
                list(column) for column in zip(*r.values, strict=True)
            ]
        else:
            counts.setdefault(r.language, {}).setdefault(r.metric, {})[r.key] = r.count
    return {"n": counts, "h": handoffs}


def _day_rows(day: str, packed: dict[str, Any], language: str | None) -> list[DayRow]:
    """The rows of a kept day; of all languages added up when `language` is None."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    times: dict[str, list[tuple[int | None, ...]]] = defaultdict(list)
    for lang, metrics in packed["n"].items():
        if language is None or lang == language:
            for metric, keys in metrics.items():
                for key, n in keys.items():
                    counts[(metric, key)] += n
    for lang, teams in packed["h"].items():
        if language is None or lang == language:
            for team, columns in teams.items():
                times[team].extend(zip(*columns, strict=True))
    lang = language or ""
    return [DayRow(day, lang, metric, key, n) for (metric, key), n in counts.items()] + [
        DayRow(day, lang, "handoffs", team, len(values), tuple(values))
        for team, values in times.items()
    ]


def _stored(c: Connection, days: list[date], key: str) -> dict[str, tuple[Any, list[int]]]:
    stmt = select(Rollup.day, Rollup.rows, Rollup.checks).where(
        Rollup.basis == key, Rollup.day >= days[0].isoformat(), Rollup.day <= days[-1].isoformat()
    )
    return {day: (rows, list(checks)) for day, rows, checks in c.execute(stmt)}


def _late_changes(c: Connection, look: _Look, before: datetime) -> None:
    """Drop the kept days with rows of conversations updated since the last look's mark."""
    look.mark = c.execute(select(func.max(Conversation.updated_at))).scalar()
    since = c.execute(select(RollupMark.at).where(RollupMark.name == _MARK)).scalar()
    if since is None:  # no mark: what was kept may have changed unseen
        look.drop_all = bool(look.kept) or c.execute(select(func.count(Rollup.day))).scalar() != 0
        look.drops |= set(look.kept)
        return
    late = c.execute(
        select(Conversation.id, Conversation.created_at).where(
            Conversation.updated_at > aware_utc(since) - MARGIN, Conversation.created_at < before
        )
    ).all()
    stamps = [at for _id, at in late]
    ids = [cid for cid, _at in late]
    for at in range(0, len(ids), 500):
        chunk = ids[at : at + 500]
        for table, *only in ((Handoff,), (Feedback,), (Message, Message.role == "member")):
            stmt = select(table.created_at).where(
                table.conversation_id.in_(chunk), table.created_at < before, *only
            )
            stamps.extend(c.execute(stmt).scalars())
    # Days are kept per basis, some perhaps in another timezone than this look's: a
    # moment's local day is its UTC day or the one before or after in every zone.
    for day in {aware_utc(at).date() for at in stamps}:
        look.drops |= {(day + timedelta(days=n)).isoformat() for n in (-1, 0, 1)}


def _runs(days: list[date]) -> list[list[date]]:
    """`days` (ascending) cut where a day is missing."""
    runs: list[list[date]] = []
    for day in days:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _count(
    c: Connection,
    look: _Look,
    days: list[date],
    timezone: str,
    teams: Mapping[str, TeamSettings],
) -> None:
    """Count `days` from the stored rows: their checks first, so a change made while
    counting shows as a difference on the next look rather than going unseen."""
    for run in _runs(days):
        start, end = day_start(run[0], timezone), day_start(run[-1] + timedelta(1), timezone)
        checks = _day_checks(c, start, end, timezone)
        rows: dict[str, list[DayRow]] = {d.isoformat(): [] for d in run}
        for r in count_rows(c, start, end, timezone, teams, by_language=True):
            if r.day in rows:
                rows[r.day].append(r)
        for day, day_rows in rows.items():
            look.counted[day] = (_packed(day_rows), checks.get(day, [0] * len(CHECKS)))


def _check(
    c: Connection,
    look: _Look,
    days: list[date],
    timezone: str,
    teams: Mapping[str, TeamSettings],
) -> None:
    """Compare the kept days' checks with the stored rows'; count again where they differ."""
    for run in _runs(days):
        names = [d.isoformat() for d in run]
        if not any(n in look.kept for n in names):
            continue  # all counted just now
        start, end = day_start(run[0], timezone), day_start(run[-1] + timedelta(1), timezone)
        expected = [0] * len(CHECKS)
        for name in names:
            held = look.kept.get(name) or look.counted[name]
            expected = [a + b for a, b in zip(expected, held[1], strict=True)]
        if _range_checks(c, start, end) == expected:
            continue
        live = _day_checks(c, start, end, timezone)
        wrong = [
            d
            for d in run
            if d.isoformat() in look.kept
            and look.kept[d.isoformat()][1] != live.get(d.isoformat(), [0] * len(CHECKS))
        ]
        for day in wrong:
            look.drops.add(day.isoformat())
            del look.kept[day.isoformat()]
        _count(c, look, wrong, timezone, teams)


def _check_queries(start: datetime, end: datetime) -> list[tuple[Any, list[Any], list[Any]]]:
    """(time column, what to add up, conditions) per table, in the order of `CHECKS`."""
    helpful = func.sum(case((Feedback.helpful, Feedback.id), else_=0))
    return [
        (Conversation.created_at, [func.count()], []),
        (Message.created_at, [func.count()], [Message.role == "member"]),
        (Handoff.created_at, [func.count()], []),
        (Feedback.created_at, [func.count(), helpful], []),
    ]


def _range_checks(c: Connection, start: datetime, end: datetime) -> list[int]:
    out: list[int] = []
    for column, sums, conditions in _check_queries(start, end):
        row = c.execute(select(*sums).where(column >= start, column < end, *conditions)).one()
        out.extend(int(v or 0) for v in row)
    return out


def _day_checks(
    c: Connection, start: datetime, end: datetime, timezone: str
) -> dict[str, list[int]]:
    """The checks per local day, grouped on `LocalStamps` hour buckets (cheap on SQLite)."""
    stamps = LocalStamps(c.dialect.name, timezone, start, end)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(CHECKS))
    at = 0
    for column, sums, conditions in _check_queries(start, end):
        stamp = stamps.sql(column).label("stamp")
        stmt = select(stamp, *sums).where(column >= start, column < end, *conditions)
        for bucket, *values in c.execute(stmt.group_by(stamp)):
            day = out[stamps.local(bucket)[:10]]
            for i, v in enumerate(values):
                day[at + i] += int(v or 0)
        at += len(sums)
    return dict(out)


def _write(database: Database, look: _Look, key: str) -> None:
    """Drops, newly counted days and the mark, in one transaction."""
    if not (look.drops or look.drop_all or look.counted or look.mark):
        return
    try:
        _store(database, look, key)
    except OperationalError as exc:  # e.g. SQLite busy past its timeout: count again next look
        log.warning(
            "insights: kept days not written (%s); they are counted again", type(exc).__name__
        )


def _store(database: Database, look: _Look, key: str) -> None:
    now = utcnow()
    with database.engine.begin() as c:
        if look.drop_all:
            c.execute(delete(Rollup))
        drops = sorted(look.drops)
        for at in range(0, len(drops), 500):
            c.execute(delete(Rollup).where(Rollup.day.in_(drops[at : at + 500])))
        insert_or_ignore(
            c,
            Rollup.__table__,  # type: ignore[arg-type]
            [
                {"day": day, "basis": key, "rows": rows, "checks": checks, "rolled_at": now}
                for day, (rows, checks) in sorted(look.counted.items())
            ],
        )
        if look.mark is not None:
            mark = aware_utc(look.mark)
            insert_or_ignore(c, RollupMark.__table__, [{"name": _MARK, "at": mark}])  # type: ignore[arg-type]
            c.execute(
                update(RollupMark)
                .where(RollupMark.name == _MARK, RollupMark.at < mark)
                .values(at=mark)
            )
