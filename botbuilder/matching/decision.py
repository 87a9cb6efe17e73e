"""From one row of intent scores to one verdict: answer, ask back, or hand off.

Kept apart from the matcher so that the rule reads in one place, and so that
evaluation can replay it over stored scores with other thresholds (the
ceiling in `make bench-accuracy`) without scoring the questions again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ANSWER", "CLARIFY", "HANDOFF", "Candidate", "Match", "Thresholds", "decide"]

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"

MAX_OPTIONS = 3
# In the clarify band, an intent this many times as likely as the runner-up is
# answered: with dozens of intents the probabilities stay low even when one
# intent clearly wins, and asking "did you mean X?" with one real option helps nobody.
_DOMINANCE = 3.0
# A question split between two intents that together hold this much of the
# probability ("lidmaatschap?": the fee or cancelling?) is asked back even
# below the clarify threshold: it is ambiguous, not off-topic.
_TWO_WAY = 0.9


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one question."""

    decision: str  # answer | clarify | handoff
    intent: str | None  # the answered intent, or the best guess otherwise
    confidence: float
    candidates: tuple[Candidate, ...]
    options: tuple[str, ...] = ()  # intents offered when clarifying


@dataclass(frozen=True)
class Thresholds:
    answer: float
    clarify: float
    calibrated: bool = True


def decide(scores: np.ndarray, intent_ids: Sequence[str], t: Thresholds) -> Match:
    """Turn one row of intent scores (in `intent_ids` order) into answer, clarify or handoff."""
    order = np.argsort(-scores)[:5]
    ranked = tuple(Candidate(intent_ids[i], round(float(scores[i]), 4)) for i in order)
    if not ranked:
        return Match(HANDOFF, None, 0.0, ())
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= t.answer or (best.score >= t.clarify and best.score >= _DOMINANCE * runner_up):
        return Match(ANSWER, best.intent, best.score, ranked)
    if best.score >= t.clarify or (
        best.score + runner_up >= _TWO_WAY and runner_up >= best.score / 2
    ):
        # Offer the plausible ones: those carrying real probability mass.
        floor = max(t.clarify / 2, best.score / 4)
        options = tuple(c.intent for c in ranked[:MAX_OPTIONS] if c.score >= floor)
        return Match(CLARIFY, best.intent, best.score, ranked, options)
    return Match(HANDOFF, best.intent, best.score, ranked)
