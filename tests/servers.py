"""Starting real server processes for tests: a free port, and waiting until one answers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(
    url: str, process: subprocess.Popen[Any], log_path: Path, timeout: float = 120
) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, f"{url} did not answer in {timeout:.0f} s"
        time.sleep(0.5)


def stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Terminate a server process, killing it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def botbuilder_command() -> list[str]:
    """The `botbuilder` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "botbuilder"
    return [str(script)] if script.exists() else [sys.executable, "-m", "botbuilder.cli"]


def add_user(
    work: Path, env: dict[str, str], email: str, role: str, password: str, *options: str
) -> None:
    """`botbuilder user add` in `work` with `env`, the password on stdin; fails the test if refused."""
    added = subprocess.run(
        [*botbuilder_command(), "user", "add", email, "--role", role, "--password-stdin", *options],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr


@contextlib.contextmanager
def serve_with_account(
    work: Path, flows: Path, email: str, password: str, role: str
) -> Iterator[str]:
    """`botbuilder serve` of `flows` on a free port of 127.0.0.1, on SQLite in
    work/instance, with one account; yields its URL and stops it afterwards."""
    instance = work / "instance"
    env = {k: v for k, v in os.environ.items() if k != "BOTBUILDER_DATABASE_URL"}  # SQLite
    add_user(work, env, email, role, password, "--instance", str(instance))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*botbuilder_command(), "serve", str(flows), "--port", str(port)]
            + ["--instance", str(instance)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
        )
    try:
        wait_until_healthy(url + "/health", process, log_path)
        yield url
    finally:
        stop(process)
