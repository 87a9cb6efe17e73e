"""Fitted matcher indexes kept on disk, keyed by everything they were built from.

A server that restarts, or a CLI run on flows that did not change, loads the
trained classifier and its calibrated thresholds in milliseconds instead of
training again. The key is a digest of the model name, the training settings
and every example question with its intent, so a changed bot never gets a
stale index. The file is a cache: deleting it costs one rebuild.

Arrays are stored with NumPy's own format (no pickle), in SQLite next to the
embedding cache; `snapshot` and `restore` turn a fitted model, its
calibration and its centring mean into those arrays and back.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

from botbuilder.matching.cache_db import cache_db
from botbuilder.matching.decision import Thresholds
from botbuilder.matching.encoder import Encoder
from botbuilder.matching.features import IntentModel

__all__ = ["IndexStore", "restore", "snapshot"]

_KEPT = 16  # indexes kept: the running bot, its recent versions, a few test bots


class IndexStore:
    """Named bundles of arrays in one SQLite table; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._lock, cache_db(self.path) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS matcher_indexes "
                "(key TEXT PRIMARY KEY, saved_at REAL NOT NULL, data BLOB NOT NULL)"
            )

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        with self._lock, cache_db(self.path) as db:
            row = db.execute("SELECT data FROM matcher_indexes WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            with np.load(io.BytesIO(row[0]), allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return None  # a damaged entry is a cache miss

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        with self._lock, cache_db(self.path) as db:
            db.execute(
                "INSERT OR REPLACE INTO matcher_indexes (key, saved_at, data) VALUES (?, ?, ?)",
                (key, time.time(), buffer.getvalue()),
            )
            db.execute(
                "DELETE FROM matcher_indexes WHERE key NOT IN "
                "(SELECT key FROM matcher_indexes ORDER BY saved_at DESC LIMIT ?)",
                (_KEPT,),
            )


def snapshot(
    model: IntentModel, calibrated: Thresholds, mean: np.ndarray | None
) -> dict[str, np.ndarray]:
    """A fitted model, its calibration and the centring mean as plain arrays, for the index store."""
    arrays = {
        "classes": model.classes,
        "names": np.array(model.names, dtype=str),
        "vocabulary": np.array(
            sorted(model.tfidf.vocabulary_, key=model.tfidf.vocabulary_.__getitem__)
        ),
        "idf": model.tfidf.idf_,
        "thresholds": np.array(
            [calibrated.answer, calibrated.clarify, calibrated.calibrated, calibrated.margin]
        ),
    }
    if mean is not None:
        arrays["mean"] = mean
    if not model.single:
        arrays.update(dense=model.lr.dense, sparse=model.lr.sparse, bias=model.lr.bias)
    return arrays


def restore(
    arrays: dict[str, np.ndarray], intent_ids: list[str], encoder: Encoder
) -> tuple[IntentModel, Thresholds, np.ndarray | None] | None:
    """The model, calibration and mean saved by `snapshot`, or None if they don't fit this bot."""
    needed = {"classes", "names", "vocabulary", "idf", "thresholds"}
    if encoder.centred:
        needed.add("mean")
    if len(arrays.get("names", ())) >= 2:
        needed |= {"dense", "sparse", "bias"}
    if not needed <= set(arrays):
        return None
    names = [str(n) for n in arrays["names"]]
    if [intent_ids[c] for c in arrays["classes"] if c < len(intent_ids)] != names:
        return None
    model = IntentModel.restored(
        arrays["classes"].astype(np.int64),
        names,
        {str(g): n for n, g in enumerate(arrays["vocabulary"])},
        arrays["idf"],
        (arrays["dense"], arrays["sparse"], arrays["bias"]) if len(names) >= 2 else None,
        ngram_weight=encoder.ngram_weight,
    )
    answer, clarify, calibrated, margin = (float(x) for x in arrays["thresholds"])
    return model, Thresholds(answer, clarify, bool(calibrated), margin), arrays.get("mean")
