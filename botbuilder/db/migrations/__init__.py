"""Alembic migrations of botbuilder's database, run on start by `botbuilder.db.engine.Database`.

Add a migration with a new file in `versions/` (revision, down_revision,
upgrade()); never edit one that has shipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "upgrade"]

_LOCK_KEY = 7_262_001  # any constant: serialises migrations across processes on PostgreSQL


def alembic_config() -> Config:
    """Alembic's configuration for these migrations (a test reads the head from it)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe when several processes start at once.

    A schema already at the newest migration is left alone without importing
    Alembic (half a second of a server's start-up)."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    for attempt in range(3):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                elif connection.dialect.name == "sqlite":
                    # Python's sqlite3 runs CREATE TABLE outside any transaction, so a second
                    # process would see half a schema; this takes the write lock first (the
                    # others wait for it, busy_timeout) and makes the whole upgrade one commit.
                    connection.exec_driver_sql("BEGIN EXCLUSIVE")
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            return
        except Exception:
            # On SQLite another process may have created the tables between our
            # read of the version and our write: look again before giving up.
            if attempt == 2:
                raise


def _head() -> str | None:
    """The newest revision in versions/: the one no other revision follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (Path(__file__).parent / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for name, found in re.findall(r'^(revision|down_revision)\s*=\s*"([^"]+)"', source, re.M):
            (revisions if name == "revision" else followed).add(found)
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the database says it is at the newest revision (False when unsure)."""
    head = _head()
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no table yet: a new database
        return False
    return head is not None and [r[0] for r in rows] == [head]
