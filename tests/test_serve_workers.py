"""`botbuilder serve --workers 2`: two real server processes on one port, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import SMALL_BOT
from .servers import free_port, wait_until_healthy


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_two_workers_share_one_port_answer_members_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, BOTBUILDER_DATABASE_URL="", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    command = [sys.executable, "-m", "botbuilder.cli", "serve", str(SMALL_BOT), "--port"]
    command += [str(port), "--instance", str(tmp_path / "instance"), "--workers", "2"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base}/health", process, log_path)
        deadline = time.monotonic() + 120
        while sum(b"serving" in line for line in log_path.read_bytes().splitlines()) < 2:
            assert time.monotonic() < deadline and process.poll() is None, log_path.read_text()
            time.sleep(0.2)
        workers = _children(process.pid)
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        for _ in range(6):  # new connections each time: the kernel spreads them
            with requests.Session() as fresh:
                started = fresh.post(f"{base}/api/v1/conversations", json={}, timeout=30)
                assert started.status_code == 201
                conversation = started.json()["conversation_id"]
                reply = fresh.post(
                    f"{base}/api/v1/conversations/{conversation}/messages",
                    json={"text": "Wat kost het lidmaatschap per jaar?"},
                    timeout=30,
                )
                assert reply.status_code == 200
                assert reply.json()["messages"][0]["text"] == "De contributie is 25 euro per jaar."
        assert all(_alive(pid) for pid in workers), "a worker failed to share the port"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        time.sleep(0.5)
        assert not any(_alive(pid) for pid in workers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_several_workers_need_a_fixed_port(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "botbuilder.cli", "serve", str(SMALL_BOT), "--port", "0"]
        + ["--workers", "2", "--instance", str(tmp_path / "instance")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "several workers need a fixed port" in result.stderr
