"""The figures of a period: what members asked, how the bot decided, how fast the team was.

One function, `figures`, serves the dashboard, its CSV files and
`botbuilder insights --json`, so they always agree. Days the purge has
sealed come from `aggregates`, finished days from the days `rollups` keeps
(and checks for later changes), the last day or two are counted from the
stored rows (`counting`), and all are added up by the same code. The shape of the
result is in docs/insights.md and docs/insights.schema.json.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from botbuilder.content.model import Bot
from botbuilder.conversations.followups import FollowUp
from botbuilder.db.engine import Database
from botbuilder.errors import N_, BadRequest
from botbuilder.insights.aggregates import sealed_rows
from botbuilder.insights.counting import DECISIONS, DayRow, count_rows
from botbuilder.insights.local_time import DEFAULT_TIMEZONE, day_start, team_timezone, zone
from botbuilder.insights.rollups import kept_days

__all__ = [
    "MAX_DAYS",
    "TOP_INTENTS",
    "Period",
    "bot_timezone",
    "compose",
    "default_period",
    "figures",
    "percentile",
]

TOP_INTENTS = 20
MAX_DAYS = 3660  # ten years: a longer period is a typo
_SQLITE_MMAP = 1 << 30  # bytes of the database file SQLite may map (only what it reads is)


@dataclass(frozen=True)
class Period:
    since: date  # inclusive, in the bot's timezone
    until: date  # inclusive
    language: str | None = None
    timezone: str = DEFAULT_TIMEZONE  # the bot's timezone, for days and hours

    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def check(self) -> None:
        """BadRequest when the period cannot be counted."""
        if self.until < self.since:
            raise BadRequest(
                N_("the period ends (%(until)s) before it starts (%(since)s)"),
                until=self.until,
                since=self.since,
            )
        if (self.until - self.since).days >= MAX_DAYS:
            raise BadRequest(N_("a period can be at most %(days)s days"), days=MAX_DAYS)
        zone(self.timezone)


def default_period(today: date, days: int = 30) -> Period:
    """The last `days` days, today included."""
    return Period(since=today - timedelta(days=days - 1), until=today)


def bot_timezone(bot: Bot) -> str:
    """The timezone the bot's days and hours are counted in: that of its default team."""
    handoff = bot.settings.handoff
    return team_timezone(handoff.teams, handoff.default_team)


def figures(
    database: Database,
    period: Period,
    bot: Bot | None = None,
    *,
    keep: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every figure of `period` as JSON-ready data (see docs/insights.md).

    With `keep`, days that ended a day or more before `now` are read from (and
    first counted into) the kept days of `rollups`; without, they are counted
    from the stored rows: the figures are the same either way."""
    period.check()
    teams = bot.settings.handoff.teams if bot is not None else {}
    end = day_start(period.until + timedelta(days=1), period.timezone)
    with database.engine.connect() as c:
        if c.dialect.name == "sqlite":
            # Read the file through a memory map: the counts probe indexes of a large
            # file in random order, and a read() per page was half of their time.
            c.exec_driver_sql(f"PRAGMA mmap_size={_SQLITE_MMAP}")
        done, rows = sealed_rows(c, period.since, period.until, period.language)
        open_days = [d for d in period.days() if d.isoformat() not in done]
        if keep and open_days:
            kept, kept_rows = kept_days(
                database, c, open_days, period.timezone, teams, period.language, now
            )
            done |= kept
            rows += kept_rows
            open_days = [d for d in open_days if d.isoformat() not in kept]
        if open_days:
            start = day_start(open_days[0], period.timezone)
            live = count_rows(c, start, end, period.timezone, teams, period.language)
            rows += [r for r in live if r.day not in done]
        waiting = select(func.count()).select_from(FollowUp).where(FollowUp.status == "open")
        if period.language is not None:
            waiting = waiting.where(FollowUp.language == period.language)
        follow_ups = int(c.execute(waiting).scalar() or 0)
    return compose(period, rows, follow_ups)


def compose(period: Period, rows: Iterable[DayRow], follow_ups_waiting: int) -> dict[str, Any]:
    """The figures from day rows (sealed or counted: the same sum either way)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)  # (metric, key) -> count
    per_day: dict[tuple[str, str], int] = defaultdict(int)  # (day, metric or decision) -> count
    hours, weekdays = [0] * 24, [0] * 7
    handoffs: dict[str, list[tuple[int | None, ...]]] = defaultdict(list)
    for row in rows:
        totals[(row.metric, row.key)] += row.count
        if row.metric == "conversations":
            per_day[(row.day, "conversations")] += row.count
        elif row.metric == "decisions":
            per_day[(row.day, row.key)] += row.count
        elif row.metric == "member_messages":
            hours[int(row.key)] += row.count
            weekdays[date.fromisoformat(row.day).weekday()] += row.count
        elif row.metric == "handoffs":
            handoffs[row.key].extend(row.values)
    decisions = {d: totals[("decisions", d)] for d in DECISIONS}
    decided = sum(decisions.values())
    return {
        "period": {
            "since": period.since.isoformat(),
            "until": period.until.isoformat(),
            "language": period.language,
            "timezone": period.timezone,
        },
        "conversations": totals[("conversations", "")],
        "member_messages": sum(hours),
        "decisions": decisions,
        "answered_rate": round(decisions["answer"] / decided, 4) if decided else 0.0,
        "trend": [
            {
                "day": day.isoformat(),
                "conversations": per_day[(day.isoformat(), "conversations")],
                **{d: per_day[(day.isoformat(), d)] for d in DECISIONS},
            }
            for day in period.days()
        ],
        "top_intents": _top_intents(totals),
        "feedback": _feedback(totals),
        "handoffs": _handoffs(handoffs, totals),
        "busiest": {"hours": hours, "weekdays": weekdays},
        "follow_ups_waiting": follow_ups_waiting,
    }


def _top_intents(totals: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    answers = [(key, n) for (metric, key), n in totals.items() if metric == "answers" and n]
    answers.sort(key=lambda item: (-item[1], item[0]))
    return [{"intent": intent, "count": n} for intent, n in answers[:TOP_INTENTS]]


def _feedback(totals: dict[tuple[str, str], int]) -> dict[str, Any]:
    helpful = {k: n for (m, k), n in totals.items() if m == "helpful"}
    unhelpful = {k: n for (m, k), n in totals.items() if m == "not_helpful"}
    # A rated message without an intent (a greeting, a handoff text) counts in the totals only.
    rated = [
        (intent, helpful.get(intent, 0), unhelpful.get(intent, 0))
        for intent in set(helpful) | set(unhelpful)
        if intent
    ]
    rated.sort(key=lambda r: (-r[2], -r[2] / ((r[1] + r[2]) or 1), r[0]))
    by_intent = [{"intent": i, "helpful": h, "not_helpful": n} for i, h, n in rated]
    return {
        "helpful": sum(helpful.values()),
        "not_helpful": sum(unhelpful.values()),
        "by_intent": by_intent,
    }


def _handoffs(
    per_team: dict[str, list[tuple[int | None, ...]]], totals: dict[tuple[str, str], int]
) -> dict[str, Any]:
    everything = [times for team in sorted(per_team) for times in per_team[team]]
    return {
        "count": len(everything),
        "claimed": sum(n for (metric, _), n in totals.items() if metric == "claimed"),
        **_times(everything, 0, 1),
        "office_hours": _times(everything, 2, 3),
        "by_team": [
            {
                "team": team,
                "count": len(per_team[team]),
                "claimed": totals[("claimed", team)],
                **_times(per_team[team], 0, 1),
            }
            for team in sorted(per_team)
        ],
    }


def _times(handoffs: list[tuple[int | None, ...]], first: int, resolution: int) -> dict[str, Any]:
    firsts = [h[first] for h in handoffs if h[first] is not None]
    resolutions = [h[resolution] for h in handoffs if h[resolution] is not None]
    return {
        "first_response_seconds_p50": percentile(firsts, 50),  # type: ignore[arg-type]
        "first_response_seconds_p90": percentile(firsts, 90),  # type: ignore[arg-type]
        "resolution_seconds_p50": percentile(resolutions, 50),  # type: ignore[arg-type]
        "resolution_seconds_p90": percentile(resolutions, 90),  # type: ignore[arg-type]
    }


def percentile(values: list[int], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 1)
