"""Which existing intent a group of missed questions belongs to, if any.

A group has a home when, in the clustering's own view (embedding plus
character n-grams of the topic words, `clustering`), its questions sit as
close to one intent's example questions as questions of one group sit to
each other: the mean similarity over all (question, example) pairs reaches
`1 - DISTANCE_THRESHOLD`. Then the suggestion is "add these phrasings to
that intent"; else "new intent". The intent whose answer the members
rejected for these questions is never the home: the next closest one is, if
it is close enough.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from botbuilder.content.model import Bot
from botbuilder.insights.clustering import DISTANCE_THRESHOLD, topic_text
from botbuilder.matching.encoder import Encoder

__all__ = ["Homes"]


@dataclass(frozen=True)
class _Examples:
    intent_ids: tuple[str, ...]  # per example row
    dense: np.ndarray
    ngrams: TfidfVectorizer
    ngram_rows: np.ndarray


class Homes:
    """The example questions of one bot, per language, ready to compare groups with."""

    def __init__(self, bot: Bot, encoder: Encoder) -> None:
        self.bot = bot
        self.encoder = encoder
        self._examples: dict[str, _Examples | None] = {}
        self._lock = threading.Lock()

    def _of(self, language: str) -> _Examples | None:
        with self._lock:
            if language not in self._examples:
                self._examples[language] = self._build(language)
            return self._examples[language]

    def _build(self, language: str) -> _Examples | None:
        pairs = [
            (intent.id, topic_text(q))
            for intent in self.bot.matchable()
            if intent.language == language
            for q in intent.questions
        ]
        if not pairs:
            return None
        texts = [t for _, t in pairs]
        ngrams = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32
        ).fit(texts)
        return _Examples(
            intent_ids=tuple(i for i, _ in pairs),
            dense=normalize(np.asarray(self.encoder.encode(texts), dtype=np.float32)),
            ngrams=ngrams,
            ngram_rows=normalize(ngrams.transform(texts)).toarray(),
        )

    def closest(
        self,
        language: str,
        texts: Sequence[str],
        embeddings: np.ndarray,
        rejected: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[str, float] | None:
        """The intent these questions belong to and its mean similarity, or None.

        `embeddings`: the questions' vectors of their topic texts (as stored)."""
        examples = self._of(language)
        if examples is None or not len(texts):
            return None
        dense = normalize(np.asarray(embeddings, dtype=np.float32)) @ examples.dense.T
        grams = normalize(examples.ngrams.transform([topic_text(t) for t in texts]))
        similarity = 0.5 * (dense + np.asarray(grams @ examples.ngram_rows.T))
        per_example = similarity.mean(axis=0)
        best: dict[str, list[float]] = {}
        for intent_id, value in zip(examples.intent_ids, per_example, strict=True):
            best.setdefault(intent_id, []).append(float(value))
        ranked = sorted(
            ((float(np.mean(v)), i) for i, v in best.items() if i not in rejected), reverse=True
        )
        if ranked and ranked[0][0] >= 1.0 - DISTANCE_THRESHOLD:
            return ranked[0][1], ranked[0][0]
        return None
