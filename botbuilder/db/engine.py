"""The connection to botbuilder's database: its URL, engine, sessions and migrations.

SQLAlchemy keeps the same code on SQLite (the default, a file in the instance
folder) and PostgreSQL (`postgresql://…`, shared by several server processes).
The schema is created and upgraded by Alembic migrations on start. Every room
with tables (conversations, accounts, editing history) gets its sessions from
one `Database`.

The database holds password hashes, transcripts and e-mail addresses, so its
folder is made 0700 and its SQLite file 0600 (SQLite gives the -wal and -shm
files the mode of the database file); `private_folder` and `private_file`
tighten what an older version or a wide umask left readable by others.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from botbuilder.db.migrations import upgrade
from botbuilder.errors import ConfigError

__all__ = ["Database", "database_url", "private_file", "private_folder"]

log = logging.getLogger(__name__)

# A PostgreSQL that is down or unreachable fails a request within these many seconds
# instead of holding its thread (the server answers 503, see server/outage.py).
CONNECT_TIMEOUT = 5
POOL_TIMEOUT = 10  # waiting for a free pooled connection
# A database that accepts connections but does not answer (a lock another connection
# holds, a statement that runs away) fails a request within this many seconds too:
# PostgreSQL's statement_timeout and lock_timeout, SQLite's busy_timeout. The server
# takes BOTBUILDER_DATABASE_TIMEOUT; migrations on PostgreSQL run without it.
DEFAULT_TIMEOUT = 15.0
MIGRATION_BUSY_TIMEOUT = 30.0  # SQLite: processes starting together wait for one migration


def database_url(url: str | None, instance_path: str | Path) -> str:
    """The URL to use: the given one, else SQLite in the instance folder."""
    if url:
        if url.startswith("postgres://"):  # the old Heroku-style scheme
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    path = private_folder(instance_path)
    return f"sqlite:///{(path / 'botbuilder.sqlite').resolve()}"


def private_folder(path: str | os.PathLike[str]) -> Path:
    """The folder `path`, created if needed, that only its owner can open (0700)."""
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(folder)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """The file `path`, created empty if needed, that only its owner can read (0600)."""
    file = Path(path)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(file)
    return file


def _tighten(path: Path) -> None:
    """Take group and other permissions off `path` if we own it; warn if we cannot."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    owner = getattr(os, "getuid", None)
    if owner is not None and path.stat().st_uid != owner():
        log.warning("%s can be read by other users (mode %o); run: chmod go= %s", path, mode, path)
        return
    os.chmod(path, mode & ~0o077)
    log.warning("%s could be read by other users (mode %o); made it %o", path, mode, mode & ~0o077)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if (
        not parsed.drivername.startswith("sqlite")
        or name in ("", ":memory:")
        or name.startswith("file:")
    ):
        return None
    return Path(name)


def _sqlite_pragmas(timeout: float, synchronous: str | None = None) -> Any:
    """The connect hook of a SQLite engine: WAL, the busy timeout, foreign keys."""

    def connected(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets server processes read while one writes; busy_timeout makes a
        # writer wait for the lock (at most `timeout`) instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, so a deletion on request is really gone.
        cursor.execute("PRAGMA secure_delete=ON")
        if synchronous is not None:
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return connected


def _postgresql_timeouts(timeout: float) -> Any:
    """The connect hook of a PostgreSQL engine: no statement or lock wait beyond `timeout`.

    Set per connection with SET (not as a startup option, which PgBouncer refuses)."""
    milliseconds = int(timeout * 1000)

    def connected(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
            cursor.execute(f"SET lock_timeout = {milliseconds}")
        dbapi_connection.commit()

    return connected


class Database:
    """The database of one botbuilder installation: an engine and its sessions."""

    def __init__(self, url: str, migrate: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = _positive(timeout)
        self.engine: Engine = _engine(url, self.timeout)
        self._unsynced: Engine | None = None
        if url.startswith("sqlite"):
            file = _sqlite_file(url)
            if file is not None and file.parent.is_dir():
                private_file(file)
                for companion in (Path(f"{file}-wal"), Path(f"{file}-shm")):
                    if companion.exists():
                        _tighten(companion)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration.

        On PostgreSQL through an engine of its own without the statement timeout: a
        migration of a large table may take longer than any request should."""
        engine = self.engine if self.url.startswith("sqlite") else _engine(self.url, None)
        try:
            upgrade(engine)
        except Exception as exc:
            raise ConfigError(f"cannot prepare database '{_redact(self.url)}': {exc}") from exc
        finally:
            if engine is not self.engine:
                engine.dispose()

    def unsynced_engine(self) -> Engine:
        """For figures that may be lost in a power cut (rate-limit counters): on SQLite an
        engine whose commits do not wait for the disk (WAL keeps the file sound; the fsync
        was most of a counted request's time); elsewhere the engine itself."""
        if not self.url.startswith("sqlite") or _sqlite_file(self.url) is None:
            return self.engine
        if self._unsynced is None:
            self._unsynced = _engine(self.url, self.timeout, synchronous="NORMAL")
        return self._unsynced

    def close(self) -> None:
        self.engine.dispose()
        if self._unsynced is not None:
            self._unsynced.dispose()

    def session(self) -> Session:
        return self._sessions()


def _positive(timeout: float) -> float:
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        value = 0.0
    if not value > 0:
        raise ConfigError(
            f"the database timeout must be a number of seconds above 0, not {timeout!r}"
        )
    return value


def _engine(url: str, timeout: float | None, synchronous: str | None = None) -> Engine:
    """An engine with its connect hooks; `timeout` None: no statement timeout (migrations)."""
    try:
        engine = create_engine(url, **_engine_options(url))
    except Exception as exc:  # bad URL or missing driver
        raise ConfigError(f"cannot use database URL '{_redact(url)}': {exc}") from exc
    if url.startswith("sqlite"):
        hook = _sqlite_pragmas(timeout or MIGRATION_BUSY_TIMEOUT, synchronous)
        event.listen(engine, "connect", hook)
    elif url.startswith("postgresql") and timeout is not None:
        event.listen(engine, "connect", _postgresql_timeouts(timeout))
    return engine


def _engine_options(url: str) -> dict[str, Any]:
    """On PostgreSQL, pre-ping each pooled connection, so one broken by a database restart
    is replaced instead of failing a request, and bound the connect and pool waits.
    A SQLite file cannot drop a connection: no ping (it was one more statement a request)."""
    options: dict[str, Any] = {"future": True, "pool_pre_ping": not url.startswith("sqlite")}
    if url.startswith("postgresql"):
        options["pool_timeout"] = POOL_TIMEOUT
        if "connect_timeout" not in make_url(url).query:
            options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    return options


def _redact(url: str) -> str:
    """A database URL without its password, for error messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url
