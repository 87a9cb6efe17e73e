"""Starting real server processes for tests: a free port, and waiting until one answers."""

from __future__ import annotations

import socket
import subprocess
import time
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
