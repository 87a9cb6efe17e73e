"""Route a member's question to an intent: scores, then one decision.

Each example question becomes two views: a sentence embedding (meaning;
strong in English) and character n-gram TF-IDF (spelling; it carries Dutch,
compounds and typos where the English-first model is weak). A logistic
regression trained per bot on both views gives every intent a probability;
on the benchmarks this beats nearest-example and centroid matching on both
picking the right intent and telling unanswerable questions apart.

Thresholds are calibrated per bot from its own examples, so nobody has to
supply out-of-scope questions. Four extra fits each leave out a quarter of
the intents entirely and one example of every other intent: the left-out
intents' examples score as questions the bot has no answer for (honestly:
that model never saw them), the single left-out examples score as unseen
phrasings of known intents. The bot answers above a point a quarter of the
way from the typical unanswerable score to the typical answerable one, asks
back ("Bedoelde je…?") down to the typical unanswerable score, and hands off
below. (A quarter, not half: real member questions score higher than a
bot's own held-out phrasings, which a manager writes to be different.)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from botbuilder.content.languages import normalise
from botbuilder.content.model import Bot
from botbuilder.matching.classifier import SoftmaxRegression
from botbuilder.matching.encoder import Encoder
from botbuilder.matching.index_store import IndexStore

__all__ = ["ANSWER", "CLARIFY", "HANDOFF", "Candidate", "Match", "Matcher", "Thresholds"]

ANSWER = "answer"
CLARIFY = "clarify"
HANDOFF = "handoff"

MAX_OPTIONS = 3
_FOLDS = 4
_FALLBACK = (0.5, 0.2)
# Inverse regularisation of the classifier. 10 beats 50 on every benchmark set,
# both for the top intent and for telling unanswerable questions apart.
_C = 25.0
# Where the answer threshold sits between the typical unanswerable (0) and
# the typical answerable (1) held-out score.
_ANSWER_POSITION = 0.25
# In the clarify band, an intent this many times as likely as the runner-up is
# answered: with dozens of intents the probabilities stay low even when one
# intent clearly wins, and asking "did you mean X?" with one real option helps nobody.
_DOMINANCE = 3.0
# A question split between two intents that together hold this much of the
# probability ("lidmaatschap?": the fee or cancelling?) is asked back even
# below the clarify threshold: it is ambiguous, not off-topic.
_TWO_WAY = 0.9
# From this many examples, a rebuild with a previous index is provisional at
# first (see Matcher): a fresh fit plus four calibration fits take seconds on
# a large bot, and one edited intent moves the thresholds very little. Small
# bots are built fresh at once.
_PROVISIONAL_FROM = 400
# Training stops when the gradient has shrunk this much (see classifier.py).
# A provisional, warm-started index only serves until `finish()` replaces it.
_TOL = 1e-2
_WARM_TOL = 3e-2
_CALIBRATION_TOL = 3e-2
# Threads for the fits of a build the caller waits for (a background rebuild,
# next to a serving bot, keeps to one).
_FOREGROUND_WORKERS = min(2, os.cpu_count() or 1)
# Bump when the index layout or training changes: old saved indexes then miss.
_INDEX_FORMAT = 1


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
    train_seconds: float = 0.0  # the fit, and the calibration when built at once
    finish_seconds: float = 0.0  # a provisional index's background build
    build_seconds: float = 0.0
    loaded: bool = False  # from the index store, not trained


def _ngrams_of() -> Callable[[str], tuple[str, ...]]:
    """Character 2-4-grams of the normalised text, within word boundaries."""
    analyse = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), preprocessor=normalise
    ).build_analyzer()
    return lambda text: tuple(analyse(text))


# Analysing text is the slow part of building n-gram features; a bot that
# changes one intent re-analyses only that intent's questions. Member
# questions pass through too (and are evicted first): the size bounds the
# memory at a few tens of MB while holding the examples of any real bot.
_ngrams = lru_cache(maxsize=8192)(_ngrams_of())


def _vectorizer() -> TfidfVectorizer:
    """TF-IDF over the cached n-grams: the same for a fit and a restored index."""
    return TfidfVectorizer(analyzer=_ngrams, sublinear_tf=True, dtype=np.float32)


class _Model:
    """Character n-gram TF-IDF fitted on the training texts plus the classifier over both views."""

    def __init__(
        self,
        embeddings: np.ndarray,
        texts: Sequence[str],
        labels: np.ndarray,
        intent_ids: Sequence[str],
        warm: _Model | None = None,
        tol: float | None = None,
    ) -> None:
        self.classes = np.unique(labels)  # indices into intent_ids
        self.names = [intent_ids[c] for c in self.classes]
        self.tfidf = _vectorizer()
        ngrams = self.tfidf.fit_transform(texts)
        self.single = len(self.classes) < 2
        self.iterations = 0
        if not self.single:
            init = warm.weights_for(self, embeddings.shape[1]) if warm else None
            # One BLAS thread: these matrices are small, and on a busy 2-core
            # machine (a server answering while it re-indexes) more threads only
            # spin against each other: measured 3-5x slower.
            with threadpool_limits(1):
                self.lr = SoftmaxRegression(C=_C, tol=tol or (_WARM_TOL if init else _TOL)).fit(
                    embeddings,
                    ngrams,
                    np.searchsorted(self.classes, labels),
                    len(self.classes),
                    init=init,
                )
            self.iterations = self.lr.iterations

    def weights_for(
        self, new: _Model, dims: int
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
            out[:, self.classes] = self.lr.proba(embeddings, self.tfidf.transform(texts))
        return out


class Matcher:
    """An index over one bot's example questions; safe to share between threads."""

    def __init__(
        self,
        bot: Bot,
        encoder: Encoder,
        query_encoder: Encoder | None = None,
        *,
        previous: Matcher | None = None,
        store: IndexStore | None = None,
    ) -> None:
        """Build the index (or load it from `store`).

        `previous`: the running matcher of an earlier version of this bot. A
        large bot then gets a provisional index in a fraction of the time:
        trained from the previous weights with a looser tolerance, keeping
        the previous thresholds. `provisional` is then true, and the caller
        runs `finish()`, typically in the background, which makes the index
        exactly what a fresh build gives.
        """
        started = time.perf_counter()
        self.bot = bot
        self.encoder = encoder
        self.store = store
        # Member questions are rarely repeated: encode them without the disk cache.
        self.query_encoder: Encoder = query_encoder or getattr(encoder, "encoder", None) or encoder
        examples: list[tuple[str, str]] = []  # (intent id, text)
        for intent in sorted(bot.matchable(), key=lambda i: (i.id, i.language)):
            examples.extend((intent.id, q) for q in intent.questions)
        self.intent_ids: list[str] = sorted({i for i, _ in examples})
        position = {intent_id: n for n, intent_id in enumerate(self.intent_ids)}
        self._labels = np.array([position[i] for i, _ in examples], dtype=np.int64)
        self._texts = [t for _, t in examples]
        self._key = _index_key(encoder.name, examples)
        self.provisional = False
        self.stats = IndexStats(examples=len(self._texts), intents=len(self.intent_ids))
        self._embeddings: np.ndarray | None = None

        saved = store.load(self._key) if store else None
        restored = _restore(saved, self.intent_ids) if saved else None
        if restored:
            self._model, calibrated = restored
            self.stats.loaded = True
        else:
            t0 = time.perf_counter()
            self._embeddings = encoder.encode(self._texts)
            t1 = time.perf_counter()
            self.stats.encode_seconds = t1 - t0
            if (
                previous is not None
                and previous.encoder.name == encoder.name
                and previous._calibrated.calibrated
                and len(self._texts) >= _PROVISIONAL_FROM
            ):
                self._model = self._train(warm=previous._model)
                calibrated = previous._calibrated
                self.provisional = True
                self.stats.train_seconds = time.perf_counter() - t1
            else:
                self._model, calibrated = self._fit_and_calibrate(_FOREGROUND_WORKERS)
                self.stats.train_seconds = time.perf_counter() - t1
                self._save(calibrated)
        self._set_thresholds(calibrated)
        self.stats.build_seconds = time.perf_counter() - started

    def _set_thresholds(self, calibrated: Thresholds) -> None:
        """Calibrated thresholds, overridden by the ones bot.yml sets."""
        self._calibrated = calibrated
        configured = self.bot.settings.matcher
        answer = configured.answer_threshold
        clarify = configured.clarify_threshold
        # One assignment: a request reading self.thresholds sees old or new, never a mix.
        self.thresholds = Thresholds(
            answer=calibrated.answer if answer is None else answer,
            clarify=min(
                calibrated.clarify if clarify is None else clarify,
                calibrated.answer if answer is None else answer,
            ),
            calibrated=calibrated.calibrated and (answer is None or clarify is None),
        )

    def _train(self, warm: _Model | None = None) -> _Model:
        assert self._embeddings is not None
        return _Model(self._embeddings, self._texts, self._labels, self.intent_ids, warm=warm)

    def _fit_and_calibrate(self, workers: int) -> tuple[_Model, Thresholds]:
        """A fresh fit and its calibration. They are independent: a build the
        caller waits for runs them on both cores (NumPy and SciPy release the
        GIL). BLAS stays at one thread: see _Model."""
        with threadpool_limits(1), ThreadPoolExecutor(max_workers=workers) as pool:
            model = pool.submit(self._train)
            calibrated = self._calibrate(pool)
            return model.result(), calibrated

    def finish(self) -> None:
        """Replace a provisional index with a fresh build's model and thresholds, and save it."""
        if not self.provisional:
            return
        started = time.perf_counter()
        model, calibrated = self._fit_and_calibrate(workers=1)  # next to a serving bot
        self.stats.finish_seconds = time.perf_counter() - started
        self._model = model
        self._set_thresholds(calibrated)
        self._save(calibrated)
        self.provisional = False  # last: whoever waits for this finds the index saved too

    def _save(self, calibrated: Thresholds) -> None:
        if self.store is not None:
            self.store.save(self._key, _snapshot(self._model, calibrated))

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
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if best.score >= t.answer or (
            best.score >= t.clarify and best.score >= _DOMINANCE * runner_up
        ):
            return Match(ANSWER, best.intent, best.score, ranked)
        if best.score >= t.clarify or (
            best.score + runner_up >= _TWO_WAY and runner_up >= best.score / 2
        ):
            # Offer the plausible ones: those carrying real probability mass.
            floor = max(t.clarify / 2, best.score / 4)
            options = tuple(c.intent for c in ranked[:MAX_OPTIONS] if c.score >= floor)
            return Match(CLARIFY, best.intent, best.score, ranked, options)
        return Match(HANDOFF, best.intent, best.score, ranked)

    # -- calibration ---------------------------------------------------------

    def _calibrate(self, pool: ThreadPoolExecutor) -> Thresholds:
        """Thresholds from held-out examples and held-out intents: see the module docstring."""
        assert self._embeddings is not None  # a loaded index comes calibrated
        n_intents = len(self.intent_ids)
        labels = self._labels
        if n_intents < 3 or len(labels) < 2 * n_intents:
            return Thresholds(*_FALLBACK, calibrated=False)
        # A fixed shuffle: the same bot always gets the same thresholds.
        rng = np.random.default_rng(0)
        group = rng.permutation(n_intents) % _FOLDS  # the fold an intent is left out in
        turn = np.full(len(labels), -1)  # the fold an example is held out in
        for label in range(n_intents):
            members = np.flatnonzero(labels == label)
            if len(members) >= 2:  # never hold out an intent's only example
                turn[rng.permutation(members)] = (np.arange(len(members)) + label) % len(members)
        embeddings = self._embeddings

        def fold(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
            unknown = group[labels] == k
            held = ~unknown & (turn == k)
            train = ~unknown & ~held
            if not unknown.any() or not held.any() or len(np.unique(labels[train])) < 2:
                return None
            model = _Model(
                embeddings[train],
                _pick(self._texts, train),
                labels[train],
                self.intent_ids,
                tol=_CALIBRATION_TOL,
            )
            in_scope = model.proba(embeddings[held], _pick(self._texts, held), n_intents)
            unanswerable = model.proba(embeddings[unknown], _pick(self._texts, unknown), n_intents)
            return in_scope, labels[held], unanswerable

        results = [r for r in pool.map(fold, range(_FOLDS)) if r is not None]
        in_probs = [r[0] for r in results]
        in_labels = [r[1] for r in results]
        oos_probs = [r[2] for r in results]
        if not in_probs:
            return Thresholds(*_FALLBACK, calibrated=False)
        return _best_thresholds(
            np.vstack(in_probs), np.concatenate(in_labels), np.vstack(oos_probs)
        )


def _pick(texts: list[str], mask: np.ndarray) -> list[str]:
    return [t for t, keep in zip(texts, mask, strict=True) if keep]


def _best_thresholds(
    in_probs: np.ndarray, in_labels: np.ndarray, oos_probs: np.ndarray
) -> Thresholds:
    """Answer above a point between a typical unanswerable and a typical
    answerable question's score; below the typical unanswerable score, hand
    off; in between, ask."""
    del in_labels  # kept in the signature: the rules to come may weigh right and wrong
    in_typical = float(np.median(in_probs.max(axis=1)))
    oos_typical = float(np.median(oos_probs.max(axis=1)))
    answer = oos_typical + _ANSWER_POSITION * max(in_typical - oos_typical, 0.0)
    return Thresholds(answer=round(answer, 4), clarify=round(min(oos_typical, answer), 4))


def _index_key(model: str, examples: list[tuple[str, str]]) -> str:
    """Digest of everything a fitted index depends on."""
    payload = json.dumps([_INDEX_FORMAT, model, _C, examples], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _snapshot(model: _Model, calibrated: Thresholds) -> dict[str, np.ndarray]:
    """A fitted model and its calibration as plain arrays, for the index store."""
    arrays = {
        "classes": model.classes,
        "names": np.array(model.names, dtype=str),
        "vocabulary": np.array(sorted(model.tfidf.vocabulary_, key=model.tfidf.vocabulary_.get)),
        "idf": model.tfidf.idf_,
        "thresholds": np.array([calibrated.answer, calibrated.clarify, calibrated.calibrated]),
    }
    if not model.single:
        arrays.update(dense=model.lr.dense, sparse=model.lr.sparse, bias=model.lr.bias)
    return arrays


def _restore(
    arrays: dict[str, np.ndarray], intent_ids: list[str]
) -> tuple[_Model, Thresholds] | None:
    """The model and calibration saved by `_snapshot`, or None if they don't fit this bot."""
    needed = {"classes", "names", "vocabulary", "idf", "thresholds"}
    if len(arrays.get("names", ())) >= 2:
        needed |= {"dense", "sparse", "bias"}
    if not needed <= set(arrays):
        return None
    names = [str(n) for n in arrays["names"]]
    if [intent_ids[c] for c in arrays["classes"] if c < len(intent_ids)] != names:
        return None
    model = _Model.__new__(_Model)
    model.classes = arrays["classes"].astype(np.int64)
    model.names = names
    model.single = len(names) < 2
    model.iterations = 0
    model.tfidf = _vectorizer()
    model.tfidf.vocabulary_ = {str(g): n for n, g in enumerate(arrays["vocabulary"])}
    model.tfidf.idf_ = arrays["idf"]
    if not model.single:
        model.lr = SoftmaxRegression(C=_C)
        model.lr.dense, model.lr.sparse, model.lr.bias = (
            arrays["dense"],
            arrays["sparse"],
            arrays["bias"],
        )
    answer, clarify, calibrated = (float(x) for x in arrays["thresholds"])
    return model, Thresholds(answer, clarify, bool(calibrated))
