"""Cold start per encoder: a fresh process that builds the example bot's matcher.

Each run is a new Python process (imports, model load, encoding, training,
calibration), timed from before the first import to a matcher ready to
answer, with its peak RSS. "first start" has an empty embedding cache and no
saved index; "restart" finds both, as a server that restarts does. "quick first" is a
first start as `serve` makes it: answering from a provisional index (see
matching/matcher.py), with the time to the full index after it.

`--serve`: the same for a whole `botbuilder serve` process, from spawn to
`/ready` (issue 14's targets: cold <= 10 s, cached <= 2 s on the 150-intent
bot), wall and CPU seconds, medians of `--runs`; `--against DIR` interleaves
the same runs of another source tree (e.g. a `git archive` of an older
commit) so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["cold_start", "main"]

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import time
started = time.perf_counter()
import json, resource, sys
from botbuilder.content.loader import load_bot
from botbuilder.matching.encoder import CachedEncoder, encoder_for
from botbuilder.matching.index_store import IndexStore
from botbuilder.matching.matcher import Matcher
cache = sys.argv[2]
bot = load_bot(sys.argv[3])
quick = sys.argv[4] == "quick"
encoder = CachedEncoder(encoder_for(sys.argv[1]), cache)
matcher = Matcher(bot, encoder, store=IndexStore(cache), quick=quick)
matcher.match("hoeveel kost het lidmaatschap")
seconds, cpu = time.perf_counter() - started, time.process_time()
provisional = matcher.provisional
matcher.finish()  # a quick start's full index, as the server's background thread builds it
print(json.dumps({
    "seconds": round(seconds, 2),
    "cpu": round(cpu, 2),
    "provisional": provisional,
    "finished": round(time.perf_counter() - started, 2),
    "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    "loaded": matcher.stats.loaded,
    "torch": "torch" in sys.modules,
}))
"""


KINDS = ("first start", "quick first", "restart")


def cold_start(
    model: str,
    flows: Path = ROOT / "flows",
    source: Path = ROOT,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, dict[str, object]]:
    """Seconds and peak RSS of a first start (full, and quick as `serve` does it:
    answering from a provisional index) and a restart with `model`, running the
    botbuilder of `source` (a source tree: this one, or e.g. a `git archive`)."""
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The restart finds the index the quick start finished and saved.
        folders = {
            "first start": ("full", "a"),
            "quick first": ("quick", "b"),
            "restart": ("full", "b"),
        }
        for run in kinds:
            quick, folder = folders[run]
            cache = str(Path(tmp) / folder / "embeddings.sqlite")
            Path(cache).parent.mkdir(exist_ok=True)
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, model, cache, str(flows), quick],
                cwd=source,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            figures[run] = json.loads(out.strip().splitlines()[-1])
    return figures


def main(
    models: list[str],
    runs: int = 1,
    against: Sequence[str] = (),
    kinds: tuple[str, ...] = KINDS,
) -> None:
    """Each kind of start `runs` times per source tree, interleaved; medians."""
    sources = [ROOT, *(Path(a).resolve() for a in against)]
    if "restart" in kinds:
        kinds = (*kinds, "quick first")  # the restart needs the index it saves
    kinds = tuple(k for k in KINDS if k in kinds)
    print(
        "cold start of the example bot's matcher, a new process each "
        f"(median of {runs}: wall s, CPU s, peak RSS):"
    )
    for model in models:
        found: dict[tuple[Path, str], list[dict[str, Any]]] = {}
        for _ in range(runs):
            for source in sources:
                for run, f in cold_start(model, source=source, kinds=kinds).items():
                    found.setdefault((source, run), []).append(f)
        for (source, run), fs in found.items():

            def median(key: str, fs: list[dict[str, Any]] = fs) -> float:
                return float(statistics.median(float(f[key]) for f in fs))

            label = "" if len(sources) == 1 else f"{source.name:<14} "
            print(
                f"  {model:<22} {label}{run:<12} {median('seconds'):6.2f} s"
                f" ({median('cpu'):5.2f} s CPU) {median('rss_mb'):5.0f} MB"
                f"  torch imported: {fs[0]['torch']}"
                + (
                    f"  provisional, full index after {median('finished'):.2f} s"
                    if fs[0]["provisional"]
                    else ""
                )
            )


def serve_starts(
    source: Path, flows: Path, work: Path, runs: int, cold_runs: int
) -> dict[str, list]:
    """(wall, CPU) seconds to /ready of `serve` from `source`: cold (new instance
    folder) and cached (restarted on the instance folder of the last cold start)."""
    from benchmarks.loadtest import Server

    figures: dict[str, list] = {"cold": [], "complete": [], "cached": []}
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(source)
    try:
        for n in range(cold_runs):
            server = Server(flows, work / f"{source.name}-{n}")
            figures["cold"].append((server.start(), server.ready_cpu))
            figures["complete"].append(_until_complete(server, time.monotonic()))
            server.stop()
        for _ in range(runs):
            figures["cached"].append((server.start(), server.ready_cpu))
            server.stop()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    return figures


def _until_complete(server: Any, ready_at: float, timeout: float = 900) -> tuple[float, float]:
    """(wall, CPU) seconds from spawn until /ready says the index is complete
    (a quick first start finishes in the background; stopped before, nothing is saved)."""
    from benchmarks.loadtest import request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = request(server.port, "GET", "/ready", timeout=10)
        if status == 200 and body.get("index", "complete") == "complete":
            break
        time.sleep(0.2)
    spawned = server.ready_seconds + (time.monotonic() - ready_at)
    return spawned, server.cpu_seconds()


def serve_main(args: argparse.Namespace) -> None:
    from benchmarks.loadtest import large_bot

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        flows, _ = large_bot(work / "bot", example=args.bot == "example")
        sources = [ROOT, *(Path(a).resolve() for a in args.against)]
        results = {s: serve_starts(s, flows, work, args.runs, args.cold_runs) for s in sources}
    print(f"`botbuilder serve` to /ready, {args.bot} bot (median wall s / CPU s):")
    for source, figures in results.items():
        row = []
        for kind in ("cold", "complete", "cached"):
            walls, cpus = zip(*figures[kind], strict=True) if figures[kind] else ((), ())
            if walls:
                row.append(
                    f"{kind} {statistics.median(walls):6.2f} / {statistics.median(cpus):5.2f}"
                    f" ({len(walls)} runs)"
                )
        print(f"  {str(source):<28} " + "   ".join(row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["multilingual-e5-small", "all-MiniLM-L6-v2"])
    parser.add_argument("--serve", action="store_true", help="time `botbuilder serve` to /ready")
    parser.add_argument("--bot", choices=("large", "example"), default="large")
    parser.add_argument(
        "--runs", type=int, default=3, help="cached starts (or matcher starts) per source"
    )
    parser.add_argument("--cold-runs", type=int, default=1, help="cold starts per source")
    parser.add_argument("--against", action="append", default=[], metavar="DIR")
    parser.add_argument(
        "--kind", action="append", choices=KINDS, help="matcher starts to time (default: all)"
    )
    arguments = parser.parse_args()
    if arguments.serve:
        serve_main(arguments)
    else:
        main(arguments.models, arguments.runs, arguments.against, tuple(arguments.kind or KINDS))
