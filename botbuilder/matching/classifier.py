"""Multinomial logistic regression over a dense and a sparse block of features.

The matcher's classifier: the same model and objective as scikit-learn's
LogisticRegression (C · cross-entropy + ½‖W‖², bias unpenalised), trained
with our own L-BFGS because of what a bot needs from it:

- A real fit at the same cost. The features are a dense sentence embedding
  next to sparse character n-grams. scikit-learn wants one matrix (the dense
  block stored as sparse) and runs SciPy's L-BFGS-B over ~10⁶ weights: on a
  150-intent bot an iteration cost ~250 ms, and at the tolerance that kept
  builds bearable it stopped after 4. Kept apart, in float32, an iteration
  costs ~40 ms, so about 30 fit in the same second. The better-fitted model
  gave fewer wrong answers and more handoffs of unanswerable questions on
  the benchmark sets.
- Warm starts. When a manager changes one intent, training starts from the
  running model's weights (mapped by intent and n-gram, which scikit-learn's
  warm start cannot do) and takes a few steps instead of dozens.

Why our own loop rather than SciPy's `minimize(method="L-BFGS-B", jac=True,
x0=…)` on the same split loss (`SplitLoss`): measured side by side by
`make bench` (benchmarks/lbfgs.py) on the 150-intent bot, 1.15 million
weights, the same stopping rule and 10 correction pairs, one BLAS thread,
median of 5 fits on a quiet 2-core machine:

    tol   optimiser   fit     in the loss  iterations  evaluations  final loss  closed-set
    1e-2  ours        1.4 s   0.8 s        30          36           12580.9     0.847
    1e-2  SciPy       4.4 s   0.7 s        30          35           12580.4     0.847
    3e-2  ours        1.6 s   0.9 s        29          35           12581.6     0.847
    3e-2  SciPy       4.5 s   0.9 s        29          34           12580.6     0.847

Both take the same steps to the same model (the same accuracy on 3336
benchmark questions), but SciPy's own work between loss evaluations
(L-BFGS-B in float64 over its correction vectors, plus converting the
weights each call) costs ~120 ms an iteration against our ~20 ms (float32,
in-place axpy): a fit three times as long, and on a busy machine too (6.3 s
against 22.6 s). So the loop below stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from botbuilder.matching.ngrams import Rows

__all__ = ["SoftmaxRegression", "SplitLoss", "lbfgs", "load_training"]

_HISTORY = 10  # L-BFGS memory: the usual choice; more buys nothing here
_DTYPE = np.float32


@cache
def load_training() -> Callable[..., Any]:
    """SciPy's BLAS saxpy, which training needs and answering doesn't (a server that starts
    from a saved index skips SciPy's ~0.3 s import). Call it before `threadpool_limits`:
    that only limits the BLAS libraries loaded when it is entered, and SciPy's own
    OpenBLAS, loaded inside it, ran saxpy on unlimited spinning threads (a quick first
    index's fits took 8 s of CPU instead of 0.9)."""
    from scipy.linalg.blas import saxpy

    return saxpy  # type: ignore[no-any-return]


@dataclass
class SoftmaxRegression:
    """Fit with `fit`; `dense` (d × k), `sparse` (v × k) and `bias` (k) hold the weights."""

    C: float = 25.0
    max_iter: int = 100
    # Stop when the largest gradient entry is this small relative to the one at
    # zero weights: 1e-2 reaches the accuracy of a tight fit on every benchmark set.
    tol: float = 1e-2

    def __post_init__(self) -> None:
        self.dense = np.zeros((0, 0), _DTYPE)
        self.sparse = np.zeros((0, 0), _DTYPE)
        self.bias = np.zeros(0, _DTYPE)
        self.iterations = 0

    def fit(
        self,
        dense: np.ndarray,
        sparse: Rows | csr_matrix,
        labels: np.ndarray,
        n_classes: int,
        init: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> SoftmaxRegression:
        """Train on rows of [dense | sparse] with integer labels 0..n_classes-1.

        `init`: starting (dense, sparse, bias) weights, e.g. a previous model's.
        """
        loss = SplitLoss(dense, sparse, labels, n_classes, self.C)
        w = loss.zeros() if init is None else loss.pack(*init)
        w, self.iterations = lbfgs(loss, w, loss.stop(self.tol), self.max_iter)
        self.dense, self.sparse, self.bias = loss.unpack(w)
        return self

    def proba(self, dense: np.ndarray, sparse: Rows | csr_matrix) -> np.ndarray:
        Z = np.asarray(dense, _DTYPE) @ self.dense + sparse @ self.sparse + self.bias
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z).astype(np.float64)
        return P / P.sum(axis=1, keepdims=True)


class SplitLoss:
    """The objective over weights packed as one vector [dense | sparse | bias],
    with the dense and sparse feature blocks kept apart (see the module docstring)."""

    def __init__(
        self,
        dense: np.ndarray,
        sparse: Rows | csr_matrix,
        labels: np.ndarray,
        n_classes: int,
        C: float,
    ) -> None:
        from scipy.sparse import csr_matrix

        self.D = np.ascontiguousarray(dense, dtype=_DTYPE)
        self.S = csr_matrix(sparse.tocsr(), dtype=_DTYPE)
        self.St = self.S.T.tocsr()
        n, self.d = self.D.shape
        self.v = self.S.shape[1]
        self.k = n_classes
        self.Y = np.zeros((n, self.k), _DTYPE)
        self.Y[np.arange(n), labels] = 1.0
        self.C = C
        self.split = (self.d * self.k, (self.d + self.v) * self.k)

    def __call__(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and gradient at w."""
        d, v, k, split = self.d, self.v, self.k, self.split
        Wd = w[: split[0]].reshape(d, k)
        Ws = w[split[0] : split[1]].reshape(v, k)
        Z = self.D @ Wd + self.S @ Ws + w[split[1] :]
        Z -= Z.max(axis=1, keepdims=True)
        expZ = np.exp(Z)
        total = expZ.sum(axis=1, keepdims=True)
        G = _DTYPE(self.C) * (expZ / total - self.Y)
        penalised = w[: split[1]]
        loss = self.C * float(np.log(total).sum() - (Z * self.Y).sum()) + 0.5 * float(
            penalised @ penalised
        )
        grad = np.concatenate(
            [(self.D.T @ G + Wd).ravel(), (self.St @ G + Ws).ravel(), G.sum(axis=0)]
        )
        return loss, grad

    def zeros(self) -> np.ndarray:
        return np.zeros(self.split[1] + self.k, _DTYPE)

    def pack(self, dense: np.ndarray, sparse: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return np.concatenate([np.ravel(part) for part in (dense, sparse, bias)]).astype(_DTYPE)

    def unpack(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dense d × k, sparse v × k, bias k) weights."""
        split = self.split
        return (
            w[: split[0]].reshape(self.d, self.k),
            w[split[0] : split[1]].reshape(self.v, self.k),
            w[split[1] :].copy(),
        )

    def stop(self, tol: float) -> float:
        """The largest gradient entry at which training stops.

        Relative to the gradient at zero weights, so that a warm start,
        already close, stops after a few steps rather than chasing a
        tolerance relative to its own small gradient."""
        _, grad_at_zero = self(self.zeros())
        return tol * max(float(np.abs(grad_at_zero).max()), 1e-12)


def lbfgs(
    f: Callable[[np.ndarray], tuple[float, np.ndarray]], w: np.ndarray, stop: float, max_iter: int
) -> tuple[np.ndarray, int]:
    """Minimise f (returning loss and gradient) from w; Armijo backtracking."""
    axpy = load_training()
    loss, grad = f(w)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / yᵀs)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        if max(float(grad.max()), -float(grad.min())) <= stop:
            return w, iteration - 1
        # Two-loop recursion: direction = -H·grad with H from the recent steps.
        # In-place BLAS axpy: these vectors have ~10⁶ entries, and temporaries
        # cost as much as the arithmetic.
        q = grad.copy()
        alphas = []
        for s, y, rho in reversed(steps):
            a = rho * float(s @ q)
            q = axpy(y, q, a=-a)
            alphas.append(a)
        if steps:
            s, y, _ = steps[-1]
            q *= float(s @ y) / float(y @ y)
        else:
            q /= max(float(np.linalg.norm(grad)), 1e-12)
        for (s, y, rho), a in zip(steps, reversed(alphas), strict=True):
            q = axpy(s, q, a=a - rho * float(y @ q))
        direction = -q
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: forget the history, go downhill
            steps.clear()
            direction = -grad / max(float(np.linalg.norm(grad)), 1e-12)
            slope = float(grad @ direction)
        step = 1.0
        while True:
            candidate = w + _DTYPE(step) * direction
            new_loss, new_grad = f(candidate)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-6:
                break
            step *= 0.5
        s = candidate - w
        y = new_grad - grad
        sy = float(s @ y)
        if sy > 1e-10:
            steps.append((s, y, 1.0 / sy))
            if len(steps) > _HISTORY:
                steps.pop(0)
        w, loss, grad = candidate, new_loss, new_grad
    return w, iteration
