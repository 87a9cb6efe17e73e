"""Our L-BFGS loop next to SciPy's L-BFGS-B, on the same split loss.

Both minimise `classifier.SplitLoss` (the dense embedding block and the
sparse n-gram block kept apart) from the same start with the same stopping
rule (largest gradient entry below `tol` × its size at zero weights, at most
100 iterations, 10 correction pairs), on the 150-intent bot that `make bench`
builds. Fits alternate, so both see the same machine load. Printed: median
fit time, the seconds of the last fit spent in the loss (the rest is the
optimiser's own work), iterations, loss evaluations, final loss, and
closed-set accuracy on the benchmark questions whose intent the bot has.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from botbuilder.content.loader import load_bot
from botbuilder.matching.classifier import SoftmaxRegression, SplitLoss, lbfgs
from botbuilder.matching.encoder import Encoder
from botbuilder.matching.evaluation import load_cases
from botbuilder.matching.features import INVERSE_REGULARISATION, ngram_vectorizer, one_blas_thread

__all__ = ["lbfgs_comparison", "scipy_fit"]

# The main fit, and the calibration folds' and a warm start's looser fit.
_TOLERANCES = (1e-2, 3e-2)
_MAX_ITER = 100
_HISTORY = 10


class _Timed:
    """The loss, counting its evaluations and the seconds spent in them."""

    def __init__(self, loss: SplitLoss) -> None:
        self.loss = loss
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        started = time.perf_counter()
        result = self.loss(w)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return result


_Fit = tuple[np.ndarray, int, _Timed, str]  # weights, iterations, the loss's counts, message


def scipy_fit(loss: SplitLoss, w: np.ndarray, tol: float) -> _Fit:
    """SciPy's L-BFGS-B on `loss` from `w`."""
    timed = _Timed(loss)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        # SciPy works in float64; the loss stays in float32 like ours.
        value, grad = timed(x.astype(np.float32))
        return value, grad.astype(np.float64)

    result = minimize(
        fun,
        w.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": _MAX_ITER, "maxcor": _HISTORY, "gtol": loss.stop(tol)},
    )
    return result.x.astype(np.float32), int(result.nit), timed, str(result.message)


def _ours(loss: SplitLoss, w: np.ndarray, tol: float) -> _Fit:
    """What `SoftmaxRegression.fit` runs, with the loss evaluations counted."""
    timed = _Timed(loss)
    w, iterations = lbfgs(timed, w, loss.stop(tol), _MAX_ITER)
    return w, iterations, timed, ""


def _problem(flows: Path, encoder: Encoder) -> tuple[Any, ...]:
    bot = load_bot(flows)
    intents = sorted(bot.matchable(), key=lambda i: (i.id, i.language))
    ids = sorted({i.id for i in intents})
    texts = [q for i in intents for q in i.questions]
    labels = np.array([ids.index(i.id) for i in intents for _ in i.questions])
    tfidf = ngram_vectorizer()
    sparse = tfidf.fit_transform(texts)
    dense = encoder.encode(texts)
    return ids, dense, sparse, labels, tfidf


def _questions(ids: list[str], bench: Path) -> tuple[list[str], np.ndarray]:
    """Benchmark questions whose intent the bot has (its ids are `s<n>_<intent>`)."""
    position = {name: n for n, name in enumerate(ids)}
    questions, expected = [], []
    for n, name in enumerate(("hwu64-10shot", "banking77-10shot")):
        for case in load_cases(bench / name / "tests.yml"):
            if f"s{n}_{case.expect}" in position:
                questions.append(case.question)
                expected.append(position[f"s{n}_{case.expect}"])
    return questions, np.array(expected)


def lbfgs_comparison(
    flows: Path,
    bench: Path,
    encoder: Encoder,
    runs: int = 5,
    tolerances: tuple[float, ...] = _TOLERANCES,
) -> None:
    """Print the comparison table for the bot in `flows` (see the module docstring)."""
    ids, dense, sparse, labels, tfidf = _problem(flows, encoder)
    questions, expected = _questions(ids, bench)
    q_dense, q_sparse = encoder.encode(questions), tfidf.transform(questions)
    loss = SplitLoss(dense, sparse, labels, len(ids), INVERSE_REGULARISATION)
    optimisers: dict[str, Callable[[SplitLoss, np.ndarray, float], _Fit]] = {
        "ours": _ours,
        "scipy L-BFGS-B": scipy_fit,
    }
    print(
        f"L-BFGS, {len(ids)} intents × {len(labels) // len(ids)} phrasings "
        f"({loss.zeros().size:,} weights), median of {runs} fits, one BLAS thread; "
        f"accuracy over {len(questions)} questions:"
    )
    header = (
        f"  {'tol':<5} {'optimiser':<15} {'fit':>8} {'in loss':>8} {'iterations':>10} "
        f"{'loss evals':>10} {'final loss':>11} {'closed-set':>10}"
    )
    print(header)
    for tol in tolerances:
        seconds: dict[str, list[float]] = {name: [] for name in optimisers}
        results: dict[str, _Fit] = {}
        with one_blas_thread():
            for _ in range(runs):
                for name, fit in optimisers.items():
                    started = time.perf_counter()
                    results[name] = fit(loss, loss.zeros(), tol)
                    seconds[name].append(time.perf_counter() - started)
        for name, (w, iterations, timed, message) in results.items():
            model = SoftmaxRegression()
            model.dense, model.sparse, model.bias = loss.unpack(w)
            accuracy = float((model.proba(q_dense, q_sparse).argmax(1) == expected).mean())
            print(
                f"  {tol:<5g} {name:<15} {statistics.median(seconds[name]):>7.2f}s "
                f"{timed.seconds:>7.2f}s {iterations:>10} {timed.calls:>10} "
                f"{loss(w)[0]:>11.1f} {accuracy:>10.3f}" + (f"  ({message})" if message else "")
            )
