"""Dynamic batching and the question cache (matching/batching.py), on the real matcher.

Counted, never timed: the batcher's own counters say how many batches were
scored and whether a batch waited for more questions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from botbuilder.content.loader import load_bot
from botbuilder.errors import Unavailable
from botbuilder.matching.batching import Batcher
from botbuilder.matching.encoder import CachedEncoder
from botbuilder.matching.matcher import Matcher
from botbuilder.matching.runtime import BotRuntime
from tests.conftest import SMALL_BOT

QUESTIONS = [
    "Hoe zeg ik mijn lidmaatschap op?",
    "Wat kost het lidmaatschap?",
    "Ik ben mijn wachtwoord vergeten",
    "I forgot my password",
    "How much is the membership?",
    "Waar is de kantine?",
    "Wanneer is de volgende training?",
    "Kan ik met iemand praten?",
    "Mag mijn hond mee?",
    "Is er parkeerplaats?",
    "Ik wil stoppen",
    "prijs per jaar",
]


@pytest.fixture(scope="module")
def matcher(encoder: CachedEncoder) -> Matcher:
    return Matcher(load_bot(SMALL_BOT), encoder)


class HeldMatcher:
    """The real matcher, whose first `scores` call waits until the test lets it go:
    so questions certainly arrive while a batch is being scored."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.bot = matcher.bot
        self.encoder = matcher.encoder
        self.provisional = matcher.provisional
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(30)
        return self.matcher.scores(texts)


def _wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.001)


def test_a_burst_of_questions_is_scored_in_fewer_batches_than_questions(matcher: Matcher) -> None:
    batcher = Batcher(max_wait=0)
    held = HeldMatcher(matcher)
    first = threading.Thread(target=batcher.score, args=(held, "Waar kan ik parkeren?"))
    first.start()
    assert held.entered.wait(30)
    results: dict[str, np.ndarray] = {}
    threads = [
        threading.Thread(target=lambda t=t: results.__setitem__(t, batcher.score(held, t)))
        for t in QUESTIONS
    ]
    for thread in threads:
        thread.start()
    _wait_for(lambda: batcher.stats()["queue_depth"] == len(QUESTIONS))
    held.release.set()
    for thread in [first, *threads]:
        thread.join(30)
    stats = batcher.stats()
    assert stats["questions"] == len(QUESTIONS) + 1
    assert stats["batches"] == 2 < stats["questions"]
    assert held.calls == [1, len(QUESTIONS)]
    assert stats["batch_sizes"][1] == 1 and stats["batch_sizes"][16] == 1
    for text in QUESTIONS:  # each thread got its own question's scores
        assert np.allclose(results[text], matcher.scores([text])[0], atol=1e-5)


def test_a_lone_question_goes_straight_through_without_waiting(matcher: Matcher) -> None:
    batcher = Batcher(max_wait=1.0)
    for text in QUESTIONS[:3]:  # one after another: the batcher is idle each time
        batcher.score(matcher, text)
    stats = batcher.stats()
    assert stats["batches"] == 3
    assert stats["immediate"] == 3
    assert stats["waited"] == 0
    assert stats["queue_depth"] == 0


def test_answers_through_the_batcher_equal_answers_without_it(matcher: Matcher) -> None:
    plain = [matcher.match(text) for text in QUESTIONS]
    batcher = Batcher()
    matcher.batcher = batcher
    try:
        results: dict[str, Any] = {}
        threads = [
            threading.Thread(target=lambda t=t: results.__setitem__(t, matcher.match(t)))
            for t in QUESTIONS
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        batched = [results[text] for text in QUESTIONS]
    finally:
        matcher.batcher = None
    assert [(m.decision, m.intent, m.options) for m in batched] == [
        (m.decision, m.intent, m.options) for m in plain
    ]
    for a, b in zip(batched, plain, strict=True):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
    assert batcher.stats()["questions"] == len(QUESTIONS)


def test_a_repeated_question_is_a_cache_hit(matcher: Matcher) -> None:
    batcher = Batcher()
    first = batcher.score(matcher, "Wat kost het lidmaatschap?")
    again = batcher.score(matcher, "  wat KOST het lidmaatschap  ")  # the same, normalised
    stats = batcher.stats()
    assert stats["cache_hits"] == 1 and stats["cache_misses"] == 1
    assert stats["batches"] == 1
    assert again is first


def test_the_cache_is_bounded(matcher: Matcher) -> None:
    batcher = Batcher(cache_size=4)
    for text in QUESTIONS:
        batcher.score(matcher, text)
    assert batcher.stats()["cache_size"] == 4
    batcher.score(matcher, QUESTIONS[0])  # evicted long ago
    assert batcher.stats()["cache_hits"] == 0


def test_a_flow_reload_invalidates_the_cache(bot_dir: Path, encoder: CachedEncoder) -> None:
    runtime = BotRuntime(bot_dir, encoder=encoder, check_interval=0)
    question = "Mag ik mijn fiets in de zaal zetten?"
    before = runtime.current().matcher.match(question)
    runtime.current().matcher.match(question)
    assert runtime.batcher.stats()["cache_hits"] == 1
    faq = bot_dir / "faq.yml"
    faq.write_text(
        faq.read_text(encoding="utf-8")
        + "  - id: fietsen\n    questions:\n      - Mag ik mijn fiets in de zaal zetten?\n"
        "      - Waar laat ik mijn fiets?\n      - fietsenstalling\n"
        "    answer: Fietsen staan in de stalling.\n",
        encoding="utf-8",
    )
    after = runtime.reload().matcher.match(question)
    stats = runtime.batcher.stats()
    assert stats["cache_hits"] == 1 and stats["cache_misses"] == 2
    assert after.intent == "fietsen" != before.intent


def test_a_full_queue_refuses_with_503_and_retry_after(client: Any, app: Any) -> None:
    batcher = app.extensions["botbuilder"].runtime.batcher
    batcher.max_queue = 0
    response = client.post("/api/v1/match", json={"text": "Wat kost het?"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json["ok"] is False and response.json["status"] == 503
    assert "busy" in response.json["error"]
    conversation = client.post("/api/v1/conversations", json={}).json["conversation_id"]
    refused = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Wat kost het?"},
        headers={"Idempotency-Key": "k1"},
    )
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert batcher.stats()["rejected"] == 2
    batcher.max_queue = 256  # the retry with the same key is answered, and stored once
    again = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Wat kost het?"},
        headers={"Idempotency-Key": "k1"},
    )
    assert again.status_code == 200
    history = client.get(f"/api/v1/conversations/{conversation}/messages").json["messages"]
    assert [m["role"] for m in history].count("member") == 1


def test_questions_over_http_go_through_the_runtimes_batcher(client: Any, app: Any) -> None:
    batcher = app.extensions["botbuilder"].runtime.batcher
    for _ in range(3):
        assert client.post("/api/v1/match", json={"text": "Wat kost het?"}).status_code == 200
    stats = batcher.stats()
    assert stats["cache_misses"] == 1 and stats["cache_hits"] == 2
    assert {"batches", "questions", "cache_hits", "cache_misses", "queue_depth"} <= set(stats)


def test_a_failing_batch_fails_each_of_its_questions(matcher: Matcher) -> None:
    class Broken(HeldMatcher):
        def scores(self, texts: Sequence[str]) -> np.ndarray:
            raise Unavailable("the model went away")

    batcher = Batcher()
    with pytest.raises(Unavailable):
        batcher.score(Broken(matcher), "Wat kost het?")
    assert batcher.score(matcher, "Wat kost het?") is not None  # the batcher is not stuck
