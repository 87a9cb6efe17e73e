"""Grouping the inbox's read questions again, per language, after a look took new ones in.

A small language is grouped whole (`grouping.grouped`); a large one that gained
a few questions keeps its groups and the new ones join them (`grouping.attach`),
compared through the vectors and n-grams kept between looks (`row_cache`), so
such a look reads only the new questions' vectors. The vectors are centred on
the matcher's mean first when the matcher centres them (`clustering.centre`). Questions not read
(encoded) yet wait outside the groups; questions the bot has as example
questions leave them (`phrasings`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from botbuilder.content.languages import normalise
from botbuilder.content.model import Bot
from botbuilder.db.engine import Database
from botbuilder.insights import inbox_store as inbox
from botbuilder.insights.clustering import centre, threshold_for
from botbuilder.insights.grouping import REGROUP_WHOLE_UP_TO, attach, grouped
from botbuilder.insights.row_cache import RowCache
from botbuilder.matching.encoder import identity
from botbuilder.matching.runtime import BotRuntime

__all__ = ["Regrouper", "phrasings"]


class Regrouper:
    """Regroups one database's inbox for the running bot; keeps its `RowCache`."""

    def __init__(
        self, database: Database, runtime: BotRuntime, clock: Callable[[], datetime]
    ) -> None:
        self.database = database
        self.runtime = runtime
        self.clock = clock
        self._lock = threading.Lock()
        self._row_cache = RowCache()
        self._row_cache_model = ""

    def forget(self) -> None:
        """Drop the kept vectors and n-grams (questions have left the inbox)."""
        with self._lock:
            self._row_cache, self._row_cache_model = RowCache(), ""

    def regroup(self) -> None:
        """Group again each language with questions read but not grouped yet.

        A small inbox is grouped whole each time. A large one that gained a
        few questions keeps its groups: the new questions join the group they
        are closest to on average (the rule average linkage cuts by), and the
        rest are grouped with the recent loose questions (`attach`)."""
        model = identity(self.runtime.current().matcher.query_encoder)
        with self.database.session() as s:
            pending = inbox.pending_languages(s, model)
        for language in sorted(pending):
            self._regroup_language(language, model)

    def _regroup_language(self, language: str, model: str) -> None:
        with self.database.session() as s:
            # Only the questions read: the unread wait outside the groups.
            every = inbox.load_rows(s, language=language, states=("new",), read_by=model)
        known = phrasings(self.runtime.current().bot)
        # A question the bot has as a phrasing is out of the groups, and no
        # longer waiting for one: else every look would regroup for it.
        groups: dict[int, tuple[str, float]] = {
            r.message_id: ("", 0.0) for r in every if normalise(r.text) in known
        }
        cache, read = self.row_cache(model)
        candidates = [r for r in every if r.message_id not in groups]
        vectors = cache.vectors([r.message_id for r in candidates], read)
        rows = [r for r in candidates if r.message_id in vectors]  # the unread wait
        fresh = sum(r.group_id is None for r in rows)
        # Centred on the matcher's mean (e5's narrow cone; see `clustering.centre`).
        mean = self.runtime.current().matcher.mean
        cut = threshold_for(model, centred=mean is not None)
        if len(rows) > REGROUP_WHOLE_UP_TO and fresh * 10 <= len(rows):
            ids, texts = [r.message_id for r in rows], [r.text for r in rows]
            raw, dense, ngrams = cache.views(ids, texts, read)
            if mean is not None:
                raw = dense = centre(raw, mean)
            groups.update(attach(rows, raw, dense, ngrams, language, self.clock(), cut))
        elif rows:
            stacked = np.vstack([vectors[r.message_id] for r in rows]).astype(np.float32)
            groups.update(grouped(rows, centre(stacked, mean), language, cut))
        with self.database.session() as s, s.begin():
            inbox.save_groups(s, groups)

    def row_cache(self, model: str) -> tuple[RowCache, Callable[[list[int]], Any]]:
        """The kept vectors and n-grams of `model`'s vectors, and how to read the rest."""
        with self._lock:
            if self._row_cache_model != model:
                self._row_cache, self._row_cache_model = RowCache(), model
            cache = self._row_cache

        def read(message_ids: list[int]) -> dict[int, np.ndarray]:
            with self.database.session() as s:
                return inbox.vectors_of(s, message_ids, model)

        return cache, read


_known: dict[str, frozenset[str]] = {}


def phrasings(bot: Bot) -> frozenset[str]:
    """The normalised example questions of every intent of `bot` (cached per content)."""
    if bot.fingerprint not in _known:
        if len(_known) > 8:
            _known.clear()
        _known[bot.fingerprint] = frozenset(
            normalise(q) for intent in bot.intents.values() for q in intent.questions
        )
    return _known[bot.fingerprint]
