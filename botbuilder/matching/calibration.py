"""Answer and clarify thresholds for one bot, calibrated from its own examples.

Nobody has to supply out-of-scope questions. Four extra fits each leave out
a quarter of the intents entirely and one example of every other intent:
the left-out intents' examples score as questions the bot has no answer for
(honestly: that model never saw them), the single left-out examples score as
unseen phrasings of known intents. The bot answers above a point a quarter
of the way from the typical unanswerable score to the typical answerable
one, asks back ("Bedoelde je…?") down to the typical unanswerable score, and
hands off below. (A quarter, not half: real member questions score higher
than a bot's own held-out phrasings, which a manager writes to be different.)
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from botbuilder.matching.decision import Thresholds
from botbuilder.matching.features import IntentModel

__all__ = ["best_thresholds", "calibrate"]

# Thresholds of a bot too small to calibrate (under three intents, or under
# two examples an intent).
_FALLBACK = Thresholds(0.5, 0.2, calibrated=False)
_FOLDS = 4
# Where the answer threshold sits between the typical unanswerable (0) and
# the typical answerable (1) held-out score.
_ANSWER_POSITION = 0.25
# The folds only place thresholds: a looser fit moves them very little.
_CALIBRATION_TOL = 3e-2

_Fold = tuple[np.ndarray, np.ndarray]  # held-out answerable scores, unanswerable scores


def calibrate(
    embeddings: np.ndarray,
    texts: Sequence[str],
    labels: np.ndarray,
    intent_ids: Sequence[str],
    pool: ThreadPoolExecutor,
    ngram_weight: float = 1.0,
) -> Thresholds:
    """Thresholds from held-out examples and held-out intents: see the module docstring.

    `labels` index `intent_ids`; the fold fits run on `pool`."""
    n_intents = len(intent_ids)
    if n_intents < 3 or len(labels) < 2 * n_intents:
        return _FALLBACK
    # A fixed shuffle: the same bot always gets the same thresholds.
    rng = np.random.default_rng(0)
    group = rng.permutation(n_intents) % _FOLDS  # the fold an intent is left out in
    turn = np.full(len(labels), -1)  # the fold an example is held out in
    for label in range(n_intents):
        members = np.flatnonzero(labels == label)
        if len(members) >= 2:  # never hold out an intent's only example
            turn[rng.permutation(members)] = (np.arange(len(members)) + label) % len(members)

    def fold(k: int) -> _Fold | None:
        unknown = group[labels] == k
        held = ~unknown & (turn == k)
        train = ~unknown & ~held
        if not unknown.any() or not held.any() or len(np.unique(labels[train])) < 2:
            return None
        model = IntentModel(
            embeddings[train],
            _pick(texts, train),
            labels[train],
            intent_ids,
            tol=_CALIBRATION_TOL,
            ngram_weight=ngram_weight,
        )
        in_scope = model.proba(embeddings[held], _pick(texts, held), n_intents)
        unanswerable = model.proba(embeddings[unknown], _pick(texts, unknown), n_intents)
        return in_scope, unanswerable

    results = [r for r in pool.map(fold, range(_FOLDS)) if r is not None]
    if not results:
        return _FALLBACK
    return best_thresholds(np.vstack([r[0] for r in results]), np.vstack([r[1] for r in results]))


def _pick(texts: Sequence[str], mask: np.ndarray) -> list[str]:
    return [t for t, keep in zip(texts, mask, strict=True) if keep]


def best_thresholds(in_probs: np.ndarray, oos_probs: np.ndarray) -> Thresholds:
    """Answer above a point between a typical unanswerable and a typical
    answerable question's score; below the typical unanswerable score, hand
    off; in between, ask."""
    in_typical = float(np.median(in_probs.max(axis=1)))
    oos_typical = float(np.median(oos_probs.max(axis=1)))
    answer = oos_typical + _ANSWER_POSITION * max(in_typical - oos_typical, 0.0)
    return Thresholds(answer=round(answer, 4), clarify=round(min(oos_typical, answer), 4))
