"""From one row of intent scores to one verdict: answer, ask back, or hand off.

Kept apart from the matcher so that the rule reads in one place, and so that
evaluation can replay it over stored scores with other thresholds (the
ceiling in `make bench-accuracy`) without scoring the questions again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ANSWER",
    "CLARIFY",
    "HANDOFF",
    "Candidate",
    "Match",
    "Thresholds",
    "decide",
    "verdicts",
]

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"

MAX_OPTIONS = 3
# Under the fallback thresholds of a bot too small to calibrate, an intent in
# the clarify band this many times as likely as the runner-up is answered
# (the clear-winner rule): with many intents the probabilities stay low even
# when one intent clearly wins. Calibrated thresholds don't use it: their
# searched answer threshold and margin decide on the bot's own evidence, and
# the search without the rule was cheaper on every benchmark bot (see
# `calibration`); a threshold the manager set is a floor (no clear winner below it).
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
    # An answer needs its intent this far ahead of the runner-up; closer, the
    # bot asks back (calibrated with the thresholds; 0 when bot.yml sets them).
    margin: float = 0.0
    # The answer threshold is the manager's (bot.yml): nothing below it is
    # answered, not even a clear winner (see `verdicts`).
    fixed: bool = False

    @property
    def clear_winner(self) -> bool:
        """Whether a clear winner below the answer threshold is answered:
        only under the fallback thresholds (see `_DOMINANCE`)."""
        return not self.calibrated and not self.fixed


def verdicts(
    scores: np.ndarray,
    ranked: np.ndarray,
    answer: float | np.ndarray,
    clarify: float | np.ndarray,
    margin: float | np.ndarray = 0.0,
    clear_winner: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The rule of `decide` over many rows at once: (answered, asked back)
    masks. `ranked` holds each row's best and second-best intent index.
    Thresholds given as a row of values give a column per value. With
    `clear_winner` (`Thresholds.clear_winner`) a clear winner in the clarify
    band is answered below `answer`."""
    best = np.take_along_axis(scores, ranked[:, :1], axis=1)[:, 0]
    runner_up = (
        np.take_along_axis(scores, ranked[:, 1:2], axis=1)[:, 0]
        if ranked.shape[1] > 1
        else np.zeros(len(scores))
    )
    if np.ndim(answer) or np.ndim(clarify) or np.ndim(margin):
        best, runner_up = best[:, None], runner_up[:, None]
    dominant = (best >= clarify) & (best >= _DOMINANCE * runner_up) & clear_winner
    confident = (best >= answer) | dominant
    answered = confident & (best - runner_up >= margin)
    asked = ~answered & (
        confident | (best >= clarify) | ((best + runner_up >= _TWO_WAY) & (runner_up >= best / 2))
    )
    return answered, asked


def decide(scores: np.ndarray, intent_ids: Sequence[str], t: Thresholds) -> Match:
    """Turn one row of intent scores (in `intent_ids` order) into answer, clarify or handoff."""
    order = np.argsort(-scores)[:5]
    ranked = tuple(Candidate(intent_ids[i], round(float(scores[i]), 4)) for i in order)
    if not ranked:
        return Match(HANDOFF, None, 0.0, ())
    best = ranked[0]
    answered, asked = verdicts(
        scores[None, :], order[None, :2], t.answer, t.clarify, t.margin, t.clear_winner
    )
    if answered[0]:
        return Match(ANSWER, best.intent, best.score, ranked)
    if asked[0]:
        # Offer the plausible ones: those carrying real probability mass.
        floor = max(t.clarify / 2, best.score / 4)
        options = tuple(c.intent for c in ranked[:MAX_OPTIONS] if c.score >= floor)
        return Match(CLARIFY, best.intent, best.score, ranked, options)
    return Match(HANDOFF, best.intent, best.score, ranked)
