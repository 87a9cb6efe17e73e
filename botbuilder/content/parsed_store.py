"""Parsed flow files kept on disk, so a restarted server skips parsing them.

Round-trip parsing (which keeps the line numbers for messages) is pure
Python: a 150-intent file takes ~0.4 s, a fifth of a server's restart. What a
parse gives depends only on the text and the parser, so the result is kept
under a hash of both, in the instance folder (the server's own, 0700), and read
back in ~5 ms.

The files are pickles, read back by an unpickler that builds only ruamel's
YAML node classes and dates: a planted file can at worst be a cache miss, never
run code. A damaged or unreadable file is a miss too, and the file is parsed.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

import ruamel.yaml

__all__ = ["ParsedStore"]

_FORMAT = 1  # raise when what is stored changes
_KEPT = 64  # files kept: the bot's own, their recent versions, a few more bots
# What a parsed file may hold (seen in every flow of ../shared/bench and the
# example bot, plus sets, tags, anchors, dates and block scalars).
_RUAMEL = {
    "anchor",
    "comments",
    "compat",
    "error",
    "scalarbool",
    "scalarfloat",
    "scalarint",
    "scalarstring",
    "tag",
    "timestamp",
    "tokens",
}
_DATETIME = {"date", "datetime", "time", "timedelta", "timezone"}


class _NodesOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = (module.startswith("ruamel.yaml.") and module[12:] in _RUAMEL) or (
            module == "datetime" and name in _DATETIME
        )
        if not allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a parsed YAML file")
        return super().find_class(module, name)


class ParsedStore:
    """Parsed texts under `folder`, by a hash of the text, the parser and `variant`
    (whatever else decides the parse, e.g. its depth bound)."""

    def __init__(self, folder: Path, variant: str) -> None:
        self.folder = folder
        self.salt = f"{_FORMAT}\0{ruamel.yaml.__version__}\0{variant}\0".encode()

    def _path(self, text: str) -> Path:
        digest = hashlib.sha256(self.salt + text.encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / f"{digest}.pickle"

    def get(self, text: str) -> Any | None:
        path = self._path(text)
        try:
            data = path.read_bytes()
            parsed = _NodesOnly(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - missing, damaged or planted: parse the file
            return None
        with suppress(OSError):
            os.utime(path)  # recently used: kept when the folder is pruned
        return parsed

    def put(self, text: str, parsed: Any) -> None:
        """Keep `parsed`; best effort (a full disk or a read-only folder only costs time)."""
        try:
            data = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, self._path(text))  # readers see all of it or none
            except OSError:
                Path(temporary).unlink(missing_ok=True)
                raise
            self._prune()
        except (OSError, pickle.PicklingError, RecursionError):
            return

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.pickle"), key=_modified, reverse=True)
        for old in files[_KEPT:]:
            old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
