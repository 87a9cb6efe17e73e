"""Faults under load, with real processes: PostgreSQL restarting, a replica killed with -9,
replicas starting together on a fresh database.

- PostgreSQL restart: a real `botbuilder serve` on a cluster of the test's own
  (tests/pg_cluster.py; the shared one serves other tests). While it is down,
  every request answers within a bounded time with the 503 JSON and
  Retry-After, never a 500 or a hang, and `/ready` says 503; once it is back the
  same process serves again, without a restart.
- kill -9: two `serve` replicas on one PostgreSQL database, clients retrying on
  the other replica with the same Idempotency-Key; the live replica never
  answers a 5xx, the killed one rejoins, and every acknowledged message is
  stored exactly once.
- Migrations: processes starting together on a fresh database all come up,
  and the schema is at head once (the advisory lock in db/migrations).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import DATABASES
from .pg_cluster import Cluster, postgresql_bin, throwaway_cluster
from .serve_replicas import Replica, bot_without_limits

QUESTION = "Hoe kan ik mijn lidmaatschap opzeggen?"
BOUND = 8.0  # seconds: CONNECT_TIMEOUT (5) and some slack on a loaded machine


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """The small bot without rate limits that a load from one address would hit."""
    return bot_without_limits(tmp_path / "flows")


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    if postgresql_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    with throwaway_cluster() as cluster:
        yield cluster


def start_conversation(url: str, key: str | None = None) -> str:
    headers = {"Idempotency-Key": key} if key else {}
    response = requests.post(f"{url}/api/v1/conversations", json={}, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["conversation_id"]  # type: ignore[no-any-return]


def post_message(url: str, conversation: str, text: str, key: str, timeout: float = 30) -> Any:
    return requests.post(
        f"{url}/api/v1/conversations/{conversation}/messages",
        json={"text": text},
        headers={"Idempotency-Key": key},
        timeout=timeout,
    )


# -- PostgreSQL restart ------------------------------------------------------------------


class Load:
    """Threads posting messages (and asking /ready) until stopped; every answer is kept."""

    def __init__(self, url: str, conversation: str, threads: int = 3) -> None:
        self.url, self.conversation = url, conversation
        self.answers: list[tuple[float, str, int | None, float, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, worker: int) -> None:
        count = 0
        while not self._stop.is_set():
            count += 1
            began = time.monotonic()
            path = "/ready" if count % 3 == 0 else "message"
            try:
                if path == "message":
                    key = f"load-{worker}-{count}"
                    response = post_message(self.url, self.conversation, QUESTION, key, BOUND * 2)
                else:
                    response = requests.get(self.url + "/ready", timeout=BOUND * 2)
                status: int | None = response.status_code
                body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
                retry_after = response.headers.get("Retry-After")
                detail = (body, retry_after)
            except requests.RequestException as exc:
                status, detail = None, repr(exc)
            with self._lock:
                self.answers.append((began, path, status, time.monotonic() - began, detail))
            time.sleep(0.05)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def between(self, start: float, end: float) -> list[tuple[float, str, int | None, float, Any]]:
        with self._lock:
            return [a for a in self.answers if start <= a[0] < end]


@pytest.mark.postgresql
def test_postgresql_restart_under_load_gives_fast_503s_then_serves_again_without_a_restart(
    own_cluster: Cluster, tmp_path: Path, flows: Path
) -> None:
    url = own_cluster.create_database("faults")
    replica = Replica(tmp_path / "a", flows, url).start()
    try:
        conversation = start_conversation(replica.url)
        pid = replica.process.pid  # type: ignore[union-attr]
        with Load(replica.url, conversation) as load:
            time.sleep(2)
            own_cluster.stop("fast")
            down_at = time.monotonic()
            time.sleep(6)
            up_at = time.monotonic()
            own_cluster.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if post_message(replica.url, conversation, QUESTION, uuid.uuid4().hex).ok:
                    break
                time.sleep(0.5)
            recovered_at = time.monotonic()
            time.sleep(2)
        assert recovered_at - up_at < 15, "not serving again 15 s after PostgreSQL came back"

        everything = load.between(0, float("inf"))
        assert not [a for a in everything if a[2] is None], "a request hung or was dropped"
        assert not [a for a in everything if a[2] is not None and a[2] >= 500 and a[2] != 503]
        assert max(a[3] for a in everything) < BOUND, "a request took too long"
        during = load.between(down_at + 1, up_at)
        assert len(during) >= 6 and all(a[2] == 503 for a in during), during
        for _, path, _, _, (body, retry_after) in during:
            assert body["ok"] is False and body["status"] == 503 and body["error"]
            assert "postgres" not in body["error"] and "127.0.0.1" not in body["error"]
            if path == "message":
                assert retry_after == "5"
        after = load.between(recovered_at, float("inf"))
        assert after and all(a[2] == 200 for a in after), after
        assert requests.get(replica.url + "/ready", timeout=10).status_code == 200
        assert replica.process.pid == pid and replica.process.poll() is None  # type: ignore[union-attr]
    finally:
        replica.stop()


def test_an_unreachable_database_is_a_503_with_retry_after_not_a_500(
    app_factory: Any, bot_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    app = app_factory(bot_dir, f"sqlite:///{folder / 'bot.sqlite'}")
    client = app.test_client()
    assert client.post("/api/v1/conversations", json={}).status_code == 201
    app.extensions["botbuilder"].storage.engine.dispose()
    shutil.rmtree(folder)  # SQLite cannot open a file in a folder that is gone: OperationalError
    response = client.post("/api/v1/conversations", json={})
    assert response.status_code == 503, response.json
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "ok": False,
        "error": "the database is unavailable; please try again in a few seconds",
        "status": 503,
    }
    assert str(tmp_path) not in response.get_data(as_text=True)
    assert client.get("/ready").status_code == 503
    assert client.get("/health").status_code == 200  # alive: a restart would not help
    match = client.post("/api/v1/match", json={"text": "opzeggen"})  # rate limits use the database
    assert match.status_code in (200, 503), match.json


# -- kill -9 of one of two replicas --------------------------------------------------------

ON_POSTGRESQL = [pytest.param("postgresql", marks=pytest.mark.postgresql)]


class Member(threading.Thread):
    """A widget-like client: one conversation, messages with a fresh Idempotency-Key each,
    each retried with the same key (on the other replica when one is gone) until answered."""

    def __init__(self, number: int, replicas: list[str], stop: threading.Event) -> None:
        super().__init__()
        self.number, self.replicas, self.halt = number, replicas, stop
        self.conversation = ""
        self.acknowledged: list[str] = []
        self.answers: list[tuple[str, int]] = []  # (replica, status) of every HTTP answer
        self.unanswered = 0  # dropped connections: the killed replica
        self.failed: str | None = None

    def run(self) -> None:
        try:
            self.conversation = self._until_answered(
                lambda url, key: requests.post(
                    f"{url}/api/v1/conversations",
                    json={},
                    headers={"Idempotency-Key": key},
                    timeout=30,
                ),
                201,
            )["conversation_id"]
            count = 0
            while not self.halt.is_set():
                count += 1
                text = f"{QUESTION} ({self.number}-{count})"
                self._until_answered(
                    lambda url, key, text=text: post_message(url, self.conversation, text, key),
                    200,
                )
                self.acknowledged.append(text)
        except AssertionError as exc:
            self.failed = str(exc)

    def _until_answered(self, send: Any, expected: int) -> dict[str, Any]:
        key = f"member-{uuid.uuid4()}"
        turn = self.number + len(self.acknowledged)
        deadline = time.monotonic() + 150  # a claim by the killed replica lasts 60 s
        while time.monotonic() < deadline:
            url = self.replicas[turn % len(self.replicas)]
            try:
                response = send(url, key)
            except requests.RequestException:
                self.unanswered += 1
                turn += 1  # gone: the same key on the other replica
                time.sleep(0.1)
                continue
            self.answers.append((url, response.status_code))
            if response.status_code == expected:
                return response.json()  # type: ignore[no-any-return]
            assert response.status_code in (409, 503), (response.status_code, response.text)
            time.sleep(float(response.headers.get("Retry-After", "1")))
        raise AssertionError(f"no answer in 150 s for member {self.number}")


@pytest.mark.parametrize("database_url", ON_POSTGRESQL, indirect=True)
def test_a_replica_killed_with_sigkill_under_load_loses_and_doubles_nothing_and_rejoins(
    database_url: str, tmp_path: Path, flows: Path
) -> None:
    from botbuilder.conversations.store import Storage
    from botbuilder.db.engine import database_url as engine_url

    a = Replica(tmp_path / "a", flows, database_url)
    b = Replica(tmp_path / "b", flows, database_url)
    a.start(wait=False), b.start(wait=False)  # together, on a fresh database
    stop_load = threading.Event()
    members = [Member(n, [a.url, b.url], stop_load) for n in range(6)]
    try:
        a.wait(), b.wait()
        for member in members:
            member.start()
        time.sleep(3)
        a.kill()
        killed_at = len([x for m in members for x in m.answers])
        time.sleep(3)
        a.start()  # same port, same instance: rejoins
        rejoined_at = {m.number: len(m.answers) for m in members}
        deadline = time.monotonic() + 120  # members whose message died with a wait out its lease
        while time.monotonic() < deadline and not any(
            (a.url, 200) in m.answers[rejoined_at[m.number] :] for m in members
        ):
            time.sleep(0.5)
        time.sleep(2)
        stop_load.set()
        for member in members:
            member.join(timeout=200)
        assert not [m.failed for m in members if m.failed], [m.failed for m in members]
        answers = [x for m in members for x in m.answers]
        assert killed_at > 0 and len(answers) > killed_at
        assert not [x for x in answers if x[1] >= 500], "a live replica answered a 5xx"
        after_rejoin = [x for m in members for x in m.answers[rejoined_at[m.number] :]]
        assert (a.url, 200) in after_rejoin, [(m.number, m.answers[-8:]) for m in members]

        storage = Storage(engine_url(database_url, tmp_path), migrate=False)
        try:
            for member in members:
                stored = [
                    m.text for m in storage.messages(member.conversation) if m.role == "member"
                ]
                assert len(stored) == len(set(stored)), "a message was stored twice"
                assert sorted(stored) == sorted(member.acknowledged), "a message was lost"
        finally:
            storage.close()
    finally:
        stop_load.set()
        a.stop(), b.stop()


# -- migrations with several replicas starting at once ----------------------------------

MIGRATE = """
import sys, time
from botbuilder.db.engine import Database, database_url
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
Database(database_url(sys.argv[1], sys.argv[3])).close()
"""


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_processes_starting_together_on_a_fresh_database_all_migrate_it_to_head_once(
    database_url: str, tmp_path: Path
) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, inspect, text

    from botbuilder.db.engine import database_url as engine_url
    from botbuilder.db.migrations import alembic_config

    at = time.time() + 8  # after the interpreters have imported botbuilder
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, database_url, str(at), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(engine_url(database_url, tmp_path))
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert [row[0] for row in versions] == [head]
    assert {"conversations", "messages", "idempotency_keys"} <= tables
