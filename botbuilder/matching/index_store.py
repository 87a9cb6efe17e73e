"""Fitted matcher indexes kept on disk, keyed by everything they were built from.

A server that restarts, or a CLI run on flows that did not change, loads the
trained classifier and its calibrated thresholds in milliseconds instead of
training again. The key is a digest of the model name, the training settings
and every example question with its intent, so a changed bot never gets a
stale index. The file is a cache: deleting it costs one rebuild.

Arrays are stored with NumPy's own format (no pickle), in SQLite next to the
embedding cache.
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

__all__ = ["IndexStore"]

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
