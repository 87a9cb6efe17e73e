"""Run each job once per period, however many replicas tick: the claim is a database row.

Every replica's scheduler wakes each minute and asks each job whether a run
is due, and for which period ("slot": `2026-W48` for a weekly job,
`2026-11-27` for a daily one). It runs the job only when its INSERT of
`(job, slot)` into `scheduled_runs` succeeds: the unique key lets exactly one
replica win, on SQLite and on PostgreSQL alike, with no lock to hold or to
leave behind. A run that failed, or whose replica died while running it, may
be claimed again after `RETRY_AFTER`, at most `MAX_ATTEMPTS` times in all;
that re-claim is an UPDATE that names the claim it replaces, so again only one
replica wins.

The rows hold job names, periods, replica names and error messages about
servers, never member data (see `privacy.tables.STAFF_TABLES`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_AFTER",
    "Job",
    "RunRecord",
    "ScheduledRun",
    "Scheduler",
    "daily_slot",
    "weekly_slot",
]

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=15)  # a failed or abandoned run may be claimed again after this
MAX_ATTEMPTS = 3
TICK_SECONDS = 60.0


class ScheduledRun(Base):  # created by migration 0009
    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_scheduled_runs_job_slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str | None] = mapped_column(
        Text, nullable=True
    )  # summary or error, no member data
    failed: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class RunRecord:
    job: str
    slot: str
    claimed_by: str
    claimed_at: datetime
    finished_at: datetime | None
    attempts: int
    outcome: str | None
    failed: bool


@dataclass(frozen=True)
class Job:
    """A named piece of work; `slot(now)` is the period due at `now`, or None when nothing is."""

    name: str
    slot: Callable[[datetime], str | None]
    run: Callable[
        [str], str
    ]  # gets the slot, returns a one-line summary for the log (no member data)


def daily_slot(hour: int, timezone: str) -> Callable[[datetime], str | None]:
    """Due every day from `hour` o'clock in `timezone`; the slot is the local date."""
    zone = ZoneInfo(timezone)

    def slot(now: datetime) -> str | None:
        local = now.astimezone(zone)
        return local.date().isoformat() if local.hour >= hour else None

    return slot


def weekly_slot(weekday: int, hour: int, timezone: str) -> Callable[[datetime], str | None]:
    """Due on `weekday` (0 = Monday) from `hour` o'clock in `timezone`, until a day later.

    The slot is the ISO week, e.g. `2026-W48`. The window of a day means a
    server started on Thursday does not send Monday's digest late.
    """
    zone = ZoneInfo(timezone)

    def slot(now: datetime) -> str | None:
        local = now.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        for start_of_week in (monday, monday - timedelta(days=7)):
            day = start_of_week + timedelta(days=weekday)
            due = datetime.combine(day, time(hour), tzinfo=zone)
            if due <= local < due + timedelta(days=1):
                return iso_week(day)
        return None

    return slot


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _record(row: ScheduledRun) -> RunRecord:
    return RunRecord(
        row.job,
        row.slot,
        row.claimed_by,
        aware_utc(row.claimed_at),
        aware_utc(row.finished_at) if row.finished_at else None,
        row.attempts,
        row.outcome,
        bool(row.failed),
    )


class Scheduler:
    """Claims and runs due jobs on one database; `start()` ticks in a daemon thread."""

    def __init__(
        self,
        database: Database,
        jobs: Callable[[], Sequence[Job]],
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        interval: float = TICK_SECONDS,
    ) -> None:
        self.database = database
        self.jobs = jobs  # asked on each tick, so a changed bot.yml counts without a restart
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self, job: str, slot: str) -> bool:
        """True for the one replica that may run `job` for `slot` now."""
        now = self.clock()
        try:
            with self.database.session() as s, s.begin():
                s.add(ScheduledRun(job=job, slot=slot, claimed_by=self.name, claimed_at=now))
            return True
        except IntegrityError:
            pass  # another replica has it; it may be one to try again
        with self.database.session() as s, s.begin():
            row = s.scalars(
                select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.slot == slot)
            ).first()
            if row is None or not _retryable(row, now):
                return False
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(ScheduledRun)
                .where(
                    ScheduledRun.id == row.id,
                    ScheduledRun.claimed_at == row.claimed_at,
                    ScheduledRun.attempts == row.attempts,
                )
                .values(
                    claimed_by=self.name,
                    claimed_at=now,
                    attempts=row.attempts + 1,
                    finished_at=None,
                    failed=False,
                )
            )
            return bool(result.rowcount)

    def tick(self) -> list[str]:
        """Run every job that is due and claimed here; the names of those that ran."""
        ran = []
        now = self.clock()
        for job in self.jobs():
            slot = job.slot(now)
            if slot is None or not self.claim(job.name, slot):
                continue
            ran.append(job.name)
            self._run(job, slot)
        return ran

    def _run(self, job: Job, slot: str) -> None:
        try:
            outcome, failed = job.run(slot), False
            log.info("job %s %s: done on %s: %s", job.name, slot, self.name, outcome)
        except Exception as exc:  # a job's failure is recorded and retried, never kills the thread
            outcome, failed = f"{type(exc).__name__}: {exc}"[:500], True
            log.warning("job %s %s failed on %s: %s", job.name, slot, self.name, outcome)
        with self.database.session() as s, s.begin():
            s.execute(
                update(ScheduledRun)
                .where(ScheduledRun.job == job.name, ScheduledRun.slot == slot)
                .values(finished_at=self.clock(), outcome=outcome, failed=failed)
            )

    def runs(self, job: str | None = None) -> list[RunRecord]:
        """Recorded runs, newest first."""
        with self.database.session() as s:
            stmt = select(ScheduledRun).order_by(ScheduledRun.id.desc())
            if job:
                stmt = stmt.where(ScheduledRun.job == job)
            return [_record(r) for r in s.scalars(stmt)]

    def start(self) -> None:
        """Tick every `interval` seconds in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the ticking thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the database away for a minute must not end the schedule
                log.exception("scheduler tick failed")
            self._stop.wait(self.interval)


def _retryable(row: ScheduledRun, now: datetime) -> bool:
    if row.attempts >= MAX_ATTEMPTS or (row.finished_at is not None and not row.failed):
        return False
    return aware_utc(row.claimed_at) <= now - RETRY_AFTER
