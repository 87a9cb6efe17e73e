"""What one cached API request costs the app itself, without HTTP: CPU ms per request.

    python -m benchmarks.request_cpu [--requests 2000] [--rounds 5] [--instance DIR]
        [--flows DIR] [--profile] [--against TREE]

Builds the app on a copy of the example bot (rate limits raised as the load test
raises them) and calls it as waitress would (a bare WSGI call, no test client,
so none of the client's own work is counted): a repeated `POST /api/v1/match`
(answered from the batcher's cache after the first) and `GET /health`. Prints
the median process CPU time per request over the rounds; `--profile` adds the
cProfile functions that cost the most. Over HTTP, waitress adds its own share
(`make loadtest` with wrk measures that: CPU ms/q of the server process).
`--instance` keeps the embedding cache between runs (the first start encodes
the bot's phrasings); `--flows DIR` measures another bot (e.g. the load test's
150-intent one).

`--against TREE` measures another source tree (e.g. a `git archive` of an older
commit) side by side: both run in their own process at the same time, in bursts
of `--requests` started together, so a busy machine slows both alike; the
medians and the median of the burst-by-burst ratios are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
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


def _app(instance: Path, source: Path | None = None) -> Any:
    from benchmarks.loadtest import LIMITS
    from botbuilder.server import create_app

    flows = instance / "flows"
    if not flows.exists():
        shutil.copytree(source or ROOT / "flows", flows)
        settings = yaml.safe_load((flows / "bot.yml").read_text(encoding="utf-8"))
        settings["limits"] = LIMITS
        (flows / "bot.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    os.environ.setdefault("BOTBUILDER_SCHEDULER", "off")
    return create_app({"FLOWS_DIR": str(flows), "INSTANCE_PATH": str(instance)})


def _calls(instance: Path, source: Path | None) -> dict[str, Callable[[], None]]:
    app = _app(instance, source)
    calls = {
        "POST /api/v1/match (cached)": _caller(app, "POST", "/api/v1/match", BODY),
        "GET /health": _caller(app, "GET", "/health"),
    }
    for call in calls.values():
        _cpu_ms(call, 100)  # warm: the first match is encoded, then cached
    return calls


def run(args: argparse.Namespace, instance: Path) -> None:
    calls = _calls(instance, args.flows)
    figures: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, call in calls.items():
            figures[name].append(_cpu_ms(call, args.requests))
    for name, values in figures.items():
        shown = ", ".join(f"{v:.3f}" for v in values)
        print(f"{name}: {statistics.median(values):.3f} ms CPU per request (rounds: {shown})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(_cpu_ms, calls["POST /api/v1/match (cached)"], args.requests)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def worker(args: argparse.Namespace, instance: Path) -> None:
    """For `--against`: wait for "go" on stdin, answer one JSON line of figures per burst."""
    calls = _calls(instance, args.flows)
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps({n: _cpu_ms(c, args.requests) for n, c in calls.items()}), flush=True)


def side_by_side(args: argparse.Namespace, scratch: Path) -> None:
    """This tree and `--against`, each in its own process, in bursts started together."""
    trees = {"this tree": ROOT, "against": args.against.resolve()}
    workers = {}
    for n, (name, tree) in enumerate(trees.items()):
        instance = scratch / f"side{n}"
        if args.instance is not None:  # the embedding cache, so neither encodes the bot
            shutil.copytree(args.instance, instance, dirs_exist_ok=True)
        # This file runs in both (an older tree may lack --worker), on that tree's app.
        command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
        command += ["--instance", str(instance), "--requests", str(args.requests)]
        command += ["--flows", str(args.flows)] if args.flows else []
        env = {**os.environ, "PYTHONPATH": str(tree)}
        workers[name] = subprocess.Popen(
            command, cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
    for process in workers.values():
        _answer(process)  # ready
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in workers}
    for _ in range(args.rounds):
        for process in workers.values():
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for name, process in workers.items():
            figures[name].append(_answer(process))
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    _report_side_by_side(figures, trees)


def _answer(process: subprocess.Popen[str]) -> dict[str, float]:
    assert process.stdout is not None
    while line := process.stdout.readline():
        if line.startswith("{"):
            return json.loads(line)  # type: ignore[no-any-return]
    raise SystemExit(f"a worker stopped (exit status {process.wait()})")


def _report_side_by_side(
    figures: dict[str, list[dict[str, float]]], trees: dict[str, Path]
) -> None:
    ours, theirs = figures["this tree"], figures["against"]
    print(f"ms CPU per request, medians of {len(ours)} bursts started together")
    print(f"  this tree: {trees['this tree']}\n  against:   {trees['against']}")
    for name in ours[0]:
        mine = statistics.median(f[name] for f in ours)
        other = statistics.median(f[name] for f in theirs)
        ratio = statistics.median(a[name] / b[name] for a, b in zip(ours, theirs, strict=True))
        print(f"{name}: this tree {mine:.3f}, against {other:.3f}, ratio {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instance", type=Path, help="keep the instance (and its caches) here")
    parser.add_argument("--flows", type=Path, help="another bot's flows folder (copied)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--against", type=Path, help="another source tree, side by side")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args, args.instance)
        return
    if args.against:
        with tempfile.TemporaryDirectory() as scratch:
            side_by_side(args, Path(scratch))
        return
    if args.instance:
        args.instance.mkdir(parents=True, exist_ok=True)
        run(args, args.instance)
        return
    with tempfile.TemporaryDirectory() as scratch:
        run(args, Path(scratch))


if __name__ == "__main__":
    main()
