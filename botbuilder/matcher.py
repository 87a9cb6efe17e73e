"""Route a member's question to an intent: scores, then one decision.

Each example question becomes two views: a sentence embedding (meaning;
strong in English) and character n-gram TF-IDF (spelling; it carries Dutch,
compounds and typos where the English-first model is weak). A logistic
regression trained per bot on both views gives every intent a probability;
on the benchmarks this beats nearest-example and centroid matching on both
picking the right intent and telling unanswerable questions apart.

Thresholds are calibrated per bot from its own examples, so nobody has to
supply out-of-scope questions: in each of a few folds part of the intents is
held out entirely (their examples stand in for questions the bot has no
answer for) and part of the remaining examples is held out (unseen
phrasings of known intents). The thresholds that serve those held-out
questions best, counting a wrong answer as far worse than a needless
question or handoff, become the bot's "auto" thresholds.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from botbuilder.encoder import Encoder
from botbuilder.flows import Bot
from botbuilder.languages import normalise

__all__ = ["ANSWER", "CLARIFY", "HANDOFF", "Candidate", "Match", "Matcher", "Thresholds"]

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"

MAX_OPTIONS = 3
# How the calibration weighs outcomes (see the module docstring): a wrong
# answer is the worst outcome, a needless handoff the next worst.
_VALUE = {
    "in_right": 1.0,
    "in_clarify_hit": 0.6,
    "in_clarify_miss": -0.3,
    "in_wrong": -2.0,
    "in_handoff": -0.4,
    "oos_answer": -2.0,
    "oos_clarify": -0.4,
    "oos_handoff": 0.6,
}
# Out-of-scope questions are assumed to be about a quarter of traffic.
_OOS_SHARE = 0.25
_FOLDS = 3
_FALLBACK = (0.5, 0.2)


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one question."""

    decision: str  # answer | clarify | handoff
    intent: str | None  # the answered intent, or the best guess otherwise
    confidence: float
    candidates: tuple[Candidate, ...]
    options: tuple[str, ...] = ()  # intents offered when clarifying


@dataclass(frozen=True)
class Thresholds:
    answer: float
    clarify: float
    calibrated: bool = True


@dataclass
class IndexStats:
    examples: int = 0
    intents: int = 0
    encode_seconds: float = 0.0
    train_seconds: float = 0.0
    calibrate_seconds: float = 0.0
    build_seconds: float = 0.0


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=normalise
    )


class _Model:
    """TF-IDF fitted on the training texts plus a logistic regression over both views."""

    def __init__(self, embeddings: np.ndarray, texts: Sequence[str], labels: np.ndarray) -> None:
        self.classes = np.unique(labels)
        self.tfidf = _vectorizer().fit(texts)
        self.single = len(self.classes) < 2
        if not self.single:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.lr = LogisticRegression(C=50.0, max_iter=300, tol=1e-3).fit(
                    self.features(embeddings, texts), labels
                )

    def features(self, embeddings: np.ndarray, texts: Sequence[str]) -> csr_matrix:
        return hstack([csr_matrix(embeddings), self.tfidf.transform(texts)]).tocsr()

    def proba(self, embeddings: np.ndarray, texts: Sequence[str], n_classes: int) -> np.ndarray:
        """queries × all intents; intents this model never saw get 0."""
        out = np.zeros((len(texts), n_classes), dtype=np.float64)
        if self.single:
            out[:, self.classes[0]] = 1.0
        else:
            out[:, self.classes] = self.lr.predict_proba(self.features(embeddings, texts))
        return out


class Matcher:
    """An index over one bot's example questions; safe to share between threads."""

    def __init__(self, bot: Bot, encoder: Encoder, query_encoder: Encoder | None = None) -> None:
        started = time.perf_counter()
        self.bot = bot
        self.encoder = encoder
        # Member questions are rarely repeated: encode them without the disk cache.
        self.query_encoder = query_encoder or getattr(encoder, "encoder", encoder)
        examples: list[tuple[str, str]] = []  # (intent id, text)
        for intent in sorted(bot.matchable(), key=lambda i: (i.id, i.language)):
            examples.extend((intent.id, q) for q in intent.questions)
        self.intent_ids: list[str] = sorted({i for i, _ in examples})
        position = {intent_id: n for n, intent_id in enumerate(self.intent_ids)}
        self._labels = np.array([position[i] for i, _ in examples], dtype=np.int64)
        self._texts = [t for _, t in examples]

        t0 = time.perf_counter()
        self._embeddings = encoder.encode(self._texts)
        t1 = time.perf_counter()
        self._model = _Model(self._embeddings, self._texts, self._labels)
        t2 = time.perf_counter()
        calibrated = self._calibrate()
        t3 = time.perf_counter()
        configured = bot.settings.matcher
        answer = configured.answer_threshold
        clarify = configured.clarify_threshold
        self.thresholds = Thresholds(
            answer=calibrated.answer if answer is None else answer,
            clarify=min(
                calibrated.clarify if clarify is None else clarify,
                calibrated.answer if answer is None else answer,
            ),
            calibrated=calibrated.calibrated and (answer is None or clarify is None),
        )
        self.stats = IndexStats(
            examples=len(self._texts),
            intents=len(self.intent_ids),
            encode_seconds=t1 - t0,
            train_seconds=t2 - t1,
            calibrate_seconds=t3 - t2,
            build_seconds=time.perf_counter() - started,
        )

    # -- scoring -------------------------------------------------------------

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Intent probabilities for several questions at once, in `intent_ids` order."""
        texts = list(texts)
        embeddings = self.query_encoder.encode(texts)
        return self._model.proba(embeddings, texts, len(self.intent_ids))

    def match(self, text: str) -> Match:
        return self.decide(self.scores([text])[0])

    def match_many(self, texts: Sequence[str]) -> list[Match]:
        if not texts:
            return []
        return [self.decide(row) for row in self.scores(texts)]

    def decide(self, scores: np.ndarray, thresholds: Thresholds | None = None) -> Match:
        """Turn one row of intent scores into answer, clarify or handoff."""
        t = thresholds or self.thresholds
        order = np.argsort(-scores)[:5]
        ranked = tuple(Candidate(self.intent_ids[i], round(float(scores[i]), 4)) for i in order)
        if not ranked:
            return Match(HANDOFF, None, 0.0, ())
        best = ranked[0]
        if best.score >= t.answer:
            return Match(ANSWER, best.intent, best.score, ranked)
        if best.score >= t.clarify:
            # Offer the plausible ones: those carrying real probability mass.
            floor = max(t.clarify / 2, best.score / 4)
            options = tuple(c.intent for c in ranked[:MAX_OPTIONS] if c.score >= floor)
            return Match(CLARIFY, best.intent, best.score, ranked, options)
        return Match(HANDOFF, best.intent, best.score, ranked)

    # -- calibration ---------------------------------------------------------

    def _calibrate(self) -> Thresholds:
        """Thresholds from held-out examples and held-out intents: see the module docstring."""
        n_intents = len(self.intent_ids)
        if n_intents < 3 or len(self._labels) < 2 * n_intents:
            return Thresholds(*_FALLBACK, calibrated=False)
        rng = np.random.default_rng(0)  # fixed: the same bot always gets the same thresholds
        intent_fold = rng.permutation(n_intents) % _FOLDS
        example_fold = rng.permutation(len(self._labels)) % _FOLDS
        in_probs, in_labels, oos_probs = [], [], []
        for fold in range(_FOLDS):
            held_intent = intent_fold[self._labels] == fold
            held_example = (example_fold == (fold + 1) % _FOLDS) & ~held_intent
            train = ~held_intent & ~held_example
            if len(np.unique(self._labels[train])) < 2:
                continue
            texts = [t for t, keep in zip(self._texts, train, strict=True) if keep]
            model = _Model(self._embeddings[train], texts, self._labels[train])
            for mask, sink in ((held_example, in_probs), (held_intent, oos_probs)):
                if mask.any():
                    held_texts = [t for t, keep in zip(self._texts, mask, strict=True) if keep]
                    sink.append(model.proba(self._embeddings[mask], held_texts, n_intents))
            in_labels.append(self._labels[held_example])
        if not in_probs or not oos_probs:
            return Thresholds(*_FALLBACK, calibrated=False)
        return _best_thresholds(
            np.vstack(in_probs), np.concatenate(in_labels), np.vstack(oos_probs)
        )


def _best_thresholds(in_probs: np.ndarray, in_labels: np.ndarray, oos_probs: np.ndarray) -> Thresholds:
    """Grid-search (answer, clarify) for the best expected value of the outcomes."""
    v = _VALUE
    in_top = in_probs.max(axis=1)
    in_right = in_probs.argmax(axis=1) == in_labels
    top3 = np.argsort(-in_probs, axis=1)[:, :MAX_OPTIONS]
    in_hit = (top3 == in_labels[:, None]).any(axis=1)
    oos_top = oos_probs.max(axis=1)
    oos_weight = _OOS_SHARE / (1 - _OOS_SHARE) * len(in_top) / max(len(oos_top), 1)
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    best_value, best = -np.inf, _FALLBACK
    for answer in grid:
        answered = in_top >= answer
        oos_answered = oos_top >= answer
        for clarify in grid[grid <= answer]:
            clarified = ~answered & (in_top >= clarify)
            oos_clarified = ~oos_answered & (oos_top >= clarify)
            value = (
                v["in_right"] * np.sum(answered & in_right)
                + v["in_wrong"] * np.sum(answered & ~in_right)
                + v["in_clarify_hit"] * np.sum(clarified & in_hit)
                + v["in_clarify_miss"] * np.sum(clarified & ~in_hit)
                + v["in_handoff"] * np.sum(~answered & ~clarified)
                + oos_weight
                * (
                    v["oos_answer"] * np.sum(oos_answered)
                    + v["oos_clarify"] * np.sum(oos_clarified)
                    + v["oos_handoff"] * np.sum(~oos_answered & ~oos_clarified)
                )
            )
            if value > best_value:
                best_value, best = value, (float(answer), float(clarify))
    return Thresholds(answer=best[0], clarify=best[1])
