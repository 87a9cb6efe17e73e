"""Character n-gram TF-IDF without scikit-learn: the matcher's spelling view.

What scikit-learn's `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
sublinear_tf=True)` computes, in NumPy alone: importing scikit-learn costs
more than a second of CPU (it pulls in most of SciPy), which a server
starting from a saved index, or a bot's first start, should not pay to turn
questions into n-gram counts. Even SciPy's sparse matrices cost ~0.2 s to
import, so rows come as `Rows`, which answering multiplies by the weights
itself; training and the insights take SciPy's matrix from `Rows.tocsr()`.
`tests/test_ngrams.py` checks that both give the same vocabulary, weights
and vectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["NgramTfidf", "Rows", "char_wb_ngrams"]

_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, low: int = 2, high: int = 4) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space
    (scikit-learn's "char_wb" analyzer, in the same order)."""
    grams: list[str] = []
    append = grams.append
    for word in _SPACES.sub(" ", text).split():
        word = f" {word} "
        length = len(word)
        for n in range(low, high + 1):
            offset = 0
            append(word[:n])
            while offset + n < length:
                offset += 1
                append(word[offset : offset + n])
            if offset == 0:  # a word shorter than n: counted once
                break
    return grams


# Up to this many rows (a batch of questions being answered) `Rows @ weights`
# runs in NumPy; more (calibration, evaluation: after training has loaded
# SciPy anyway) go through SciPy's sparse product, ~20x faster on 1,500 rows.
_NUMPY_ROWS = 64


@dataclass(frozen=True)
class Rows:
    """Sparse rows in CSR layout: float32 `data`, int32 column `indices`, `indptr`."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.width

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __matmul__(self, weights: np.ndarray) -> np.ndarray:
        """These rows times dense `weights` (width × k): a dense (rows × k) array."""
        if self.shape[0] > _NUMPY_ROWS:
            return np.asarray(self.tocsr() @ weights)
        out = np.zeros((self.shape[0], weights.shape[1]), np.result_type(self.data, weights))
        starts = self.indptr[:-1]
        filled = np.flatnonzero(self.indptr[1:] > starts)
        if filled.size:  # each row's products summed, from each non-empty row's start
            products = weights[self.indices] * self.data[:, None]
            out[filled] = np.add.reduceat(products, starts[filled], axis=0)
        return out

    def __mul__(self, factor: float | np.floating) -> Rows:
        return replace(self, data=self.data * factor)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, self.data.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out

    def tocsr(self) -> csr_matrix:
        from scipy.sparse import csr_matrix

        return csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


class NgramTfidf:
    """TF-IDF over an analyzer's terms: sublinear counts (1 + log tf), smoothed
    idf (1 + log((1 + n) / (1 + df))), rows L2-normalised, float32.

    `vocabulary_` (term -> column, in sorted term order) and `idf_` are what a
    fit sets, and what a saved index restores."""

    def __init__(self, analyzer: Callable[[str], Sequence[str]]) -> None:
        self.analyzer = analyzer
        self.vocabulary_: dict[str, int] = {}
        self.idf_ = np.zeros(0, dtype=np.float32)

    def fit_transform(self, texts: Sequence[str]) -> Rows:
        terms = [self.analyzer(t) for t in texts]
        self.vocabulary_ = {g: n for n, g in enumerate(sorted({g for row in terms for g in row}))}
        counts = self._counts(terms)
        df = np.bincount(counts.indices, minlength=len(self.vocabulary_)).astype(np.float32)
        idf = np.full_like(df, len(texts) + 1.0)
        idf /= df + 1.0
        np.log(idf, out=idf)
        self.idf_ = idf + np.float32(1.0)
        return self._weigh(counts)

    def transform(self, texts: Sequence[str]) -> Rows:
        return self._weigh(self._counts([self.analyzer(t) for t in texts]))

    def _counts(self, terms: list[Sequence[str]]) -> Rows:
        """Term counts per text, over the vocabulary (unknown terms dropped)."""
        vocabulary = self.vocabulary_
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for row in terms:
            found: dict[int, int] = {}
            for g in row:
                column = vocabulary.get(g)
                if column is not None:
                    found[column] = found.get(column, 0) + 1
            columns = sorted(found)
            indices.extend(columns)
            data.extend(found[c] for c in columns)
            indptr.append(len(indices))
        return Rows(
            np.array(data, dtype=np.float32),
            np.array(indices, dtype=np.int32),
            np.array(indptr, dtype=np.int32),
            len(vocabulary),
        )

    def _weigh(self, counts: Rows) -> Rows:
        data = counts.data
        np.log(data, out=data)
        data += np.float32(1.0)
        data *= self.idf_[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(
            np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=counts.shape[0])
        )
        return replace(
            counts, data=(data / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
        )
