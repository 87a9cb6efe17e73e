"""What the classifier sees of a question, and the model fitted over it.

Each example question becomes two views: a sentence embedding (meaning;
strong in English, from `encoder`) and character n-gram TF-IDF (spelling; it
carries Dutch, compounds and typos where the English-first model is weak).
`IntentModel` is the n-gram vocabulary fitted on one bot's examples plus the
classifier over both views: what a matcher index holds, what each
calibration fold fits, and what the index store saves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from botbuilder.content.languages import normalise
from botbuilder.matching.classifier import SoftmaxRegression, load_training
from botbuilder.matching.ngrams import NgramTfidf, Rows, char_wb_ngrams

__all__ = ["INVERSE_REGULARISATION", "IntentModel", "ngram_vectorizer", "one_blas_thread"]

# Inverse regularisation (C) of the classifier. Measured on the benchmark
# sets: anywhere from 2 to 100 moves closed-set accuracy by at most one point,
# and choosing C by cross-validation on a bot's own examples lands on 25 too.
INVERSE_REGULARISATION = 25.0
# Training stops when the gradient has shrunk this much (see classifier.py).
# A provisional, warm-started index only serves until the matcher's
# `finish()` replaces it, so it may stop earlier.
_TOL = 1e-2
_WARM_TOL = 3e-2


def _ngrams_of() -> Callable[[str], tuple[str, ...]]:
    """Character 2-4-grams of the normalised text, within word boundaries."""
    return lambda text: tuple(char_wb_ngrams(normalise(text)))


# Analysing text is the slow part of building n-gram features; a bot that
# changes one intent re-analyses only that intent's questions. Member
# questions pass through too (and are evicted first): the size bounds the
# memory at a few tens of MB while holding the examples of any real bot.
_ngrams = lru_cache(maxsize=8192)(_ngrams_of())


def one_blas_thread() -> threadpool_limits:
    """BLAS at one thread while training. These matrices are small, and on a busy
    2-core machine (a server answering while it re-indexes) more threads only spin
    against each other: measured 3-5x slower. SciPy is loaded first, or its own BLAS
    would escape the limit (classifier.load_training); enter this before starting
    threads that train, since a limit entered in another thread misses it too."""
    load_training()
    return threadpool_limits(1)


def ngram_vectorizer() -> NgramTfidf:
    """TF-IDF over the cached n-grams: the same for a fit and a restored index
    (scikit-learn's char_wb TfidfVectorizer with sublinear tf, without its import)."""
    return NgramTfidf(_ngrams)


class IntentModel:
    """Character n-gram TF-IDF fitted on the training texts plus the classifier over both views."""

    classes: np.ndarray  # indices into the matcher's intent ids
    names: list[str]
    tfidf: NgramTfidf
    lr: SoftmaxRegression
    single: bool  # one intent: no classifier, it always wins
    iterations: int
    ngram_weight: float  # the n-gram block's scale (the encoder's; 0: embeddings alone)

    def __init__(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str],
        labels: np.ndarray,
        intent_ids: Sequence[str],
        warm: IntentModel | None = None,
        tol: float | None = None,
        ngram_weight: float = 1.0,
    ) -> None:
        self.classes = np.unique(labels)
        self.names = [intent_ids[c] for c in self.classes]
        self.tfidf = ngram_vectorizer()
        self.ngram_weight = ngram_weight
        ngrams = self._weighted(self.tfidf.fit_transform(texts))
        self.single = len(self.classes) < 2
        self.iterations = 0
        if not self.single:
            init = warm.weights_for(self, embeddings.shape[1]) if warm else None
            with one_blas_thread():
                self.lr = SoftmaxRegression(
                    C=INVERSE_REGULARISATION, tol=tol or (_WARM_TOL if init else _TOL)
                ).fit(
                    embeddings,
                    ngrams,
                    np.searchsorted(self.classes, labels),
                    len(self.classes),
                    init=init,
                )
            self.iterations = self.lr.iterations

    @classmethod
    def restored(
        cls,
        classes: np.ndarray,
        names: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        ngram_weight: float = 1.0,
    ) -> IntentModel:
        """A model from saved parts, without training; `weights` is None for one intent."""
        model = cls.__new__(cls)
        model.ngram_weight = ngram_weight
        model.classes = classes
        model.names = names
        model.single = weights is None
        model.iterations = 0
        model.tfidf = ngram_vectorizer()
        model.tfidf.vocabulary_ = vocabulary
        model.tfidf.idf_ = idf
        if weights is not None:
            model.lr = SoftmaxRegression(C=INVERSE_REGULARISATION)
            model.lr.dense, model.lr.sparse, model.lr.bias = weights
        return model

    def weights_for(
        self, new: IntentModel, dims: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """This model's weights laid out for `new` (matched by intent id and n-gram): a warm start."""
        if self.single or self.lr.dense.shape[0] != dims:
            return None
        mine = {name: n for n, name in enumerate(self.names)}
        columns = [(c, mine[name]) for c, name in enumerate(new.names) if name in mine]
        if not columns:
            return None
        new_cols = np.array([c for c, _ in columns])
        old_cols = np.array([o for _, o in columns])
        k = len(new.names)
        dense = np.zeros((dims, k), np.float32)
        dense[:, new_cols] = self.lr.dense[:, old_cols]
        bias = np.zeros(k, np.float32)
        bias[new_cols] = self.lr.bias[old_cols]
        old_vocabulary = self.tfidf.vocabulary_
        shared = [
            (j, old_vocabulary[g]) for g, j in new.tfidf.vocabulary_.items() if g in old_vocabulary
        ]
        sparse = np.zeros((len(new.tfidf.vocabulary_), k), np.float32)
        if shared:
            new_rows = np.array([j for j, _ in shared])
            old_rows = np.array([i for _, i in shared])
            sparse[np.ix_(new_rows, new_cols)] = self.lr.sparse[np.ix_(old_rows, old_cols)]
        return dense, sparse, bias

    def proba(self, embeddings: np.ndarray, texts: Sequence[str], n_classes: int) -> np.ndarray:
        """queries × all intents; intents this model never saw get 0."""
        out = np.zeros((len(texts), n_classes), dtype=np.float64)
        if self.single:
            out[:, self.classes[0]] = 1.0
        else:
            out[:, self.classes] = self.lr.proba(
                embeddings, self._weighted(self.tfidf.transform(texts))
            )
        return out

    def _weighted(self, ngrams: Rows) -> Rows:
        return ngrams if self.ngram_weight == 1.0 else ngrams * np.float32(self.ngram_weight)
