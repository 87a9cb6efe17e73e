"""Repeated questions side by side: this tree's server and another tree's, loaded at once.

    python -m benchmarks.repeated --against TREE [--rounds 3] [--seconds 5] [--bot 150|example]
        [--threads 8] [--instance DIR]

The load test's repeated step (`make loadtest`): the same 20 questions asked
again and again at 16 connections, answered from the matcher's cache. One
`botbuilder serve` runs this source tree and one runs `--against` (e.g. a
`git archive` of an older commit); each is loaded by `wrk` (when installed) and
then by the load test's Python client, both servers at the same time, so a
busy machine slows them alike. Prints the medians over `--rounds` of the
rate and of the server's CPU time per request (the figure to trust on a
shared machine). `--instance` is copied into both servers' instance folders
first (an embedding cache: neither then encodes the bot's phrasings).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import native_load
from benchmarks.loadtest import ROOT, Server, _until_complete, large_bot, load

CONNECTIONS = 16


def _measure(servers: dict[str, Server], run: Callable[[Server], tuple[int, float]]) -> Any:
    """`run` on every server at once; per server (requests a second, server CPU ms a request)."""
    found: dict[str, tuple[float, float]] = {}

    def one(name: str, server: Server) -> None:
        cpu = server.cpu_seconds()
        requests, seconds = run(server)
        used = (server.cpu_seconds() - cpu) * 1000
        found[name] = (requests / seconds if seconds else 0.0, used / max(1, requests))

    threads = [threading.Thread(target=one, args=item) for item in servers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another source tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per server")
    parser.add_argument("--workers", type=int, default=1, help="`serve --workers` of this tree")
    parser.add_argument("--against-threads", type=int, help="the other tree's (default: --threads)")
    parser.add_argument("--against-workers", type=int, default=1)
    parser.add_argument("--bot", choices=("150", "example"), default="150")
    parser.add_argument("--instance", type=Path, help="an instance folder to start both from")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="botbuilder-repeated-") as tmp:
        work = Path(tmp)
        flows, questions = large_bot(work, example=args.bot == "example")
        trees = {"this tree": ROOT, "against": args.against.resolve()}
        servers = {}
        for n, (name, source) in enumerate(trees.items()):
            instance = work / f"instance{n}"
            if args.instance is not None:
                shutil.copytree(args.instance, instance, dirs_exist_ok=True)
            ours = name == "this tree"
            threads = args.threads if ours else args.against_threads or args.threads
            workers = args.workers if ours else args.against_workers
            servers[name] = Server(flows, instance, threads=threads, source=source, workers=workers)
        try:
            figures = _rounds(servers, [{"text": q} for q in questions[:20]], args)
        finally:
            for server in servers.values():
                server.stop()
    _report(figures, args)
    return 0


def _rounds(servers: dict[str, Server], bodies: list[dict[str, str]], args: Any) -> Any:
    for server in servers.values():
        server.start()
        _until_complete(server)
    texts = [body["text"] for body in bodies]

    def wrk(server: Server) -> tuple[int, float]:
        result = native_load.run([server.port], "/api/v1/match", bodies, CONNECTIONS, args.seconds)
        return result.requests, result.seconds

    def python(server: Server) -> tuple[int, float]:
        step = load([server.port], "repeated", CONNECTIONS, itertools.cycle(texts), args.seconds)
        return len(step.latencies), step.seconds

    clients = {"Python client": python}
    if native_load.available():
        clients = {"wrk": wrk, **clients}
    _measure(servers, python)  # warm-up: every question asked once, then cached
    figures: dict[str, dict[str, list[tuple[float, float]]]] = {
        client: {name: [] for name in servers} for client in clients
    }
    for n in range(args.rounds):
        for client, run in clients.items():
            for name, figure in _measure(servers, run).items():
                figures[client][name].append(figure)
        print(f"round {n + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    return figures


def _report(figures: Any, args: Any) -> None:
    print(
        f"\nrepeated questions, {CONNECTIONS} connections, medians of {args.rounds} rounds of "
        f"{args.seconds:.0f} s (both servers loaded at once)"
    )
    print(f"this tree: {args.workers} process(es) × {args.threads} threads")
    against = args.against_threads or args.threads
    print(f"against:   {args.against}, {args.against_workers} process(es) × {against} threads")
    header = f"{'client':<14} {'tree':<10} {'per s':>7} {'server CPU ms/req':>18}  rounds (ms/req)"
    print(header + "\n" + "-" * len(header))
    for client, by_tree in figures.items():
        for name, values in by_tree.items():
            rate = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            shown = ", ".join(f"{v[1]:.2f}" for v in values)
            print(f"{client:<14} {name:<10} {rate:>7.0f} {cpu:>18.2f}  {shown}")


if __name__ == "__main__":
    sys.exit(main())
