"""What one cached API request costs the app itself, without HTTP: CPU ms per request.

    python -m benchmarks.request_cpu [--requests 2000] [--rounds 5] [--instance DIR] [--profile]

Builds the app on a copy of the example bot (rate limits raised as the load test
raises them) and calls it as waitress would (a bare WSGI call, no test client,
so none of the client's own work is counted): a repeated `POST /api/v1/match`
(answered from the batcher's cache after the first) and `GET /health`. Prints
the median process CPU time per request over the rounds; `--profile` adds the
cProfile functions that cost the most. Over HTTP, waitress adds its own share
(`make loadtest` with wrk measures that: CPU ms/q of the server process).
`--instance` keeps the embedding cache between runs (the first start encodes
the bot's phrasings).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BODY = b'{"text": "how do I become a member?"}'


def _environ(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _caller(app: Any, method: str, path: str, body: bytes = b"") -> Callable[[], None]:
    def call() -> None:
        status: list[str] = []
        b"".join(app(_environ(method, path, body), lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{method} {path} answered {status[0]}")

    return call


def _cpu_ms(call: Callable[[], None], requests: int) -> float:
    start = time.process_time()
    for _ in range(requests):
        call()
    return (time.process_time() - start) / requests * 1000


def _app(instance: Path) -> Any:
    from benchmarks.loadtest import LIMITS
    from botbuilder.server import create_app

    flows = instance / "flows"
    if not flows.exists():
        shutil.copytree(ROOT / "flows", flows)
        settings = yaml.safe_load((flows / "bot.yml").read_text(encoding="utf-8"))
        settings["limits"] = LIMITS
        (flows / "bot.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    os.environ.setdefault("BOTBUILDER_SCHEDULER", "off")
    return create_app({"FLOWS_DIR": str(flows), "INSTANCE_PATH": str(instance)})


def run(instance: Path, requests: int, rounds: int, profile: bool) -> None:
    app = _app(instance)
    calls = {
        "POST /api/v1/match (cached)": _caller(app, "POST", "/api/v1/match", BODY),
        "GET /health": _caller(app, "GET", "/health"),
    }
    for call in calls.values():
        _cpu_ms(call, 100)  # warm: the first match is encoded, then cached
    figures: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            figures[name].append(_cpu_ms(call, requests))
    for name, values in figures.items():
        shown = ", ".join(f"{v:.3f}" for v in values)
        print(f"{name}: {statistics.median(values):.3f} ms CPU per request (rounds: {shown})")
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(_cpu_ms, calls["POST /api/v1/match (cached)"], requests)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instance", type=Path, help="keep the instance (and its caches) here")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.instance:
        args.instance.mkdir(parents=True, exist_ok=True)
        run(args.instance, args.requests, args.rounds, args.profile)
        return
    with tempfile.TemporaryDirectory() as scratch:
        run(Path(scratch), args.requests, args.rounds, args.profile)


if __name__ == "__main__":
    main()
