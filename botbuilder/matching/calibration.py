"""Answer and clarify thresholds for one bot, calibrated from its own examples.

Nobody has to supply out-of-scope questions. Four extra fits each leave out
a quarter of the intents entirely and one example of every other intent:
the left-out intents' examples score as questions the bot has no answer for
(honestly: that model never saw them), the single left-out examples score as
unseen phrasings of known intents, right or wrong.

The thresholds are then the ones that make the fewest costly mistakes on
that evidence, by the same cost figure the evaluation reports: a wrong
answer costs 3, an answerable question handed off 1, a question back
("Bedoelde je…?") 0.5. Answerable and unanswerable evidence are weighed as
if one question in five had no answer (`UNANSWERABLE_SHARE`). Besides the
answer and clarify thresholds the search picks a margin: an answer needs
its intent this far ahead of the runner-up, else the bot asks back.

Calibrated thresholds answer nothing below the answer threshold, not even a
clear winner (three times the runner-up: the rule the fallback thresholds
keep, see `decision`). With the rule in the search, the evidence of every
benchmark bot (the five sets, and each with a fifth of its intents left out
twice: 15 bots) was cheaper without it. Measured with e5: mean cost 0.272
-> 0.271 on the shared sets, 0.383 -> 0.319 with other intents left out,
wrong answers 0.086 -> 0.053 there (`benchmarks/accuracy_study.py`).

Why a cost search and not a fixed point between typical scores (what this
module did before): the same point gave 0.03 out-of-scope recall on the
shared xSID half and far more on another, because it says nothing about how
often a score there is wrong. On the shared half the unanswerable questions
are about intents next to ones the bot has ("show my alarms" beside "cancel
an alarm"), and they score like answerable ones. Measured with e5 over the
shared sets and the example bot, mean cost 0.377 -> 0.273, and 0.517 ->
0.373 over the same bots with other intents left out
(`benchmarks/accuracy_study.py`). Also measured and left out: a gate on the
nearest example's similarity (raised the cost: members' questions are no
nearer to the examples than unanswerable ones of a neighbouring intent) and
folds that leave out an intent together with none of its nearest neighbours
(0.268 / 0.370: within noise, for more code).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from botbuilder.matching.decision import Thresholds, verdicts
from botbuilder.matching.features import IntentModel

__all__ = [
    "PROVISIONAL_WRONG",
    "UNANSWERABLE_SHARE",
    "Evidence",
    "best_thresholds",
    "calibrate",
    "fold_evidence",
]

# Thresholds of a bot too small to calibrate (under three intents, or under
# two examples an intent).
_FALLBACK = Thresholds(0.5, 0.2, calibrated=False)
_FOLDS = 4
# The folds only place thresholds: a looser fit moves them very little.
_CALIBRATION_TOL = 3e-2
# The share of member questions assumed to have no answer in the bot, to
# weigh the two kinds of evidence (the shared benchmark sets have 15-20 %).
UNANSWERABLE_SHARE = 0.2
_GRID = np.round(np.arange(0.1, 0.951, 0.05), 3)
_MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
# The cost figure (evaluation): wrong answer, answerable handed off, question back.
_WRONG, _MISSED, _ASKED = 3.0, 1.0, 0.5
# A provisional index over a few phrasings of every intent (a quick first start,
# see Matcher) serves for seconds while the full one is built: a wrong answer
# costs it a little more, so it asks back rather. Measured with e5, two
# phrasings an intent: a 150-intent bot answered 4.2 % of 1,000 test questions
# wrongly with the usual cost, 0.9 % with this one (4 to 6: the same), the
# full index 3.6 %; the example bot 0.3 % either way (full: 1.3 %), 28 % rightly
# (full: 73 %). 4.5 and more left MiniLM on the example bot answering 7 % rightly.
PROVISIONAL_WRONG = 4.0


@dataclass(frozen=True)
class Evidence:
    """Held-out scores: rows of intent probabilities, and the intent each
    answerable row belongs to (-1: a left-out intent, no answer)."""

    scores: np.ndarray
    truth: np.ndarray


def calibrate(
    embeddings: np.ndarray,
    texts: Sequence[str],
    labels: np.ndarray,
    intent_ids: Sequence[str],
    pool: ThreadPoolExecutor,
    ngram_weight: float = 1.0,
    cautious: bool = False,
) -> Thresholds:
    """Thresholds from held-out examples and held-out intents: see the module docstring.

    `labels` index `intent_ids`; the fold fits run on `pool`. `cautious`: for a
    provisional index, a wrong answer costs `PROVISIONAL_WRONG`."""
    evidence = fold_evidence(embeddings, texts, labels, intent_ids, pool, ngram_weight)
    if evidence is None:
        return _FALLBACK
    return best_thresholds(evidence, wrong=PROVISIONAL_WRONG if cautious else _WRONG)


def fold_evidence(
    embeddings: np.ndarray,
    texts: Sequence[str],
    labels: np.ndarray,
    intent_ids: Sequence[str],
    pool: ThreadPoolExecutor,
    ngram_weight: float = 1.0,
) -> Evidence | None:
    """The held-out scores of the four calibration fits; None for a bot too small."""
    n_intents = len(intent_ids)
    if n_intents < 3 or len(labels) < 2 * n_intents:
        return None
    # A fixed shuffle: the same bot always gets the same thresholds.
    rng = np.random.default_rng(0)
    group = rng.permutation(n_intents) % _FOLDS  # the fold an intent is left out in
    turn = np.full(len(labels), -1)  # the fold an example is held out in
    for label in range(n_intents):
        members = np.flatnonzero(labels == label)
        if len(members) >= 2:  # never hold out an intent's only example
            turn[rng.permutation(members)] = (np.arange(len(members)) + label) % len(members)

    def fold(k: int) -> Evidence | None:
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
        scores = model.proba(embeddings[held | unknown], _pick(texts, held | unknown), n_intents)
        return Evidence(scores, np.where(unknown, -1, labels)[held | unknown])

    results = [r for r in pool.map(fold, range(_FOLDS)) if r is not None]
    if not results:
        return None
    return Evidence(
        np.vstack([r.scores for r in results]), np.concatenate([r.truth for r in results])
    )


def _pick(texts: Sequence[str], mask: np.ndarray) -> list[str]:
    return [t for t, keep in zip(texts, mask, strict=True) if keep]


def best_thresholds(
    evidence: Evidence, clear_winner: bool = False, wrong: float = _WRONG
) -> Thresholds:
    """The answer and clarify thresholds and margin with the lowest cost on
    `evidence`, answerable and unanswerable rows weighed by `UNANSWERABLE_SHARE`
    (the lowest thresholds of equal cost: a tie answers). `clear_winner`
    searches with the clear-winner rule, for `benchmarks.accuracy_study` only:
    calibrated thresholds never apply it."""
    answerable = evidence.truth >= 0
    if not answerable.any() or answerable.all():
        return _FALLBACK
    weight = np.where(
        answerable,
        (1 - UNANSWERABLE_SHARE) / answerable.sum(),
        UNANSWERABLE_SHARE / (~answerable).sum(),
    )
    order = np.argsort(-evidence.scores, axis=1)[:, :2]
    right = order[:, 0] == evidence.truth
    # Only the two best scores of a row matter to the rule: search on those.
    two = np.take_along_axis(evidence.scores, order, axis=1)
    ranked = np.tile(np.arange(two.shape[1]), (len(two), 1))
    wrong_cost = np.where(right, 0.0, wrong)[:, None]
    missed_cost = np.where(answerable, _MISSED, 0.0)[:, None]
    margins = np.array(_MARGINS)  # side by side: a column each (see `verdicts`)
    best: tuple[float, Thresholds] | None = None
    for answer in _GRID:  # from low thresholds up: of equal costs, the first answers most
        for clarify in _GRID[_GRID <= answer]:
            answered, asked = verdicts(two, ranked, answer, clarify, margins, clear_winner)
            cost = np.where(answered, wrong_cost, 0.0)
            cost += np.where(asked, _ASKED, 0.0)
            cost += np.where(~answered & ~asked, missed_cost, 0.0)
            totals = weight @ cost
            k = int(np.argmin(np.round(totals, 9)))
            if best is None or totals[k] < best[0] - 1e-9:
                best = (
                    float(totals[k]),
                    Thresholds(float(answer), float(clarify), margin=_MARGINS[k]),
                )
    assert best is not None
    return best[1]
