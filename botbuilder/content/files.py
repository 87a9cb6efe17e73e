"""How botbuilder writes files: whole or not at all, one writer at a time, one YAML style.

Every file the project writes (flow files from the editor and from imports,
exports, spreadsheets) goes through `atomic_write`, so a crash leaves the old
or the new version, never half of one. `exclusive` is the one lock around
saving flow files: a `threading.Lock` for the threads of this process and,
given a lock file, `filelock` for other processes (the server's threads and a
second server or a command on the same bot), on Linux, macOS and Windows.

`round_trip_yaml` is the one ruamel set-up for writing YAML: the editor's round
trip (which keeps comments and quoting) and the exports dump with it, so the
files look alike whoever wrote them.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock
from ruamel.yaml import YAML

__all__ = ["atomic_write", "dump_yaml", "exclusive", "round_trip_yaml"]

# One save at a time in this process, whichever editor object does it.
_THREADS = threading.Lock()


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write via a temp file in the same folder and a rename: never a half-written file.

    The temp name starts with a dot, so the loader never mistakes it for a flow
    file; a file that existed keeps its permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        if isinstance(content, bytes):
            with open(tmp, "wb") as fh:
                _write_synced(fh, content)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                _write_synced(fh, content)
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_synced(fh: Any, content: str | bytes) -> None:
    fh.write(content)
    fh.flush()
    os.fsync(fh.fileno())


@contextlib.contextmanager
def exclusive(lock_path: Path | None) -> Iterator[None]:
    """Hold the writers' lock: this process's threads, and other processes via `lock_path`."""
    with _THREADS:
        if lock_path is None:
            yield
            return
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock_path):
            yield


def round_trip_yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    """ruamel in round-trip mode as botbuilder writes YAML: quotes kept, lines never re-wrapped."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line someone wrote
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def dump_yaml(data: Any, yaml: YAML | None = None) -> str:
    """`data` as YAML text, with `yaml`'s indentation (default: `round_trip_yaml()`)."""
    buffer = io.StringIO()
    (yaml or round_trip_yaml()).dump(data, buffer)
    return buffer.getvalue()
