"""Route a member's question to an intent: scores, then one decision.

A logistic regression trained per bot on two views of every example
question (`features`) gives every intent a probability; on the benchmarks
this beats nearest-example and centroid matching on both picking the right
intent and telling unanswerable questions apart. Thresholds come from the
bot's own examples (`calibration`), and one rule turns a question's scores
into answer, ask back or hand off (`decision`).

A `Matcher` is one built index: it encodes and fits (or loads a saved fit
from the index store), keeps the thresholds, and scores questions. A large
bot edited by a manager gets a provisional index first, warm-started from
the running one, and `finish()` later makes it exactly a fresh build. A
server's first start of a large bot (`quick`) likewise answers first from an
index over a few phrasings of every intent, and `finish()` encodes the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from botbuilder.content.model import Bot
from botbuilder.matching.batching import Batcher
from botbuilder.matching.calibration import calibrate
from botbuilder.matching.decision import Match, Thresholds, decide
from botbuilder.matching.dutch import for_languages
from botbuilder.matching.encoder import Encoder, identity
from botbuilder.matching.features import INVERSE_REGULARISATION, IntentModel, one_blas_thread
from botbuilder.matching.index_store import IndexStore, restore, snapshot

__all__ = ["IndexStats", "Matcher"]

# From this many examples, a rebuild with a previous index is provisional at
# first (see Matcher): a fresh fit plus four calibration fits take seconds on
# a large bot, and one edited intent moves the thresholds very little. Small
# bots are built fresh at once.
_PROVISIONAL_FROM = 400
# A quick first start (see Matcher): from this many examples without a cached
# vector, the first index is trained and calibrated on the first few
# phrasings of every intent (encoding is most of a first start: ~15 ms of CPU
# an example with e5), and `finish()` encodes the rest in small chunks, so
# member questions get the encoder in between.
_QUICK_FROM = 400
# After a quick index (still finishing), an edit is built quick again from
# this many examples lacking a vector: the previous weights are a subset's.
_QUICK_AFTER_QUICK = 32
# Phrasings of every intent, in each language, a quick index is built on.
# Encoding costs in proportion to the text (tokens): the example bot's first two
# phrasings are 1,669 tokens, three 2,857. Calibrated cautiously (see
# calibration.PROVISIONAL_WRONG), two answer no more wrongly than the full index.
_QUICK_PHRASINGS = 2
_FINISH_CHUNK = 16
# Threads for the fits of a build the caller waits for (a background rebuild,
# next to a serving bot, keeps to one).
_FOREGROUND_WORKERS = min(2, os.cpu_count() or 1)
# Bump when the index layout, training or calibration changes: old saved indexes then miss.
_INDEX_FORMAT = 4


@dataclass(frozen=True)
class _Serving:
    """What answers questions, swapped in one assignment: the model, the mean
    its vectors were centred on, and the thresholds calibrated with it (as
    calibrated, and with bot.yml's overrides: what decisions use)."""

    model: IntentModel
    mean: np.ndarray | None
    calibrated: Thresholds
    thresholds: Thresholds


@dataclass
class IndexStats:
    examples: int = 0
    intents: int = 0
    encode_seconds: float = 0.0
    train_seconds: float = 0.0  # the fit, and the calibration when built at once
    finish_seconds: float = 0.0  # a provisional index's background build
    build_seconds: float = 0.0
    loaded: bool = False  # from the index store, not trained


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
        quick: bool = False,
    ) -> None:
        """Build the index (or load it from `store`).

        `previous`: the running matcher of an earlier version of this bot. A
        large bot then gets a provisional index in a fraction of the time:
        trained from the previous weights with a looser tolerance, keeping
        the previous thresholds. `provisional` is then true, and the caller
        runs `finish()`, typically in the background, which makes the index
        exactly what a fresh build gives. `quick`: see `_quick_subset`.
        """
        started = time.perf_counter()
        self.bot = bot
        self.encoder = encoder
        self.store = store
        # Member questions are rarely repeated: encode them without the disk cache.
        self.query_encoder: Encoder = query_encoder or getattr(encoder, "encoder", None) or encoder
        # Informal Dutch written out (see `dutch`), examples and questions alike.
        self._rewrite = for_languages(bot.languages)
        examples: list[tuple[str, str]] = []  # (intent id, text)
        rank: list[int] = []  # each example's place among its intent's phrasings in one language
        for intent in sorted(bot.matchable(), key=lambda i: (i.id, i.language)):
            examples.extend((intent.id, self._rewrite(q)) for q in intent.questions)
            rank.extend(range(len(intent.questions)))
        self._rank = np.array(rank, dtype=np.int64)
        self.intent_ids: list[str] = sorted({i for i, _ in examples})
        position = {intent_id: n for n, intent_id in enumerate(self.intent_ids)}
        self._labels = np.array([position[i] for i, _ in examples], dtype=np.int64)
        self._texts = [t for _, t in examples]
        self._key = _index_key(encoder, examples)
        # The examples' mean vector, when centred, of the vectors being trained on;
        # `_serving` holds the model that answers with its mean and thresholds.
        self._mean: np.ndarray | None = None
        self._serving: _Serving
        self.provisional = False
        self.stats = IndexStats(examples=len(self._texts), intents=len(self.intent_ids))
        # Set by the runtime: concurrent questions share one encode, repeats are cached.
        self.batcher: Batcher | None = None
        self._embeddings: np.ndarray | None = None
        self._quick = quick
        self._subset: np.ndarray | None = None  # examples a quick index was built on

        saved = store.load(self._key) if store else None
        restored = restore(saved, self.intent_ids, encoder) if saved else None
        if restored:
            model, calibrated, self._mean = restored
            self._serve(model, calibrated)
            self.stats.loaded = True
        else:
            self._build(previous)
        self.stats.build_seconds = time.perf_counter() - started

    def _build(self, previous: Matcher | None) -> None:
        """Encode the examples and train: provisionally from `previous` when
        it may serve, or on a subset for a quick first start (see `__init__`),
        else a fresh fit, calibrated and saved."""
        t0 = time.perf_counter()
        after_quick = previous is not None and previous._subset is not None
        warm = (
            previous is not None
            and not after_quick
            and identity(previous.encoder) == identity(self.encoder)
            and previous._calibrated.calibrated
            and len(self._texts) >= _PROVISIONAL_FROM
        )
        if not warm and self._quick:
            self._subset = self._quick_subset(_QUICK_AFTER_QUICK if after_quick else _QUICK_FROM)
        self._encode_examples(self._subset)
        t1 = time.perf_counter()
        self.stats.encode_seconds = t1 - t0
        if warm:
            assert previous is not None
            model, calibrated = self._train(warm=previous._model), previous._calibrated
        else:
            model, calibrated = self._fit_and_calibrate(_FOREGROUND_WORKERS)
        self._serve(model, calibrated)
        self.provisional = warm or self._subset is not None
        self.stats.train_seconds = time.perf_counter() - t1
        if not self.provisional:
            self._save()

    def _quick_subset(self, floor: int) -> np.ndarray | None:
        """The examples a quick first index is built on, or None when a full
        build is quick enough (fewer than `floor` examples lack a cached vector).

        Without a saved index or a usable `previous`, and with many examples
        never encoded, the provisional index is a fresh fit and calibration
        over the first `_QUICK_PHRASINGS` phrasings of each intent (plus
        every example already in the embedding cache); `finish()` encodes
        the others and builds the full index."""
        missing = getattr(self.encoder, "missing", None)
        uncached = missing(self._texts) if missing else list(range(len(self._texts)))
        if len(uncached) < floor:
            return None
        keep = np.ones(len(self._texts), dtype=bool)
        keep[uncached] = False  # cached examples cost nothing: they stay
        keep[self._rank < _QUICK_PHRASINGS] = True  # in every language of an intent
        return np.flatnonzero(keep)

    def _encode_examples(self, subset: np.ndarray | None, chunk: int | None = None) -> None:
        """Vectors of the examples (only `subset`'s, if given), centred on their own mean."""
        texts = self._texts if subset is None else [self._texts[i] for i in subset]
        step = chunk or max(len(texts), 1)
        parts = [self.encoder.encode(texts[i : i + step]) for i in range(0, len(texts), step)]
        raw = np.vstack(parts) if parts else self.encoder.encode([])
        mean = raw.mean(axis=0) if self.encoder.centred and len(raw) else None
        self._embeddings, self._mean = self._view(raw, mean), mean

    @property
    def _model(self) -> IntentModel:
        return self._serving.model

    @property
    def _calibrated(self) -> Thresholds:
        return self._serving.calibrated

    @property
    def thresholds(self) -> Thresholds:
        """The thresholds decisions use: calibrated, overridden by the ones bot.yml sets."""
        return self._serving.thresholds

    def _serve(self, model: IntentModel, calibrated: Thresholds) -> None:
        """Answer from `model` (its vectors centred on `self._mean`) with `calibrated`
        and bot.yml's overrides, in one assignment: a question scored meanwhile sees
        the old model, mean and thresholds or the new ones, never a mix."""
        self._serving = _Serving(model, self._mean, calibrated, self._overridden(calibrated))

    def _overridden(self, calibrated: Thresholds) -> Thresholds:
        """Calibrated thresholds, overridden by the ones bot.yml sets."""
        configured = self.bot.settings.matcher
        answer = configured.answer_threshold
        clarify = configured.clarify_threshold
        return Thresholds(
            answer=calibrated.answer if answer is None else answer,
            clarify=min(
                calibrated.clarify if clarify is None else clarify,
                calibrated.answer if answer is None else answer,
            ),
            calibrated=calibrated.calibrated and (answer is None or clarify is None),
            # The margin belongs to the calibrated answer threshold.
            margin=calibrated.margin if answer is None else 0.0,
            fixed=answer is not None,
        )

    def _training_set(self) -> tuple[list[str], np.ndarray]:
        """The texts and labels the embeddings are of: all, or a quick index's subset."""
        if self._subset is None:
            return self._texts, self._labels
        return [self._texts[i] for i in self._subset], self._labels[self._subset]

    def _train(self, warm: IntentModel | None = None) -> IntentModel:
        assert self._embeddings is not None
        texts, labels = self._training_set()
        return IntentModel(
            self._embeddings,
            texts,
            labels,
            self.intent_ids,
            warm=warm,
            ngram_weight=self.encoder.ngram_weight,
        )

    def _fit_and_calibrate(self, workers: int) -> tuple[IntentModel, Thresholds]:
        """A fresh fit and its calibration. They are independent: a build the
        caller waits for runs them on both cores (NumPy and SciPy release the
        GIL). BLAS stays at one thread: see IntentModel. A quick index's
        thresholds are cautious (see `PROVISIONAL_WRONG`)."""
        assert self._embeddings is not None  # a loaded index comes calibrated
        with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
            model = pool.submit(self._train)
            texts, labels = self._training_set()
            calibrated = calibrate(
                self._embeddings,
                texts,
                labels,
                self.intent_ids,
                pool,
                ngram_weight=self.encoder.ngram_weight,
                cautious=self._subset is not None,
            )
            return model.result(), calibrated

    def finish(self) -> None:
        """Replace a provisional index with a fresh build's model and thresholds, and save it."""
        if not self.provisional:
            return
        started = time.perf_counter()
        if self._subset is not None:  # a quick first index: encode the other examples first
            self._encode_examples(None, chunk=_FINISH_CHUNK)
            self._subset = None
        model, calibrated = self._fit_and_calibrate(workers=1)  # next to a serving bot
        self.stats.finish_seconds = time.perf_counter() - started
        self._serve(model, calibrated)  # one assignment: model, mean and thresholds
        self._save()
        self.provisional = False  # last: whoever waits for this finds the index saved too

    def _save(self) -> None:
        if self.store is not None:
            serving = self._serving
            self.store.save(self._key, snapshot(serving.model, serving.calibrated, serving.mean))

    # -- scoring -------------------------------------------------------------

    @property
    def mean(self) -> np.ndarray | None:
        """The examples' mean vector questions are centred on (None: not centred);
        the gap finder's grouping centres on it too."""
        return self._serving.mean

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Intent probabilities for several questions at once, in `intent_ids` order."""
        return self._scores(self._serving, texts)

    def _scores(self, serving: _Serving, texts: Sequence[str]) -> np.ndarray:
        texts = [self._rewrite(t) for t in texts]
        embeddings = self._view(self.query_encoder.encode(texts), serving.mean)
        return serving.model.proba(embeddings, texts, len(self.intent_ids))

    def _view(self, vectors: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
        """Encoder vectors as the classifier sees them: centred on the
        examples' mean and renormalised if the encoder asks for it, then
        scaled by its block weight."""
        if mean is not None:
            vectors = vectors - mean
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        weight = self.encoder.dense_weight
        return (vectors if weight == 1.0 else vectors * weight).astype(np.float32)

    def match(self, text: str) -> Match:
        if self.batcher is not None:
            # Scored in a batch by whichever index serves then; decided with the
            # thresholds serving now: different only for a question that spans the
            # moment `finish()` swaps them.
            return self.decide(self.batcher.score(self, text))
        serving = self._serving  # one index scores and decides
        return self.decide(self._scores(serving, [text])[0], serving.thresholds)

    def decide(self, scores: np.ndarray, thresholds: Thresholds | None = None) -> Match:
        """Turn one row of intent scores into answer, clarify or handoff (see `decision`)."""
        return decide(scores, self.intent_ids, thresholds or self.thresholds)


def _index_key(encoder: Encoder, examples: list[tuple[str, str]]) -> str:
    """Digest of everything a fitted index depends on."""
    payload = json.dumps(
        [
            _INDEX_FORMAT,
            identity(encoder),
            encoder.centred,
            encoder.dense_weight,
            encoder.ngram_weight,
            INVERSE_REGULARISATION,
            examples,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
