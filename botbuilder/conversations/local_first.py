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
  limit, a hit is counted here only, and the hits are added to the database
  by the next request after `FLUSH_EVERY` (one statement per key).
- Nearer the limit every hit is counted in the database again, with the hits
  still waiting here: refusals are decided on the shared total.

With one or two processes per database nothing is let through over a limit:
each counts at most half the limit here before it looks at the shared total.
With more, a window may take up to `SHARE` of its limit per process in the
tenth of a second before the others' hits reach the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FLUSH_EVERY", "SHARE", "LocalFirstCounts", "SharedCounts"]

FLUSH_EVERY = 0.1  # seconds: how stale the database's counts may be
SHARE = 0.5  # of a limit, counted in this process between looks at the shared total


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

    def __init__(self, counters: SharedCounts, clock: Callable[[], float] = time.time) -> None:
        self.counters = counters
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._next_flush = 0.0

    def hit(self, key: str, expiry: float, limit: int, cost: int = 1) -> int:
        """Count `cost` hits of `key` (a window of `expiry` seconds, at most `limit` hits)."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            local = (
                window is not None
                and window.ends > now
                and window.known + window.pending + cost <= limit * SHARE
            )
            if window is not None and local:
                window.pending += cost
                count = window.known + window.pending
            else:  # in the database, with the hits still waiting here
                waiting = window.pending if window is not None and window.ends > now else 0
                self._windows.pop(key, None)
        if not local:
            return self._count_shared(key, expiry, waiting + cost)
        if now >= self._next_flush:
            self.flush()
        return count

    def _count_shared(self, key: str, expiry: float, hits: int) -> int:
        total, ends = self.counters.count(key, expiry, hits)
        with self._lock:
            window = self._windows.get(key)
            if window is None or window.ends != ends:  # another thread's count may be newer
                self._windows[key] = _Window(known=total, pending=0, ends=ends)
            else:
                window.known = max(window.known, total)
        return total

    def flush(self) -> None:
        """Add the hits counted here to the database (one thread at a time; others go on)."""
        if not self._flushing.acquire(blocking=False):
            return
        try:
            now = self.clock()
            with self._lock:
                self._next_flush = now + FLUSH_EVERY
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
        finally:
            self._flushing.release()
