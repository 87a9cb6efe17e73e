"""Scheduled jobs run once per period across replicas: the claim is a row in the database."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from botbuilder.content.loader import load_bot
from botbuilder.conversations.store import Conversation, Storage
from botbuilder.db.engine import Database
from botbuilder.jobs.schedule import PURGE_JOB, JobServices, server_jobs
from botbuilder.jobs.scheduler import (
    MAX_ATTEMPTS,
    RETRY_AFTER,
    Job,
    Scheduler,
    daily_slot,
    weekly_slot,
)

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday


class Clock:
    def __init__(self, now: datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def database(database_url: str) -> Database:
    return Database(database_url)


def _counting_job(runs: list[str], slot: str | None = "2026-11-27") -> Job:
    lock = threading.Lock()

    def run(s: str) -> str:
        with lock:
            runs.append(s)
        return "counted"

    return Job("count", lambda now: slot, run)


def test_two_schedulers_on_one_database_run_a_slot_once(database: Database) -> None:
    runs: list[str] = []
    job = _counting_job(runs)
    schedulers = [
        Scheduler(database, lambda: [job], name=f"replica-{n}", clock=Clock()) for n in range(2)
    ]
    barrier = threading.Barrier(len(schedulers))

    def replica(scheduler: Scheduler) -> None:
        barrier.wait()
        for _ in range(5):
            scheduler.tick()

    threads = [threading.Thread(target=replica, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert runs == ["2026-11-27"]
    [record] = schedulers[0].runs("count")
    assert record.finished_at is not None and record.outcome == "counted" and not record.failed


def test_the_next_slot_runs_again(database: Database) -> None:
    runs: list[str] = []
    slot = {"now": "2026-11-27"}
    job = Job("count", lambda now: slot["now"], lambda s: runs.append(s) or "ok")  # type: ignore[func-returns-value]
    scheduler = Scheduler(database, lambda: [job], clock=Clock())

    scheduler.tick()
    slot["now"] = "2026-11-28"
    scheduler.tick()
    scheduler.tick()

    assert runs == ["2026-11-27", "2026-11-28"]


def test_a_job_that_is_not_due_does_not_run(database: Database) -> None:
    runs: list[str] = []
    scheduler = Scheduler(database, lambda: [_counting_job(runs, slot=None)], clock=Clock())

    assert scheduler.tick() == [] and runs == [] and scheduler.runs() == []


def test_a_failed_run_is_recorded_and_retried_after_a_while_by_any_replica(
    database: Database,
) -> None:
    attempts: list[str] = []

    def flaky(slot: str) -> str:
        attempts.append(slot)
        if len(attempts) == 1:
            raise RuntimeError("the mail server is away")
        return "sent"

    job = Job("digest", lambda now: "2026-W48", flaky)
    clock = Clock()
    first = Scheduler(database, lambda: [job], name="a", clock=clock)
    second = Scheduler(database, lambda: [job], name="b", clock=clock)

    first.tick()
    [failed] = first.runs()
    assert failed.failed and failed.outcome == "RuntimeError: the mail server is away"
    assert second.tick() == []  # too soon to try again

    clock.now += RETRY_AFTER
    assert second.tick() == ["digest"]
    [done] = first.runs()
    assert (done.claimed_by, done.attempts, done.failed, done.outcome) == ("b", 2, False, "sent")
    clock.now += RETRY_AFTER
    assert first.tick() == [] and second.tick() == []


def test_a_run_that_keeps_failing_stops_after_the_last_attempt(database: Database) -> None:
    def broken(slot: str) -> str:
        raise RuntimeError("still broken")

    clock = Clock()
    scheduler = Scheduler(database, lambda: [Job("digest", lambda now: "w", broken)], clock=clock)

    ran = 0
    for _ in range(MAX_ATTEMPTS + 2):
        ran += len(scheduler.tick())
        clock.now += RETRY_AFTER

    assert ran == MAX_ATTEMPTS


def test_a_run_whose_replica_died_is_taken_over_later(database: Database) -> None:
    clock = Clock()
    dead = Scheduler(database, lambda: [], name="dead", clock=clock)
    assert dead.claim("purge", "2026-11-27")  # claimed, never finished
    runs: list[str] = []
    alive = Scheduler(database, lambda: [_counting_job(runs)], name="alive", clock=clock)
    job = _counting_job(runs)
    alive.jobs = lambda: [Job("purge", job.slot, job.run)]

    assert alive.tick() == []
    clock.now += RETRY_AFTER + timedelta(seconds=1)
    assert alive.tick() == ["purge"] and runs == ["2026-11-27"]


def test_the_thread_ticks_until_stopped(database: Database) -> None:
    ran = threading.Event()
    job = Job("ping", lambda now: "once", lambda s: ran.set() or "ok")  # type: ignore[func-returns-value]
    scheduler = Scheduler(database, lambda: [job], interval=0.05)

    scheduler.start()
    try:
        assert ran.wait(10) and scheduler.running
    finally:
        scheduler.stop()

    assert not scheduler.running and len(scheduler.runs("ping")) == 1


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        (datetime(2026, 11, 30, 6, 59, tzinfo=UTC), None),  # Monday 07:59 in Amsterdam
        (datetime(2026, 11, 30, 7, 0, tzinfo=UTC), "2026-W49"),  # Monday 08:00
        (datetime(2026, 12, 1, 6, 59, tzinfo=UTC), "2026-W49"),  # Tuesday 07:59: still that week's
        (datetime(2026, 12, 1, 7, 0, tzinfo=UTC), None),  # a day late: wait for next week
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), None),  # Friday
    ],
)
def test_a_weekly_slot_is_due_from_its_hour_for_a_day(now: datetime, slot: str | None) -> None:
    assert weekly_slot(0, 8, "Europe/Amsterdam")(now) == slot


def test_a_weekly_slot_on_sunday_evening_counts_in_the_bots_timezone() -> None:
    sunday_late = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # Sunday 23:30 in Amsterdam

    assert weekly_slot(6, 23, "Europe/Amsterdam")(sunday_late) == "2026-W48"


def test_a_daily_slot_is_the_local_date_from_its_hour() -> None:
    slot = daily_slot(3, "Europe/Amsterdam")

    assert slot(datetime(2026, 11, 27, 1, 59, tzinfo=UTC)) is None
    assert slot(datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) == "2026-11-27"
    assert slot(datetime(2026, 11, 27, 23, 30, tzinfo=UTC)) is None  # 00:30 on the 28th
    assert slot(datetime(2026, 11, 28, 2, 30, tzinfo=UTC)) == "2026-11-28"


_REPLICA = """
import sys
from datetime import datetime, UTC
from botbuilder.db.engine import Database
from botbuilder.jobs.scheduler import Job, Scheduler

url, log = sys.argv[1], sys.argv[2]

def run(slot):
    with open(log, "a") as fh:
        fh.write(slot + "\\n")
    return "logged"

job = Job("count", lambda now: "2026-11-27", run)
scheduler = Scheduler(Database(url), lambda: [job], clock=lambda: datetime(2026, 11, 27, tzinfo=UTC))
for _ in range(20):
    scheduler.tick()
"""


def test_two_server_processes_on_one_database_run_a_slot_once(
    database_url: str, tmp_path: Path
) -> None:
    Database(database_url).close()  # migrated once, before the replicas start
    log = tmp_path / "runs.log"
    replicas = [
        subprocess.Popen([sys.executable, "-c", _REPLICA, database_url, str(log)]) for _ in range(3)
    ]

    assert [p.wait(120) for p in replicas] == [0, 0, 0]
    assert log.read_text().splitlines() == ["2026-11-27"]


def test_the_daily_purge_runs_once_at_three_in_the_bots_timezone(
    database_url: str, bot_dir: Path
) -> None:
    storage = Storage(database_url)
    old = storage.create_conversation("nl").id
    storage.add_message(old, "member", "een oude vraag")
    long_ago = NOON - timedelta(days=400)
    with storage.engine.begin() as c:
        c.execute(update(Conversation).values(created_at=long_ago, updated_at=long_ago))
    bot = load_bot(bot_dir)
    three = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 03:00 in Amsterdam
    jobs = server_jobs(JobServices(database=storage, bot=lambda: bot, clock=lambda: three))
    replicas = [Scheduler(storage, jobs, name=n, clock=lambda: three) for n in ("a", "b")]

    assert replicas[0].tick() == [PURGE_JOB] and replicas[1].tick() == []
    assert storage.messages(old) == []
    [run] = replicas[1].runs(PURGE_JOB)
    assert run.slot == "2026-11-27" and run.outcome and run.outcome.startswith("purged 1 rows")


def test_the_nightly_insights_job_keeps_the_finished_days_so_a_long_period_reads_them(
    database_url: str, bot_dir: Path
) -> None:
    from sqlalchemy import func, select

    from botbuilder.insights.aggregates import Rollup
    from botbuilder.jobs.schedule import KEEP_JOB

    storage = Storage(database_url)
    asked = storage.create_conversation("nl").id
    storage.add_message(asked, "member", "hoeveel kost het")
    earlier = NOON - timedelta(days=20)
    with storage.engine.begin() as c:
        c.execute(update(Conversation).values(created_at=earlier, updated_at=earlier))
    bot = load_bot(bot_dir)
    four = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 04:00 in Amsterdam
    jobs = server_jobs(JobServices(database=storage, bot=lambda: bot, clock=lambda: four))
    replicas = [Scheduler(storage, jobs, name=n, clock=lambda: four) for n in ("a", "b")]

    assert KEEP_JOB in replicas[0].tick() and KEEP_JOB not in replicas[1].tick()
    with storage.engine.connect() as c:
        kept = c.scalar(select(func.count()).select_from(Rollup))
    assert kept == 366  # every settled day of the past year (a day is kept a day after it ends)
    [run] = replicas[1].runs(KEEP_JOB)
    assert run.outcome == "kept the insights figures of 2025-11-25 to 2026-11-25"
    # Before 04:00 it is not due.
    early = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert KEEP_JOB not in Scheduler(storage, jobs, name="c", clock=lambda: early).tick()
