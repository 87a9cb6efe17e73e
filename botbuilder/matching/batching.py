"""Questions that arrive together are scored together; repeated ones are remembered.

Encoding one question costs almost as much as encoding a few dozen: the
model's fixed cost per call dominates. So a server's threads hand their
questions to one `Batcher`, which scores whatever has queued up in one
`Matcher.scores` call:

- A question that finds the batcher idle is scored at once, in the asking
  thread: no window, no hand-over to another thread.
- Questions that arrive while a batch is being scored queue up; when it is
  done, the first of them leads the next batch, with everything queued by
  then (at most `max_batch`). Under steady load it first waits a few
  milliseconds for more (the window: a fraction of the last batch's time,
  at most `max_wait`), and only when the last batch held more than one
  question, so a quiet server never waits.
- `admit()` refuses a request (503 with Retry-After, `Unavailable`) while
  `max_queue` questions are waiting, before the request stores anything.

Scores of a repeated question come from an LRU cache keyed by the bot's
fingerprint, the encoder and the normalised text (`languages.normalise`:
case, accents, punctuation and spacing folded), so a reloaded bot or a
finished index never answers from the old one's scores. The decision is
taken afresh each time from the scores, with the matcher's thresholds.

`stats()` gives the counters `/metrics` reads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from botbuilder.content.languages import normalise
from botbuilder.content.model import Bot
from botbuilder.errors import Unavailable
from botbuilder.matching.encoder import Encoder, identity

__all__ = ["Batcher", "Scorer"]

MAX_BATCH = 64  # what sentence-transformers encodes in one forward pass (encoder.py)
MAX_QUEUE = 256
MAX_WAIT = 0.004  # seconds: the longest a batch waits for more questions
WINDOW_SHARE = 0.25  # of the last batch's scoring time
CACHE_SIZE = 4096  # questions; at 150 intents a row of scores is 1.2 KB
BUCKETS = (1, 2, 4, 8, 16, 32, 64)  # batch sizes, for the metrics' histogram


class Scorer(Protocol):
    """What the batcher needs of a matcher."""

    bot: Bot
    encoder: Encoder
    provisional: bool

    def scores(self, texts: Sequence[str]) -> np.ndarray: ...


class _Question:
    __slots__ = ("done", "error", "key", "lead", "result", "scorer", "text")

    def __init__(self, scorer: Scorer, text: str, key: tuple[str, ...]) -> None:
        self.scorer = scorer
        self.text = text
        self.key = key
        self.lead = False
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class Batcher:
    """One per server process (the runtime's); safe to share between threads."""

    def __init__(
        self,
        *,
        max_batch: int = MAX_BATCH,
        max_queue: int = MAX_QUEUE,
        max_wait: float = MAX_WAIT,
        cache_size: int = CACHE_SIZE,
        retry_after: int = 1,
    ) -> None:
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.cache_size = cache_size
        self.retry_after = retry_after
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[_Question] = deque()
        self._busy = False  # a batch is being scored
        self._cache: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()
        self._last_seconds = 0.0  # the last batch's scoring time
        self._last_size = 0
        self._counts = dict.fromkeys(
            ("batches", "questions", "cache_hits", "cache_misses", "immediate", "waited"), 0
        )
        self._counts["rejected"] = 0
        self._sizes = dict.fromkeys(BUCKETS, 0)

    # -- the public side -------------------------------------------------------

    def admit(self) -> None:
        """Raise `Unavailable` (503) while the queue is full: call before storing anything."""
        if len(self._pending) >= self.max_queue:
            with self._cond:
                self._counts["rejected"] += 1
            raise Unavailable(
                "the bot is busy answering other questions; please try again in a moment",
                retry_after=self.retry_after,
            )

    def score(self, scorer: Scorer, text: str) -> np.ndarray:
        """The scorer's row of intent scores for `text`: cached, or scored in a batch."""
        key = _key(scorer, text)
        with self._cond:
            row = self._cache.get(key)
            if row is not None:
                self._cache.move_to_end(key)
                self._counts["cache_hits"] += 1
                return row
            self._counts["cache_misses"] += 1
            question = _Question(scorer, text, key)
            self._pending.append(question)
            idle = not self._busy
            if idle:
                self._busy = question.lead = True
                self._counts["immediate"] += 1
            else:
                self._cond.notify()  # a leader in its window counts arrivals
        if not idle:
            question.done.wait()
        if question.lead:  # straight through when idle, else handed the lead
            self._lead(window=not idle)
        if question.error is not None:
            raise question.error
        assert question.result is not None
        return question.result

    def stats(self) -> dict[str, Any]:
        """Monotonic counters (`queue_depth` and `cache_size` are levels) for /metrics."""
        with self._cond:
            return {
                **self._counts,
                "queue_depth": len(self._pending),
                "cache_size": len(self._cache),
                "batch_sizes": dict(self._sizes),  # batches of at most this many questions
            }

    # -- the leader ------------------------------------------------------------

    def _lead(self, window: bool) -> None:
        """Score one batch (this thread's question is its first), then pass the lead on."""
        batch = self._take(window)
        started = time.perf_counter()
        try:
            self._score_batch(batch)
        finally:
            seconds = time.perf_counter() - started
            with self._cond:
                self._last_seconds, self._last_size = seconds, len(batch)
                if self._pending:
                    following = self._pending[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._busy = False
            for question in batch[1:]:
                question.done.set()

    def _take(self, window: bool) -> list[_Question]:
        with self._cond:
            wait = min(self.max_wait, self._last_seconds * WINDOW_SHARE)
            if window and self._last_size > 1 and wait > 0:
                self._counts["waited"] += 1
                deadline = time.monotonic() + wait
                while len(self._pending) < self.max_batch:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            size = min(self.max_batch, len(self._pending))
            batch = [self._pending.popleft() for _ in range(size)]
            self._counts["batches"] += 1
            self._counts["questions"] += size
            self._sizes[next((b for b in BUCKETS if size <= b), BUCKETS[-1])] += 1
            return batch

    def _score_batch(self, batch: list[_Question]) -> None:
        """One `scores` call per matcher in the batch (two only around a reload)."""
        groups: dict[int, list[_Question]] = {}
        for question in batch:
            groups.setdefault(id(question.scorer), []).append(question)
        for questions in groups.values():
            texts = list(dict.fromkeys(q.text for q in questions))
            try:
                rows = questions[0].scorer.scores(texts)
            except BaseException as exc:  # every waiting request gets the failure
                for question in questions:
                    question.error = exc
                continue
            by_text = dict(zip(texts, rows, strict=True))
            for question in questions:
                question.result = by_text[question.text]
                question.result.flags.writeable = False  # shared with the cache
            with self._cond:
                for question in questions:
                    self._cache[question.key] = by_text[question.text]
                    self._cache.move_to_end(question.key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)


def _key(scorer: Scorer, text: str) -> tuple[str, ...]:
    """What a question's scores depend on: the bot, the encoder, the index, the text."""
    folded = normalise(text) or text  # "?!" folds to nothing: keep it apart from "..."
    return (scorer.bot.fingerprint, identity(scorer.encoder), str(scorer.provisional), folded)
