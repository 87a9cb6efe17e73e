"""The backups docs/operations.md gives, run as written: pg_dump and pg_restore of a
PostgreSQL database, SQLite's online backup of a database in use; the copy opens
with everything in it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from botbuilder.conversations.store import Storage
from botbuilder.db.engine import database_url as engine_url

from .conftest import PG_URL
from .pg_cluster import postgresql_bin

ONE_LINER = "import sqlite3,sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))"


def test_sqlite_online_backup_of_a_database_in_use_has_its_conversations(tmp_path: Path) -> None:
    live = tmp_path / "instance" / "botbuilder.sqlite"
    live.parent.mkdir()
    storage = Storage(f"sqlite:///{live}")
    conversation = storage.create_conversation("nl")
    storage.add_message(conversation.id, "member", "Hoe zeg ik op?")
    copy = tmp_path / "backups" / "botbuilder.sqlite"
    copy.parent.mkdir()
    # While `storage` holds the file open (WAL mode), as a running server does.
    subprocess.run([sys.executable, "-c", ONE_LINER, str(live), str(copy)], check=True)
    storage.close()
    assert sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = Storage(f"sqlite:///{copy}")
    try:
        assert [m.text for m in restored.messages(conversation.id)] == ["Hoe zeg ik op?"]
    finally:
        restored.close()


@pytest.mark.postgresql
def test_pg_dump_and_pg_restore_give_a_database_the_server_opens_as_it_was(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("BOTBUILDER_TEST_DATABASE_URL is not set")
    binary = postgresql_bin()
    assert binary is not None
    import psycopg

    base = PG_URL.rpartition("/")[0]
    names = [f"bb_backup_{uuid.uuid4().hex[:10]}", f"bb_restored_{uuid.uuid4().hex[:10]}"]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    source, target = (f"{base}/{name}" for name in names)
    try:
        storage = Storage(engine_url(source, tmp_path))
        conversation = storage.create_conversation("nl")
        storage.add_message(conversation.id, "member", "Hoe zeg ik op?")
        dump = tmp_path / "botbuilder.dump"
        subprocess.run(
            [binary / "pg_dump", "--format=custom", f"--file={dump}", source],
            check=True,
            timeout=120,
        )
        storage.close()
        subprocess.run(
            [binary / "pg_restore", "--no-owner", f"--dbname={target}", dump],
            check=True,
            timeout=120,
        )
        restored = Storage(engine_url(target, tmp_path))  # migrates: nothing to do
        try:
            assert [m.text for m in restored.messages(conversation.id)] == ["Hoe zeg ik op?"]
        finally:
            restored.close()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
