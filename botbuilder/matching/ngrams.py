"""Character n-gram TF-IDF without scikit-learn: the matcher's spelling view.

What scikit-learn's `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
sublinear_tf=True)` computes, in NumPy and SciPy alone: importing
scikit-learn costs more than a second of CPU (it pulls in most of SciPy),
which a server starting from a saved index, or a bot's first start, should
not pay to turn questions into n-gram counts. `tests/test_ngrams.py` checks
that both give the same vocabulary, weights and vectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix

__all__ = ["NgramTfidf", "char_wb_ngrams"]

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


class NgramTfidf:
    """TF-IDF over an analyzer's terms: sublinear counts (1 + log tf), smoothed
    idf (1 + log((1 + n) / (1 + df))), rows L2-normalised, float32.

    `vocabulary_` (term -> column, in sorted term order) and `idf_` are what a
    fit sets, and what a saved index restores."""

    def __init__(self, analyzer: Callable[[str], Sequence[str]]) -> None:
        self.analyzer = analyzer
        self.vocabulary_: dict[str, int] = {}
        self.idf_ = np.zeros(0, dtype=np.float32)

    def fit_transform(self, texts: Sequence[str]) -> csr_matrix:
        terms = [self.analyzer(t) for t in texts]
        self.vocabulary_ = {g: n for n, g in enumerate(sorted({g for row in terms for g in row}))}
        counts = self._counts(terms)
        df = np.bincount(counts.indices, minlength=len(self.vocabulary_)).astype(np.float32)
        idf = np.full_like(df, len(texts) + 1.0)
        idf /= df + 1.0
        np.log(idf, out=idf)
        self.idf_ = idf + np.float32(1.0)
        return self._weigh(counts)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        return self._weigh(self._counts([self.analyzer(t) for t in texts]))

    def _counts(self, terms: list[Sequence[str]]) -> csr_matrix:
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
        return csr_matrix(
            (
                np.array(data, dtype=np.float32),
                np.array(indices, dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(terms), len(vocabulary)),
        )

    def _weigh(self, counts: csr_matrix) -> csr_matrix:
        data = counts.data
        np.log(data, out=data)
        data += np.float32(1.0)
        data *= self.idf_[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(
            np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=counts.shape[0])
        )
        counts.data = (data / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
        return counts
