"""The connection to botbuilder's database: its URL, engine, sessions and migrations.

SQLAlchemy keeps the same code on SQLite (the default, a file in the instance
folder) and PostgreSQL (`postgresql://…`, shared by several server processes).
The schema is created and upgraded by Alembic migrations on start. Every room
with tables (conversations, accounts, editing history) gets its sessions from
one `Database`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from botbuilder.db.migrations import upgrade
from botbuilder.errors import ConfigError

__all__ = ["Database", "database_url"]


def database_url(url: str | None, instance_path: str | Path) -> str:
    """The URL to use: the given one, else SQLite in the instance folder."""
    if url:
        if url.startswith("postgres://"):  # the old Heroku-style scheme
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    path = Path(instance_path)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(path / 'botbuilder.sqlite').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets server processes read while one writes; busy_timeout makes a
    # writer wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The database of one botbuilder installation: an engine and its sessions."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        except Exception as exc:  # bad URL or missing driver
            raise ConfigError(f"cannot use database URL '{_redact(url)}': {exc}") from exc
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        try:
            upgrade(self.engine)
        except Exception as exc:
            raise ConfigError(f"cannot prepare database '{_redact(self.url)}': {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return self._sessions()


def _redact(url: str) -> str:
    """A database URL without its password, for error messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url
