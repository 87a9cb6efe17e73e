"""Days and hours in the bot's timezone, worked out by the database.

Times are stored in UTC. Counting per local day or hour in Python would mean
reading every message; instead the database groups on a local "YYYY-MM-DD HH"
stamp. PostgreSQL converts with `timezone(zone, column)`; SQLite knows no
zones, so it groups on a UTC bucket that lies within one local hour (the
stored text's hour, or its ten minutes or minute for zones whose offsets are
not whole hours) and Python names each bucket's local hour once
(`LocalStamps`). That is exact for any zone across daylight saving, and
several times cheaper than a CASE of `strftime` modifiers per row (180 days
of member messages: 0.65 s before, 0.1 s after).

Office hours are counted for many handoffs at once (`OfficeClock.many`): the
open seconds since the first day as a step function, so the office time of
a handoff is a difference of two look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import ColumnElement, case, func, literal

from botbuilder.content.model import TeamSettings
from botbuilder.errors import BadRequest

__all__ = [
    "DEFAULT_TIMEZONE",
    "FIGURE_YEARS",
    "day_start",
    "LocalStamps",
    "OfficeClock",
    "open_seconds",
    "team_timezone",
    "zone",
]

# The years a period or filter may name: botbuilder has no figures before 1970, and a day
# near year 1 or 9999 overflows the date arithmetic of a period (a 500, not a refusal).
FIGURE_YEARS = range(1970, 9001)

DEFAULT_TIMEZONE = "Europe/Amsterdam"


def zone(name: str) -> ZoneInfo:
    """The timezone `name`, or a BadRequest that says what is wrong."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown timezone '{name}'; use a name like Europe/Amsterdam") from exc


def team_timezone(teams: Mapping[str, TeamSettings], default_team: str | None = None) -> str:
    """The bot's timezone: its default team's, else its first team's, else Amsterdam's."""
    team = teams.get(default_team or "") or next(iter(teams.values()), None)
    return team.timezone if team is not None else DEFAULT_TIMEZONE


def day_start(day: date, timezone: str) -> datetime:
    """The UTC instant at which `day` begins in `timezone`."""
    return datetime.combine(day, time(0), tzinfo=zone(timezone)).astimezone(UTC)


class LocalStamps:
    """Local 'YYYY-MM-DD HH' (or 'YYYY-MM-DD') stamps of a column, for rows between
    `start` and `end`: `sql(column)` to group on, `local(value)` for what it gave.

    PostgreSQL converts in SQL (`timezone(zone, column)`) and `local` only cuts.
    SQLite stores UTC times as text. For hours it groups on the text's first
    characters: a UTC hour, or ten minutes or a minute where the zone's offsets
    or their changes in the period are not whole hours (India, Nepal). Each
    such bucket lies within one local hour, and `local` names it (once per
    bucket): exact for any zone, and several times cheaper than converting
    every row. For days it converts each row (`strftime` with the offset that
    holds, a CASE where daylight saving changes it), which yields 24 times
    fewer groups than hour buckets would."""

    def __init__(self, dialect: str, timezone: str, start: datetime, end: datetime) -> None:
        self.postgres = dialect == "postgresql"
        self.tz = zone(timezone)
        self.timezone = timezone
        self.changes = _offsets(self.tz, start, end)
        self.width = _bucket_width(self.changes)
        self._names: dict[str, str] = {}

    def sql(self, column: Any, hours: bool = True) -> ColumnElement[str]:
        if self.postgres:
            pattern = "YYYY-MM-DD HH24" if hours else "YYYY-MM-DD"
            return func.to_char(func.timezone(self.timezone, column), pattern)
        if not hours:  # a day: 24 times fewer groups than hour buckets, converted per row
            return func.strftime("%Y-%m-%d", column, self._modifier(column))
        return func.substr(column, 1, self.width)

    def _modifier(self, column: Any) -> Any:
        """SQLite's modifier from UTC to local time: a CASE where the offset changes."""
        first, *rest = self.changes
        if not rest:
            return literal(_modifier(first[1]))
        whens = [
            (column < at, _modifier(before))
            for (_, before), (at, _) in zip(self.changes, rest, strict=False)
        ]
        return case(*whens, else_=_modifier(self.changes[-1][1]))

    def local(self, value: str, hours: bool = True) -> str:
        if hours and not self.postgres:
            named = self._names.get(value)
            if named is None:
                padded = value + ":00"[len(value) - 13 :]  # to 'YYYY-MM-DD HH:MM'
                moment = datetime.fromisoformat(padded).replace(tzinfo=UTC)
                named = moment.astimezone(self.tz).strftime("%Y-%m-%d %H")
                self._names[value] = named
            value = named
        return value if hours else value[:10]


def _modifier(offset: timedelta) -> str:
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def _bucket_width(changes: list[tuple[datetime, timedelta]]) -> int:
    """How many characters of a stored 'YYYY-MM-DD HH:MM…' make a bucket within one
    local hour: 13 (the hour), 15 (ten minutes) or 16 (the minute)."""
    minutes = {int(offset.total_seconds() // 60) % 60 for _, offset in changes}
    minutes |= {at.minute for at, _ in changes[1:]}
    if minutes <= {0}:
        return 13
    return 15 if all(m % 10 == 0 for m in minutes) else 16


def _offsets(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    """(from when, UTC offset) for every offset that holds between `start` and `end`."""
    moment = start - timedelta(days=1)
    stop = end + timedelta(days=1)
    current = _offset(tz, moment)
    changes = [(moment, current)]
    while moment < stop:
        following = moment + timedelta(hours=1)
        offset = _offset(tz, following)
        if offset != current:
            changes.append((_change_between(tz, moment, following, current), offset))
            current = offset
        moment = following
    return changes


def _offset(tz: ZoneInfo, at: datetime) -> timedelta:
    return at.astimezone(tz).utcoffset() or timedelta(0)


def _change_between(tz: ZoneInfo, before: datetime, after: datetime, offset: timedelta) -> datetime:
    """The first minute after `before` at which the offset is no longer `offset`."""
    low, high = 0, int((after - before).total_seconds() // 60)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(tz, before + timedelta(minutes=middle)) == offset:
            low = middle
        else:
            high = middle
    return before + timedelta(minutes=high)


def open_seconds(team: TeamSettings | None, start: datetime, end: datetime) -> int:
    """Seconds between `start` and `end` that fall inside `team`'s office hours.

    A team without settings or without hours is always open, like
    `conversations.office_hours.is_open`.
    """
    return OfficeClock(team).seconds(start, end)


class OfficeClock:
    """Office-hours seconds of one team, with each day's openings worked out once, as
    POSIX times (a month of handoffs asks about the same few dozen days thousands of
    times, and comparing floats is far cheaper than comparing zoned datetimes)."""

    def __init__(self, team: TeamSettings | None) -> None:
        self.team = team
        self.tz = zone(team.timezone) if team is not None and team.hours else None
        self._openings: dict[date, tuple[tuple[float, float], ...]] = {}

    def seconds(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        if self.tz is None:
            return round((end - start).total_seconds())
        low, high = start.timestamp(), end.timestamp()
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        total = 0.0
        while day <= last:
            for opens, closes in self._day(day):
                if closes > low and opens < high:
                    total += min(high, closes) - max(low, opens)
            day += timedelta(days=1)
        return round(total)

    def many(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """`seconds` for arrays of POSIX times (NaN where there is no end): floats, NaN
        where `ends` is NaN, 0 where the end is not after the start."""
        starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
        known = ~np.isnan(ends)
        out = np.full(len(starts), np.nan)
        if not known.any():
            return out
        if self.tz is None:
            out[known] = np.maximum(ends[known] - starts[known], 0.0)
            return out
        low, high = float(starts.min()), float(np.nanmax(ends))
        day = datetime.fromtimestamp(low, self.tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(max(high, low), self.tz).date() + timedelta(days=1)
        spans: list[tuple[float, float]] = []
        while day <= last:
            spans.extend(self._day(day))
            day += timedelta(days=1)
        if not spans:
            out[known] = 0.0
            return out
        spans.sort()
        opens = np.array([o for o, _ in spans])
        lengths = np.array([c - o for o, c in spans])
        before = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])

        def open_until(t: np.ndarray) -> np.ndarray:
            """Open seconds from the first span's opening until each time in `t`."""
            k = np.searchsorted(opens, t, side="right") - 1  # the last span opened by then
            j = np.maximum(k, 0)
            return np.where(k >= 0, before[j] + np.clip(t - opens[j], 0.0, lengths[j]), 0.0)

        a, b = starts[known], ends[known]
        out[known] = np.where(b > a, open_until(b) - open_until(a), 0.0)
        return out

    def _day(self, day: date) -> tuple[tuple[float, float], ...]:
        openings = self._openings.get(day)
        if openings is None:
            assert self.team is not None and self.tz is not None
            hours = () if day in self.team.closed_days else self.team.hours.get(day.weekday(), ())
            openings = tuple(
                (
                    datetime.combine(day, opens, tzinfo=self.tz).timestamp(),
                    datetime.combine(day, closes, tzinfo=self.tz).timestamp(),
                )
                for opens, closes in hours
            )
            self._openings[day] = openings
        return openings
