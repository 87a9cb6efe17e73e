"""Alembic migrations of botbuilder's database, run on start by `botbuilder.db.engine.Database`.

Add a migration with a new file in `versions/` (revision, down_revision,
upgrade()); never edit one that has shipped.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

__all__ = ["alembic_config", "upgrade"]

_LOCK_KEY = 7_262_001  # any constant: serialises migrations across processes on PostgreSQL


def alembic_config() -> Config:
    """Alembic's configuration for these migrations (a test reads the head from it)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe when several processes start at once."""
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
