"""Which existing intent a group of missed questions belongs to, if any.

A group has a home when, in the clustering's own view (embedding plus
character n-grams of the topic words, `clustering`), its questions sit close
to one intent's example questions: for each question its most similar
example of that intent, averaged over the group, reaches `HOME_SIMILARITY`.
Then the suggestion is "add these phrasings to that intent"; else "new
intent". The intent whose answer the members rejected for these questions is
never the home: the next closest one is, if it is close enough.

Measured on the example bot (five informal paraphrases per group):
paraphrases of wachtwoord_vergeten, opzeggen and contributie_bedrag reach
0.72, 0.69 and 0.55 with their own intent (the runner-up stays under 0.53);
our four unknown topics (GPX downloads, lost property, rides cancelled for
weather, bike hire) reach at most 0.40 with any intent. The mean over all
(question, example) pairs separated them worse (0.18-0.43 against up to
0.23): an intent with varied examples is far from a question on average
even when one example says the same thing.

Cost: the examples' n-grams are compared first, and only the intents a group
could reach `HOME_SIMILARITY` with (if their sentence embeddings were
identical, cosine 1) have their examples' embeddings read. The result is the
same as comparing with every intent, but a bot's hundreds of examples are not
encoded while the inbox page waits (13 s of its first look on the HWU64
bot): a group of an unknown topic usually shares too few n-grams with any
intent to need an embedding at all.

The examples' embeddings are the matcher's own: each example as the matcher
encodes it (written out by `matching.dutch.for_languages`), through its
cached encoder, so they come from the embedding cache the matcher filled when
it built its index, and the page encodes none (it encoded the examples' topic
words before: 1.4 s of e5 on the first look at the HWU64 bot's inbox). The
questions stay their topic words. Measured with multilingual-e5-small on the
test topics (tests/test_gaps.py), best intent, examples as topic words ->
as the matcher encodes them: paraphrases of wachtwoord_vergeten 0.91 -> 0.88,
of opzeggen 0.88 -> 0.83, of contributie_bedrag 0.83 -> 0.81; the eight
unknown topics (Dutch and English) at most 0.61 -> 0.58. The margin around
the 0.75 cut stays (0.22 -> 0.23 between the lowest paraphrase and the
highest unknown topic).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from botbuilder.content.model import Bot
from botbuilder.insights.clustering import ngram_tfidf, topic_text, unit_rows
from botbuilder.matching.dutch import for_languages
from botbuilder.matching.encoder import Encoder, identity
from botbuilder.matching.ngrams import NgramTfidf

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix  # imported where a matrix is built: not at start-up

__all__ = ["HOME_SIMILARITY", "Homes", "homes_of"]

HOME_SIMILARITY = 0.47  # all-MiniLM-L6-v2's
# multilingual-e5-small: the four unknown topics reach up to 0.62 with some intent,
# paraphrases of wachtwoord_vergeten 0.91 with it.
_HOME_SIMILARITIES = {"e5": 0.75}


@dataclass(frozen=True)
class _Examples:
    """A language's example questions, sorted by intent: `starts` are where each of
    `intent_ids` begins among the rows."""

    intent_ids: tuple[str, ...]
    starts: np.ndarray
    texts: tuple[str, ...]  # topic texts
    encoded: tuple[str, ...]  # the same examples as the matcher encodes them
    ngrams: NgramTfidf
    ngram_rows: csr_matrix
    # Per intent (its index in `intent_ids`), its examples' unit embeddings, once encoded.
    dense: dict[int, np.ndarray] = field(default_factory=dict)


class Homes:
    """The example questions of one bot, per language, ready to compare groups with."""

    def __init__(self, bot: Bot, encoder: Encoder) -> None:
        self.bot = bot
        self.encoder = encoder
        model = identity(encoder).lower()
        self.similarity = next(
            (s for family, s in _HOME_SIMILARITIES.items() if family in model), HOME_SIMILARITY
        )
        self._examples: dict[str, _Examples | None] = {}
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # one look encodes an intent's examples
        # A group's home by its questions: after a few new questions only the
        # groups they joined are compared again (a large inbox has hundreds).
        self._homes: OrderedDict[tuple[Any, ...], tuple[str, float] | None] = OrderedDict()

    def _of(self, language: str) -> _Examples | None:
        with self._lock:
            if language not in self._examples:
                self._examples[language] = self._build(language)
            return self._examples[language]

    def _build(self, language: str) -> _Examples | None:
        rewrite = for_languages(self.bot.languages)  # as the matcher encodes its examples
        triples = sorted(
            (intent.id, topic_text(q), rewrite(q))
            for intent in self.bot.matchable()
            if intent.language == language
            for q in intent.questions
        )
        if not triples:
            return None
        texts = [t for _, t, _ in triples]
        ngrams = ngram_tfidf()
        ngram_rows = ngrams.fit_transform(texts).tocsr()
        ids = [i for i, _, _ in triples]
        starts = [n for n, i in enumerate(ids) if n == 0 or ids[n - 1] != i]
        return _Examples(
            intent_ids=tuple(ids[n] for n in starts),
            starts=np.asarray(starts, dtype=np.intp),
            texts=tuple(texts),
            encoded=tuple(e for _, _, e in triples),
            ngrams=ngrams,
            ngram_rows=ngram_rows,
        )

    def _dense(self, examples: _Examples, intents: Sequence[int]) -> list[np.ndarray]:
        """The unit embeddings of these intents' examples (as the matcher encodes them:
        from its embedding cache), read once."""
        with self._encode_lock:
            todo = [i for i in intents if i not in examples.dense]
            if todo:
                bounds = [(int(examples.starts[i]), self._end(examples, i)) for i in todo]
                texts = [t for a, b in bounds for t in examples.encoded[a:b]]
                encoded = unit_rows(self.encoder.encode(texts))
                at = 0
                for i, (a, b) in zip(todo, bounds, strict=True):
                    examples.dense[i] = encoded[at : at + b - a]
                    at += b - a
            return [examples.dense[i] for i in intents]

    @staticmethod
    def _end(examples: _Examples, intent: int) -> int:
        last = intent + 1 == len(examples.starts)
        return len(examples.texts) if last else int(examples.starts[intent + 1])

    def closest(
        self,
        language: str,
        texts: Sequence[str],
        embeddings: np.ndarray,
        rejected: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[str, float] | None:
        """The intent these questions belong to and its mean similarity, or None.

        `embeddings`: the questions' vectors of their topic texts (as stored)."""
        key = (language, tuple(sorted(texts)), tuple(sorted(rejected)))
        with self._lock:
            if key in self._homes:
                self._homes.move_to_end(key)
                return self._homes[key]
        found = self._closest(language, texts, embeddings, rejected)
        with self._lock:
            self._homes[key] = found
            while len(self._homes) > _HOMES_KEPT:
                self._homes.popitem(last=False)
        return found

    def _closest(
        self,
        language: str,
        texts: Sequence[str],
        embeddings: np.ndarray,
        rejected: set[str] | frozenset[str],
    ) -> tuple[str, float] | None:
        examples = self._of(language)
        if examples is None or not len(texts):
            return None
        grams = examples.ngrams.transform([topic_text(t) for t in texts]).tocsr()
        gram_similarity = (grams @ examples.ngram_rows.T).toarray()
        # With a cosine of 1 for the embeddings (their most), which intents could
        # reach the home similarity? Only their examples need their embeddings.
        bound = 0.5 * (1.0 + np.maximum.reduceat(gram_similarity, examples.starts, axis=1))
        reachable = [
            i
            for i, score in enumerate(bound.mean(axis=0))
            if score + _ROUNDING >= self.similarity and examples.intent_ids[i] not in rejected
        ]
        if not reachable:
            return None
        questions = unit_rows(embeddings)
        ranked = []
        for i, dense in zip(reachable, self._dense(examples, reachable), strict=True):
            start, end = int(examples.starts[i]), self._end(examples, i)
            similarity = 0.5 * (questions @ dense.T + gram_similarity[:, start:end])
            # Per question its nearest example of the intent, then the mean.
            ranked.append((float(similarity.max(axis=1).mean()), examples.intent_ids[i]))
        ranked.sort(reverse=True)
        if ranked[0][0] >= self.similarity:
            return ranked[0][1], ranked[0][0]
        return None


_ROUNDING = 1e-4  # float32 cosines of unit vectors may pass 1 by a hair
_HOMES_KEPT = 5000  # groups whose home is remembered, per bot content and encoder

# One per bot content and encoder in a process: the server's finder, the CLI
# and tests on the same flows share the encoded examples.
_shared: dict[tuple[str, str], Homes] = {}
_shared_lock = threading.Lock()
_SHARED_KEPT = 4


def homes_of(bot: Bot, encoder: Encoder) -> Homes:
    """The `Homes` of this bot content and encoder, made once per process."""
    key = (bot.fingerprint, identity(encoder))
    with _shared_lock:
        if key not in _shared:
            while len(_shared) >= _SHARED_KEPT:
                _shared.pop(next(iter(_shared)))
            _shared[key] = Homes(bot, encoder)
        return _shared[key]
