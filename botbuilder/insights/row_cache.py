"""What the grouping reads of each inbox question, kept between looks at the inbox.

A large inbox that gained a few questions is not grouped afresh: the new ones
join the stored groups (`grouping.attach`), compared in the clustering's two
views with every question of the language. Those views were the cost of the
look: reading every stored vector again, and fitting the character n-gram
TF-IDF over every question's topic words again. `RowCache` keeps, per
question, its vector and its n-gram counts (under a vocabulary that only
grows), so a look reads and analyses only the questions it has not seen. The
TF-IDF weights are then worked out from the counts of the questions asked
for, exactly as `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
sublinear_tf=True)` fitted on them would give (the same document
frequencies, smoothing and norms; only the order of the columns differs,
which no cosine sees).

Only questions still in the inbox stay in it: `views` forgets the ones it was
not asked for, so a deleted member's question leaves memory at the next look.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from botbuilder.insights.clustering import topic_text, unit_rows
from botbuilder.matching.ngrams import char_wb_ngrams

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix  # imported where a matrix is built: not at start-up

__all__ = ["RowCache"]

Reader = Callable[[list[int]], dict[int, np.ndarray]]  # message ids -> their stored vectors


class RowCache:
    """Per message id: its vector and n-gram counts; `views` assembles a language's rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # scikit-learn's char_wb analyzer (lower-cased), without importing it at start-up
        self._analyse = lambda text: char_wb_ngrams(text.lower())
        self._vocabulary: dict[str, int] = {}
        self._vectors: dict[int, np.ndarray] = {}
        self._grams: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # column ids, counts

    def vectors(self, message_ids: Sequence[int], read: Reader) -> dict[int, np.ndarray]:
        """The stored vectors of these questions; only those not kept yet are read."""
        with self._lock:
            missing = [m for m in message_ids if m not in self._vectors]
        if missing:
            found = read(missing)
            with self._lock:
                self._vectors.update(found)
        with self._lock:
            return {m: self._vectors[m] for m in message_ids if m in self._vectors}

    def views(
        self, message_ids: Sequence[int], texts: Sequence[str], read: Reader
    ) -> tuple[np.ndarray, np.ndarray, csr_matrix]:
        """Raw vectors, and the two views of `clustering.views` (unit rows) of these
        questions; every question must have a stored vector. Forgets all others."""
        vectors = self.vectors(message_ids, read)
        with self._lock:
            keep = set(message_ids)
            for gone in [m for m in self._vectors if m not in keep]:
                del self._vectors[gone]
                self._grams.pop(gone, None)
            for m, text in zip(message_ids, texts, strict=True):
                if m not in self._grams:
                    self._grams[m] = self._count(text)
            grams = [self._grams[m] for m in message_ids]
            width = len(self._vocabulary)
        raw = np.vstack([vectors[m] for m in message_ids]).astype(np.float32)
        return raw, unit_rows(raw), _tfidf(grams, width)

    def _count(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram counts of a question's topic words, under the growing vocabulary."""
        counts: dict[int, int] = {}
        for gram in self._analyse(topic_text(text)):
            column = self._vocabulary.setdefault(gram, len(self._vocabulary))
            counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        return columns, np.fromiter(counts.values(), dtype=np.float64, count=len(counts))


def _tfidf(grams: list[tuple[np.ndarray, np.ndarray]], width: int) -> csr_matrix:
    """Sublinear TF times smoothed IDF over these rows, each row L2-normalised (float32)."""
    lengths = np.array([len(c) for c, _ in grams], dtype=np.int64)
    columns = np.concatenate([c for c, _ in grams]) if grams else np.zeros(0, np.int64)
    counts = np.concatenate([n for _, n in grams]) if grams else np.zeros(0)
    documents = np.bincount(columns, minlength=width)
    idf = np.log((1 + len(grams)) / (1 + documents)) + 1.0
    data = (1.0 + np.log(counts)) * idf[columns]
    pointers = np.concatenate([[0], np.cumsum(lengths)])
    rows = np.repeat(np.arange(len(grams)), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data**2, minlength=len(grams)))
    data = (data / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
    from scipy.sparse import csr_matrix

    return csr_matrix((data, columns, pointers), shape=(len(grams), width))
