"""Rate-limit hits counted in the process first, in the database within 0.1 s
(conversations/local_first.py), on real SQLite counters."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from botbuilder.conversations import local_first
from botbuilder.conversations.local_first import SHARE, LocalFirstCounts
from botbuilder.conversations.rate_limits import DatabaseCounters
from botbuilder.conversations.store import Storage


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(f"sqlite:///{tmp_path / 'c.sqlite'}")


def _replica(
    storage: Storage, now: list[float], flush_every: float | None = None
) -> tuple[LocalFirstCounts, DatabaseCounters]:
    counters = DatabaseCounters(storage, clock=lambda: now[0])
    return LocalFirstCounts(counters, clock=lambda: now[0], flush_every=flush_every), counters


def test_far_from_the_limit_hits_are_counted_here_until_a_flush_adds_them(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    assert [counts.hit("k", 60, limit=1000) for _ in range(200)] == list(range(1, 201))
    assert counters.get("k") == 1  # the first hit: the window's total and end
    counts.flush()
    assert counters.get("k") == 200
    assert counts.hit("k", 60, limit=1000) == 201


def test_a_thread_adds_the_waiting_hits_without_another_request(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now, flush_every=0.02)
    for _ in range(50):
        counts.hit("k", 60, limit=1000)
    deadline = time.monotonic() + 10
    while counters.get("k") < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert counters.get("k") == 50


def test_near_the_limit_every_hit_is_counted_in_the_database_and_the_limit_holds(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    seen = [counts.hit("k", 60, limit=10) for _ in range(12)]
    assert seen == list(range(1, 13))  # the 11th and 12th are over: refused by RateLimits
    assert counters.get("k") == 12  # from a quarter of the limit on, each in the database


def test_a_burst_over_two_replicas_gets_at_most_a_quarter_more_through_until_a_flush(
    storage: Storage, now: list[float]
) -> None:
    a, _ = _replica(storage, now)
    b, counters = _replica(storage, now)
    admitted = sum(b.hit("k", 60, limit=20) <= 20 for _ in range(5))  # 4 of them wait in b
    admitted += sum(a.hit("k", 60, limit=20) <= 20 for _ in range(40))
    assert 20 < admitted <= 20 + 20 * SHARE
    b.flush()
    assert b.hit("k", 60, limit=20) > 20 and a.hit("k", 60, limit=20) > 20
    now[0] += 61  # a new window, flushed before the other replica's burst: exact
    admitted = sum(b.hit("k", 60, limit=20) <= 20 for _ in range(5))
    b.flush()
    admitted += sum(a.hit("k", 60, limit=20) <= 20 for _ in range(40))
    assert admitted == 20


def test_a_window_that_ended_starts_again_from_one_and_its_waiting_hits_are_dropped(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    for _ in range(5):
        counts.hit("k", 10, limit=1000)
    now[0] += 11
    assert counts.hit("k", 10, limit=1000) == 1
    counts.flush()
    assert counters.get("k") == 1 and counters.get_expiry("k") == now[0] + 10


def test_hits_a_failed_flush_could_not_add_wait_for_the_next_one(
    storage: Storage, now: list[float]
) -> None:
    counts, counters = _replica(storage, now)
    for _ in range(5):
        counts.hit("k", 60, limit=1000)
    with storage.engine.begin() as c:
        c.execute(text("ALTER TABLE rate_limit_counters RENAME TO counters_away"))
    with pytest.raises(SQLAlchemyError):
        counts.flush()  # the database is unusable
    with storage.engine.begin() as c:
        c.execute(text("ALTER TABLE counters_away RENAME TO rate_limit_counters"))
    counts.flush()
    assert counters.get("k") == 5  # none lost, none twice


def test_windows_with_no_hits_waiting_are_forgotten_past_the_bound(
    storage: Storage, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_first, "KEPT", 10)
    counts, counters = _replica(storage, now)
    counts.hit("busy", 60, limit=1000)
    counts.hit("busy", 60, limit=1000)  # waits here
    for n in range(30):  # many networks, once each
        counts.hit(f"network{n}", 60, limit=1000)
    assert len(counts._windows) <= 11 and "network0" not in counts._windows
    assert counts.hit("network0", 60, limit=1000) == 2  # counted in the database again
    assert counters.get("network0") == 2
    counts.flush()
    assert counters.get("busy") == 2  # the waiting hit was kept


def test_while_the_database_refuses_the_thread_backs_off_and_warns_once(
    storage: Storage,
    now: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(local_first, "RETRY_AT_MOST", 0.16)
    counters = DatabaseCounters(storage, clock=lambda: now[0])
    tries: list[int] = []

    class Counted:  # the real counters, with each try the thread makes noted
        def count(self, key: str, expiry: float, amount: int = 1) -> tuple[int, float]:
            tries.append(amount)
            return counters.count(key, expiry, amount)

    counts = LocalFirstCounts(Counted(), clock=lambda: now[0], flush_every=0.01)
    counts.hit("k", 60, limit=1000)  # the window's first hit, in the database
    with storage.engine.begin() as c:
        c.execute(text("ALTER TABLE rate_limit_counters RENAME TO counters_away"))
    tries.clear()
    with caplog.at_level(logging.INFO, logger=local_first.__name__):
        for _ in range(4):
            counts.hit("k", 60, limit=1000)
        time.sleep(0.6)  # 60 tries at 0.01 s; backing off to 0.16 s, about 7
        assert 2 <= len(tries) <= 12
        warnings = [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and r.name == local_first.__name__
        ]
        assert len(warnings) == 1 and "OperationalError" in warnings[0].getMessage()
        with storage.engine.begin() as c:
            c.execute(text("ALTER TABLE counters_away RENAME TO rate_limit_counters"))
        deadline = time.monotonic() + 10
        while counters.get("k") < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert counters.get("k") == 5  # none lost, none twice
    assert any("added after" in r.getMessage() for r in caplog.records)
