"""One way to open the matcher's SQLite cache files (embeddings, saved indexes).

`with sqlite3.connect(...)` only commits or rolls back; the connection stays
open until the garbage collector finds it, which leaks file handles in a
long-running server and keeps the file busy for other processes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress

__all__ = ["cache_db"]


@contextmanager
def cache_db(path: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """A connection for one transaction: committed (or rolled back), then closed.

    A new file is made 0600, like the database beside it in the instance folder.
    """
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        yield db
