"""Rate-limit hits counted in this process first, and in the database within 0.1 s.

Counting every API request in the database (`DatabaseCounters`) is exact, and it
was the dearest part of a request under load: on SQLite the counting statement
costs ~0.1 ms alone, but among a server's busy threads each request then cost
3-4 ms of CPU, and a cached `/api/v1/match` topped out near 300 a second
against ~750 without it. So a window far from its limit is counted here:

- A key this process has not seen in its current window (or whose window has
  ended) is counted in the database at once, which tells the total of every
  replica and when the window ends.
- While this process's view of the window (the database's total when it last
  looked, plus the hits counted here since) stays within `SHARE` of the
  limit, a hit is counted here only; a thread of this process adds the hits
  to the database `FLUSH_EVERY` seconds later (one statement per key), and
  ends when none are waiting.
- Nearer the limit every hit is counted in the database again, with the hits
  still waiting here: refusals are decided on the shared total.

So the database's total of a window lags by at most `SHARE` of its limit per
process, for at most `FLUSH_EVERY`: a burst spread over several processes in
that tenth of a second may get that much more through. One process counts
exactly, and so do all of them once the hits are added.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FLUSH_EVERY", "KEPT", "RETRY_AT_MOST", "SHARE", "LocalFirstCounts", "SharedCounts"]

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.1  # seconds: how stale the database's counts may be
# While the database refuses, the thread tries again after twice as long each time, up to
# this: a database down for an hour costs a try every few seconds, not ten a second.
RETRY_AT_MOST = 5.0  # seconds
SHARE = 0.25  # of a limit, counted in this process between looks at the shared total
# Windows remembered here; past this, those with no hits waiting are forgotten (the
# next hit of each looks in the database again): memory stays bounded when many
# networks or conversations come by, as in a flood from many addresses.
KEPT = 50_000


class SharedCounts(Protocol):
    """The database's counters (`rate_limits.DatabaseCounters`)."""

    def count(self, key: str, expiry: float, amount: int = 1) -> tuple[int, float]:
        """Add `amount` to the key's window (opened for `expiry` seconds if there is none):
        the window's total and when it ends."""
        ...


@dataclass
class _Window:
    known: int  # the database's total when this process last counted there
    pending: int  # hits counted here since, not in the database yet
    ends: float  # seconds since the epoch


class LocalFirstCounts:
    """`hit` counts one request against a fixed window and returns the window's count."""

    def __init__(
        self,
        counters: SharedCounts,
        clock: Callable[[], float] = time.time,
        flush_every: float | None = FLUSH_EVERY,  # None: only `flush()` adds them (tests)
    ) -> None:
        self.counters = counters
        self.clock = clock
        self.flush_every = flush_every
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flusher: threading.Thread | None = None

    def hit(self, key: str, expiry: float, limit: int, cost: int = 1) -> int:
        """Count `cost` hits of `key` (a window of `expiry` seconds, at most `limit` hits)."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            current = window is not None and window.ends > now
            if (
                window is not None
                and current
                and window.known + window.pending + cost <= (limit * SHARE)
            ):
                window.pending += cost
                self._flush_soon()
                return window.known + window.pending
            waiting = window.pending if window is not None and current else 0
            self._windows.pop(key, None)
        return self._count_shared(key, expiry, waiting + cost)  # with the hits waiting here

    def _count_shared(self, key: str, expiry: float, hits: int) -> int:
        total, ends = self.counters.count(key, expiry, hits)
        with self._lock:
            window = self._windows.get(key)
            if window is None or window.ends != ends:  # another thread's count may be newer
                self._windows[key] = _Window(known=total, pending=0, ends=ends)
            else:
                window.known = max(window.known, total)
            if len(self._windows) > KEPT:
                self._windows = {k: w for k, w in self._windows.items() if w.pending}
        return total

    def _flush_soon(self) -> None:
        """Start the flushing thread unless it runs (called holding `_lock`)."""
        if self._flusher is None and self.flush_every is not None:
            self._flusher = threading.Thread(
                target=self._flush_while_waiting, name="rate-limit-counts", daemon=True
            )
            self._flusher.start()

    def _flush_while_waiting(self) -> None:
        assert self.flush_every is not None
        delay, failures = self.flush_every, 0
        while True:
            time.sleep(delay)
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - the database is down: the hits wait
                failures += 1
                delay = min(delay * 2, RETRY_AT_MOST)
                if failures == 1:  # once an outage: the thread may try for the window's life
                    log.warning(
                        "rate-limit counts not added to the database yet (%s); retrying",
                        type(exc).__name__,
                    )
            else:
                if failures:
                    log.info("rate-limit counts added after %d failed tries", failures)
                delay, failures = self.flush_every, 0
            with self._lock:
                if not any(w.pending for w in self._windows.values()):
                    self._flusher = None
                    return

    def flush(self) -> None:
        """Add the hits counted here to the database (one flush at a time)."""
        with self._flushing:
            now = self.clock()
            with self._lock:
                for key in [k for k, w in self._windows.items() if w.ends <= now]:
                    del self._windows[key]  # ended: its waiting hits counted in no window now
                taken = [(k, w, w.pending) for k, w in self._windows.items() if w.pending]
                for _, window, hits in taken:
                    window.pending -= hits
            for number, (key, window, hits) in enumerate(taken):
                try:
                    total, ends = self.counters.count(key, window.ends - now, hits)
                except BaseException:
                    with self._lock:  # not counted: they wait for the next flush
                        for _, unsent, left in taken[number:]:
                            unsent.pending += left
                    raise
                with self._lock:
                    window.known, window.ends = total, ends
