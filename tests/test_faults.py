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

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import SMALL_BOT
from .pg_cluster import Cluster, postgresql_bin, throwaway_cluster
from .servers import botbuilder_command, free_port, stop, wait_until_healthy

QUESTION = "Hoe kan ik mijn lidmaatschap opzeggen?"
BOUND = 8.0  # seconds: CONNECT_TIMEOUT (5) and some slack on a loaded machine


# Load from one address on one conversation: far above what a member sends.
UNLIMITED = """
limits:
  conversations_per_ip: 100000/minute
  messages_per_ip: 100000/minute
  messages_per_conversation: 100000/minute
"""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """The small bot without rate limits that a load from one address would hit."""
    target = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, target)
    with (target / "bot.yml").open("a", encoding="utf-8") as bot:
        bot.write(UNLIMITED)
    return target


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    if postgresql_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    with throwaway_cluster() as cluster:
        yield cluster


class Replica:
    """One `botbuilder serve` process of the small bot, on its own port and instance."""

    def __init__(self, work: Path, flows: Path, database_url: str, port: int | None = None) -> None:
        self.work, self.flows, self.database_url = work, flows, database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        work.mkdir(parents=True, exist_ok=True)

    def start(self, wait: bool = True) -> Replica:
        env = dict(os.environ, BOTBUILDER_DATABASE_URL=self.database_url)
        env.update(BOTBUILDER_SCHEDULER="off", PYTHONUNBUFFERED="1")
        log = (self.work / "server.log").open("ab")
        command = [*botbuilder_command(), "serve", str(self.flows), "--port", str(self.port)]
        command += ["--instance", str(self.work / "instance")]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            self.wait()
        return self

    def wait(self) -> None:
        assert self.process is not None
        wait_until_healthy(self.url + "/ready", self.process, self.work / "server.log")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up at all
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process, timeout=20)


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
