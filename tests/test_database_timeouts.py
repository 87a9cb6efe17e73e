"""A database that accepts connections but does not answer: a request fails with a 503 in
BOTBUILDER_DATABASE_TIMEOUT seconds instead of holding its thread (db/engine.py)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from botbuilder.db import engine
from botbuilder.db.engine import Database
from botbuilder.errors import ConfigError

# conftest's `database_url`, its PostgreSQL case only (skipped without one).
ONLY_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _start(client: Any) -> tuple[Any, float]:
    began = time.monotonic()
    response = client.post("/api/v1/conversations", json={})
    return response, time.monotonic() - began


def _quick_503(response: Any, seconds: float) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json() == {
        "ok": False,
        "error": "the database is unavailable; please try again in a few seconds",
        "status": 503,
    }
    assert response.headers["Retry-After"]
    assert seconds < 10  # the timeout (1 s) and a little, never the old 30 s or a hang


def test_a_sqlite_file_locked_by_another_process_is_a_503_after_the_timeout_not_a_hang(
    app_factory: Any, bot_dir: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'locked.sqlite'}"
    app = app_factory(bot_dir, url, DATABASE_TIMEOUT=1)
    client = app.test_client()
    assert client.post("/api/v1/conversations", json={}).status_code == 201
    other = sqlite3.connect(tmp_path / "locked.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. a backup or a stuck process holding the write lock
    try:
        response, seconds = _start(client)
    finally:
        other.execute("ROLLBACK")
        other.close()
    _quick_503(response, seconds)
    assert seconds >= 0.9  # it did wait for the lock first
    assert _start(client)[0].status_code == 201  # and the next request simply works
    app.extensions["botbuilder"].storage.close()


@pytest.mark.postgresql
@ONLY_POSTGRESQL
def test_a_postgresql_table_locked_by_another_connection_is_a_503_after_the_timeout(
    app_factory: Any, bot_dir: Path, database_url: str
) -> None:
    import psycopg

    app = app_factory(bot_dir, database_url, DATABASE_TIMEOUT=1)
    client = app.test_client()
    assert client.post("/api/v1/conversations", json={}).status_code == 201
    with psycopg.connect(database_url) as other:  # a transaction left open on a locked table
        other.execute("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE")
        response, seconds = _start(client)
        other.rollback()
    _quick_503(response, seconds)
    assert _start(client)[0].status_code == 201  # the lock gone: served again, no restart
    app.extensions["botbuilder"].storage.close()


@pytest.mark.postgresql
@ONLY_POSTGRESQL
def test_a_postgresql_statement_that_runs_past_the_timeout_is_cancelled(
    database_url: str, tmp_path: Path
) -> None:
    database = Database(engine.database_url(database_url, tmp_path), timeout=1)
    try:
        began = time.monotonic()
        with pytest.raises(OperationalError), database.engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - began < 4
        with database.engine.connect() as connection:  # the pool's connection is usable again
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.close()


def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused(tmp_path: Path) -> None:
    for bad in (0, -1, "soon"):
        with pytest.raises(ConfigError, match="timeout must be a number of seconds"):
            Database(f"sqlite:///{tmp_path / 'x.sqlite'}", migrate=False, timeout=bad)  # type: ignore[arg-type]


def test_a_postgresql_address_that_accepts_connections_but_never_answers_fails_in_seconds(
    tmp_path: Path,
) -> None:
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts the connection; nobody ever speaks
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    url = f"postgresql://botbuilder:secret@127.0.0.1:{silent.getsockname()[1]}/botbuilder"
    database = Database(engine.database_url(url, tmp_path), migrate=False, timeout=1)
    try:
        began = time.monotonic()
        with pytest.raises(OperationalError), database.engine.connect():
            pass
        assert time.monotonic() - began < 15  # CONNECT_TIMEOUT (5 s), not a hang
    finally:
        stop.set()
        database.close()
        for connection in held:
            connection.close()
        silent.close()
