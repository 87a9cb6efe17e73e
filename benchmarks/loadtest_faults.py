"""`make loadtest` phases 2 and 3: conversations on two replicas while things break.

Both replicas share one throwaway PostgreSQL cluster of their own (started by
.ci/postgres.sh on another port than the tests' cluster, so restarting it
disturbs nobody; root is needed, as for the tests).

Each client starts a conversation and sends messages, every request with an
idempotency key; when a replica does not answer (killed) it sends the same
request with the same key to the other one, and waits as told on a 409 (the
first try is still running, or its lease has not run out) or a 503. Phase 2
kills one replica with `kill -9` a third of the way in and restarts it;
phase 3 restarts PostgreSQL (`pg_ctl restart`) a third of the way in.

Afterwards every conversation's history is read back: an acknowledged message
missing is lost, a message stored twice is a duplicate.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.loadtest import ROOT, Server, large_bot, request

PG_PORT = 55439  # the load test's own cluster; the tests' is 55432
RETRY_FOR = 90.0  # seconds a client keeps retrying one request (a lease is 60 s)


@dataclass
class Tally:
    """What the clients saw in one phase."""

    name: str
    acked: dict[str, list[str]] = field(default_factory=dict)  # conversation -> texts
    sent: dict[str, list[str]] = field(default_factory=dict)  # conversation -> texts tried
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    unavailable_ms: list[float] = field(default_factory=list)  # how fast a 503 came
    dropped: int = 0  # connections refused or cut (a killed replica)
    gave_up: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def call(
    replicas: list[Server], first: int, path: str, body: dict[str, Any], tally: Tally
) -> dict[str, Any] | None:
    """POST with one idempotency key until a replica answers 2xx (None: gave up)."""
    key = uuid.uuid4().hex
    deadline = time.monotonic() + RETRY_FOR
    n = first
    while time.monotonic() < deadline:
        server = replicas[n % len(replicas)]
        t0 = time.perf_counter()
        try:
            status, data = request(
                server.port, "POST", path, body, {"Idempotency-Key": key}, timeout=30
            )
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.dropped += 1
            n += 1  # the other replica, with the same key
            time.sleep(0.05)
            continue
        elapsed = time.perf_counter() - t0
        tally.count(status)
        if status in (200, 201):
            with tally.lock:
                tally.latencies.append(elapsed)
            return data
        if status == 503:
            with tally.lock:
                tally.unavailable_ms.append(elapsed * 1000)
        elif status >= 500:  # the replica is alive: it answered
            with tally.lock:
                tally.server_errors.append(f"{status} on {path}: {str(data)[:200]}")
        elif status not in (409, 429):
            with tally.lock:
                tally.server_errors.append(f"unexpected {status} on {path}: {str(data)[:200]}")
            return None
        n += 1 if status == 503 else 0
        time.sleep(min(float(data.get("_retry_after") or 1), 2.0))
    with tally.lock:
        tally.gave_up += 1
    return None


def client(
    number: int, replicas: list[Server], questions: list[str], stop_at: float, tally: Tally
) -> None:
    """One member: a conversation, then messages until `stop_at`."""
    started = call(replicas, number, "/api/v1/conversations", {}, tally)
    if started is None:
        return
    conversation = started["conversation_id"]
    path = f"/api/v1/conversations/{conversation}/messages"
    with tally.lock:
        tally.acked[conversation], tally.sent[conversation] = [], []
    m = 0
    while time.monotonic() < stop_at:
        text = f"{questions[(number * 97 + m) % len(questions)]} (c{number} m{m})"
        with tally.lock:
            tally.sent[conversation].append(text)
        if call(replicas, number + m, path, {"text": text}, tally) is not None:
            with tally.lock:
                tally.acked[conversation].append(text)
        m += 1


def run(
    replicas: list[Server],
    questions: list[str],
    clients: int,
    seconds: float,
    fault: Any,
    name: str,
) -> Tally:
    """`clients` members for `seconds`; `fault()` runs a third of the way in."""
    tally = Tally(name)
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(n, replicas, questions, stop_at, tally))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    fault()
    for thread in threads:
        thread.join()
    return tally


def check(tally: Tally, replica: Server) -> tuple[int, int, list[str]]:
    """Lost and duplicated messages, read back from a live replica."""
    lost = duplicates = 0
    for conversation, sent in tally.sent.items():
        status, data = request(
            replica.port, "GET", f"/api/v1/conversations/{conversation}/messages"
        )
        if status != 200:
            return -1, -1, [f"{tally.name}: reading {conversation} back gave {status}"]
        stored = [m["text"] for m in data["messages"] if m["role"] == "member"]
        lost += sum(1 for text in tally.acked[conversation] if text not in stored)
        duplicates += sum(max(0, stored.count(text) - 1) for text in set(sent))
    problems = [f"{tally.name}: {e}" for e in tally.server_errors]
    if lost:
        problems.append(f"{tally.name}: {lost} acknowledged message(s) lost")
    if duplicates:
        problems.append(f"{tally.name}: {duplicates} message(s) stored twice")
    return lost, duplicates, problems


# -- the throwaway PostgreSQL ----------------------------------------------------------------


def _pg_bin() -> Path:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)[-1]


def start_postgres() -> str:
    """The load test's own cluster (via .ci/postgres.sh) and a fresh database in it."""
    out = subprocess.run(
        ["bash", str(ROOT / ".ci" / "postgres.sh")],
        # The caller's locale too: initdb under no locale makes an SQL_ASCII cluster.
        env={**os.environ, "BOTBUILDER_TEST_PG_PORT": str(PG_PORT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    ).stdout.strip()
    import psycopg

    with psycopg.connect(out, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bb_loadtest WITH (FORCE)")
        admin.execute("CREATE DATABASE bb_loadtest ENCODING 'UTF8' TEMPLATE template0")
    return out.rpartition("/")[0] + "/bb_loadtest"


def pg_ctl(action: str) -> float:
    """`pg_ctl <action>` on the load test's cluster; returns the seconds it took."""
    started = time.perf_counter()
    data = f"/tmp/botbuilder-test-pg-{PG_PORT}"
    subprocess.run(  # the server's output to its log: a pipe would stay open as long as it runs
        ["runuser", "-u", "postgres", "--", str(_pg_bin() / "pg_ctl")]
        + ["-D", data, "-l", f"{data}/server.log", action, "-m", "fast", "-w"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    return time.perf_counter() - started


# -- the phases ------------------------------------------------------------------------------


def faults(work: Path, args: argparse.Namespace, phases: set[str]) -> list[str]:
    flows, questions = large_bot(work / "faults", example=args.bot == "example")
    try:
        url = start_postgres()
    except (subprocess.SubprocessError, OSError) as exc:
        return [f"phases 2 and 3 need a PostgreSQL of their own (.ci/postgres.sh, as root): {exc}"]
    replicas = []
    for name in ("a", "b"):
        copy = work / f"flows-{name}"
        shutil.copytree(flows, copy, dirs_exist_ok=True)
        instance = work / f"replica-{name}"
        seed = work / "instance0" / "embeddings.sqlite"  # phase 1's cache and saved index
        if seed.exists():
            instance.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy(seed, instance / "embeddings.sqlite")
        replicas.append(Server(copy, instance, database_url=url))
    try:
        starts = [r.start() for r in replicas]  # one after the other: migrations run once
        print(f"\nreplicas on PostgreSQL: ready after {', '.join(f'{s:.1f} s' for s in starts)}")
        return _phases(replicas, questions, args, phases)
    finally:
        for replica in replicas:
            replica.stop()
        try:
            pg_ctl("stop")
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(f"/tmp/botbuilder-test-pg-{PG_PORT}", ignore_errors=True)


def _phases(
    replicas: list[Server], questions: list[str], args: argparse.Namespace, phases: set[str]
) -> list[str]:
    seconds = max(args.seconds * 3, 6.0)
    problems: list[str] = []
    print(
        f"\n{'phase':<8} {'convs':>5} {'acked':>6} {'lost':>5} {'dup':>4} {'5xx':>4} "
        f"{'503':>4} {'503 p95 ms':>10} {'dropped':>7} {'p50 ms':>7}  fault"
    )
    if "2" in phases:
        restart: dict[str, float] = {}

        def kill_and_restart() -> None:
            replicas[1].kill()
            time.sleep(2)
            restart["ready"] = replicas[1].start()

        tally = run(replicas, questions, args.conversations, seconds, kill_and_restart, "phase 2")
        fault = f"kill -9 of b, b ready again after {restart['ready']:.1f} s"
        problems += _report(tally, fault, replicas[0])
        if tally.unavailable_ms:
            problems.append("phase 2: a live replica answered 503 with the database up")
    if "3" in phases:
        outage: dict[str, float] = {}

        def restart_postgres() -> None:
            outage["restart"] = pg_ctl("restart")

        tally = run(replicas, questions, args.conversations, seconds, restart_postgres, "phase 3")
        fault = f"pg_ctl restart took {outage['restart']:.1f} s"
        problems += _report(tally, fault, replicas[0])
    return problems


def _report(tally: Tally, fault: str, replica: Server) -> list[str]:
    """Print one phase's row; return its problems."""
    lost, dup, problems = check(tally, replica)
    fast = sorted(tally.unavailable_ms)
    p95 = fast[int(0.95 * (len(fast) - 1))] if fast else 0.0
    p50 = statistics.median(tally.latencies) * 1000 if tally.latencies else float("nan")
    print(
        f"{tally.name:<8} {len(tally.acked):>5} {sum(map(len, tally.acked.values())):>6} "
        f"{lost:>5} {dup:>4} {len(tally.server_errors):>4} {len(fast):>4} {p95:>10.0f} "
        f"{tally.dropped:>7} {p50:>7.0f}  {fault}",
        flush=True,
    )
    if tally.gave_up:
        problems.append(
            f"{tally.name}: {tally.gave_up} request(s) unanswered for {RETRY_FOR:.0f} s"
        )
    return problems
