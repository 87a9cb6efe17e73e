"""The matcher's own logistic regression: the same model as scikit-learn's, and warm starts."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from botbuilder.matching.classifier import SoftmaxRegression


def _problem(seed: int = 0) -> tuple[np.ndarray, csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(6), 12)
    centres = rng.normal(size=(6, 16))
    dense = centres[labels] + rng.normal(scale=1.5, size=(len(labels), 16))
    sparse = (rng.random((len(labels), 60)) < 0.08) * rng.random((len(labels), 60))
    return dense.astype(np.float32), csr_matrix(sparse), labels


def test_it_fits_the_same_model_as_scikit_learn() -> None:
    dense, sparse, labels = _problem()
    ours = SoftmaxRegression(C=2.0, tol=1e-5, max_iter=500).fit(dense, sparse, labels, 6)
    theirs = LogisticRegression(C=2.0, tol=1e-8, max_iter=5000).fit(
        np.hstack([dense, sparse.toarray()]), labels
    )
    expected = theirs.predict_proba(np.hstack([dense, sparse.toarray()]))
    assert np.abs(ours.proba(dense, sparse) - expected).max() < 1e-2
    assert (ours.proba(dense, sparse).argmax(1) == expected.argmax(1)).all()


def test_a_warm_start_from_a_near_model_takes_fewer_steps() -> None:
    dense, sparse, labels = _problem()
    cold = SoftmaxRegression().fit(dense, sparse, labels, 6)
    changed = dense.copy()
    changed[0] += 0.1  # one example edited
    warm = SoftmaxRegression().fit(
        changed, sparse, labels, 6, init=(cold.dense, cold.sparse, cold.bias)
    )
    again = SoftmaxRegression().fit(changed, sparse, labels, 6)
    assert warm.iterations < again.iterations / 2
    assert (warm.proba(changed, sparse).argmax(1) == again.proba(changed, sparse).argmax(1)).all()
