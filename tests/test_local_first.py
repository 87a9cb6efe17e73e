"""Rate-limit hits counted in the process first, in the database within 0.1 s
(conversations/local_first.py), on real SQLite counters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from botbuilder.conversations.local_first import FLUSH_EVERY, LocalFirstCounts
from botbuilder.conversations.rate_limits import DatabaseCounters
from botbuilder.conversations.store import Storage


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(f"sqlite:///{tmp_path / 'c.sqlite'}")


def _replica(storage: Storage, now: list[float]) -> tuple[LocalFirstCounts, DatabaseCounters]:
    counters = DatabaseCounters(storage, clock=lambda: now[0])
    return LocalFirstCounts(counters, clock=lambda: now[0]), counters


def test_far_from_the_limit_hits_are_counted_here_and_reach_the_database_within_a_flush(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    assert [counts.hit("k", 60, limit=1000) for _ in range(200)] == list(range(1, 201))
    assert counters.get("k") < 200  # the first hit and whatever a flush took, not every hit
    now[0] += FLUSH_EVERY
    assert counts.hit("k", 60, limit=1000) == 201
    assert counters.get("k") == 201


def test_near_the_limit_every_hit_is_counted_in_the_database_and_the_limit_holds(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    seen = [counts.hit("k", 60, limit=10) for _ in range(12)]
    assert seen == list(range(1, 13))  # the 11th and 12th are over: refused by RateLimits
    assert counters.get("k") == 12  # from half the limit on, each hit went to the database


def test_two_replicas_hitting_one_window_together_never_let_more_than_the_limit_through(
    storage: Storage, now: list[float]
) -> None:
    a, _ = _replica(storage, now)
    b, counters = _replica(storage, now)
    admitted = 0
    for n in range(60):  # alternately, within one flush interval: no flush helps them
        admitted += (a if n % 2 else b).hit("k", 60, limit=20) <= 20
    assert admitted == 20
    assert counters.get("k") >= 40  # the refused ones near the limit were counted shared


def test_a_window_that_ended_starts_again_from_one_and_its_waiting_hits_are_dropped(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    for _ in range(5):
        counts.hit("k", 10, limit=1000)
    now[0] += 11
    assert counts.hit("k", 10, limit=1000) == 1
    assert counters.get("k") == 1 and counters.get_expiry("k") == now[0] + 10


def test_hits_a_failed_flush_could_not_count_wait_for_the_next_one(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    for _ in range(5):
        counts.hit("k", 60, limit=1000)
    with storage.engine.begin() as c:
        c.execute(text("ALTER TABLE rate_limit_counters RENAME TO counters_away"))
    now[0] += FLUSH_EVERY
    with pytest.raises(SQLAlchemyError):
        counts.hit("k", 60, limit=1000)  # the database is unusable: this request's 503
    with storage.engine.begin() as c:
        c.execute(text("ALTER TABLE counters_away RENAME TO rate_limit_counters"))
    now[0] += FLUSH_EVERY
    assert counts.hit("k", 60, limit=1000) == 7
    assert counters.get("k") == 7  # none lost, none twice
