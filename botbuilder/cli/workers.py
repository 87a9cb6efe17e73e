"""`botbuilder serve --workers N`: N server processes on one port (Linux SO_REUSEPORT).

Python runs one thread at a time per process, so one `serve` uses about one
core however many threads it has. With `--workers N` the command starts N
`serve` processes on the same address, port and instance folder; each opens
its own listening socket with SO_REUSEPORT and the kernel spreads new
connections over them. Each worker is a whole server (its own model, matcher
cache and threads); what they must share already goes through the database,
as between replicas (rate limits, idempotency keys, conversations, the
webhook outbox, the scheduled jobs). The first process only watches: when a
worker ends, or it is told to stop (SIGTERM, Ctrl-C), it stops them all.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from typing import Any

__all__ = ["reuse_port_socket", "run_workers"]


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket other processes may bind to as well (the kernel balances them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_workers(count: int, arguments: list[str]) -> int:
    """Run `count` × `botbuilder serve ARGUMENTS --reuse-port` until one ends; its status."""
    command = [sys.executable, "-m", "botbuilder.cli", "serve", *arguments, "--reuse-port"]
    workers = [subprocess.Popen(command) for _ in range(count)]
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping and all(w.poll() is None for w in workers):
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopping:
        return 0
    return next((w.returncode for w in workers if w.returncode), 0)
