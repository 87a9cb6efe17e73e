"""`python -m benchmarks.gaps_first_look` (also part of `python -m benchmarks`): the inbox
page's first look at an old, never-read 10,000-question inbox, before and after a change.

"before" is the tree at `BEFORE` (a `git archive` in a temporary folder),
"now" this tree, "now64" this tree reading as many questions a look as
before (64), to compare the suggestions of the same questions. Each look runs in a process of its own on a copy of the same
generated database and of the same embedding cache (the one a server that
loaded the bot has: its example questions as the matcher encodes them),
alternating, `ROUNDS` each.

Per look, as the server's finder makes it (the reader thread on): the wall
time of the page's three reads (suggestions, loose questions, how many are
unread) and the CPU time of the thread that makes them (the page's own work,
not the reader's, which runs beside it once the look has read its batch);
and, in a look of its own with the reader off, the process's CPU time of
`suggestions()` alone (the figure measured before). "before" and "now64" should
show the same suggestions, or say why not.

History (docs/gaps.md): 49b8699 -> 737ac3a, the groups' homes encoded only
the intents they could reach (11.6 -> 4.6 s CPU); f008bc2 -> this tree: no
scikit-learn on the page, the homes read the matcher's cached example vectors,
`READ_PER_LOOK` 32 instead of 64, a lighter scan.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from benchmarks.gaps import SHARED_BENCH, _fill, bench_questions
from botbuilder.db.engine import Database
from botbuilder.matching.runtime import BotRuntime

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "f008bc24ea48779d77610bd902db2523f5d891a9"  # before the second first-look change
ROUNDS = 3
UNREAD = 9_880

# One look, in a process of its own (argv: database, cache, flows, reader on or off).
_LOOK = """
import json, sys, time
from datetime import UTC, datetime, timedelta
from botbuilder.db.engine import Database
from botbuilder.insights.gaps import READ_PER_LOOK, GapFinder
from botbuilder.matching.runtime import BotRuntime
database = Database(f"sqlite:///{sys.argv[1]}")
runtime = BotRuntime(sys.argv[3], cache_path=sys.argv[2])
runtime.current().matcher.query_encoder.encode(["warm up"])
later = datetime.now(UTC) + timedelta(hours=1)
per_look = int(sys.argv[5]) if len(sys.argv) > 5 else READ_PER_LOOK
finder = GapFinder(database, runtime, clock=lambda: later, read_per_look=per_look,
                   read_behind=sys.argv[4] == "on")
wall, cpu, page = time.perf_counter(), time.process_time(), time.thread_time()
found = finder.suggestions()
cpu = time.process_time() - cpu
loose = finder.loose_questions()
unread = finder.unread()
wall, page = time.perf_counter() - wall, time.thread_time() - page
shown = sorted((s.kind, s.intent, s.title, s.questions) for s in found)
print(json.dumps({"wall": wall, "cpu": cpu, "page": page, "suggestions": shown,
                  "loose": len(loose), "unread": unread}))
"""


def _tree(commit: str, into: Path) -> Path:
    """The project's files at `commit`, unpacked into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _prepare(folder: Path, flows: Path) -> tuple[Path, Path]:
    """A database of `UNREAD` old handed-off questions and the embedding cache a
    server that loaded the bot has."""
    database = Database(f"sqlite:///{folder / 'base.sqlite'}")
    _fill(database, bench_questions()[:UNREAD], datetime.now(UTC) - timedelta(days=1))
    database.close()
    BotRuntime(flows, cache_path=folder / "base-embeddings.sqlite")
    return folder / "base.sqlite", folder / "base-embeddings.sqlite"


def _look(
    tree: Path, base: tuple[Path, Path], flows: Path, reader: str, run: Path, per_look: list[str]
) -> dict[str, Any]:
    run.mkdir()
    database, cache = run / "gaps.sqlite", run / "embeddings.sqlite"
    shutil.copy(base[0], database)
    shutil.copy(base[1], cache)
    done = subprocess.run(
        [sys.executable, "-c", _LOOK, str(database), str(cache), str(flows), reader, *per_look],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"the look in {tree} failed:\n{done.stderr[-3000:]}")
    shutil.rmtree(run)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f} s (of {', '.join(f'{v:.2f}' for v in values)})"


def main(rounds: int = ROUNDS) -> None:
    if not SHARED_BENCH.exists():
        print("(no ../shared/bench: the first-look benchmark reads its questions there)")
        return
    flows = SHARED_BENCH / "hwu64-10shot" / "flows"
    names = ("before", "now", "now64")
    walls: dict[str, list[float]] = {n: [] for n in names}
    pages: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    shown: dict[str, list[Any]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees = {"before": _tree(BEFORE, folder / "before"), "now": ROOT, "now64": ROOT}
        base = _prepare(folder, flows)
        for n in range(rounds):
            for name, tree in trees.items():
                per_look = ["64"] if name == "now64" else []  # as many as before read
                on = _look(tree, base, flows, "on", folder / f"{name}{n}on", per_look)
                walls[name].append(on["wall"])
                pages[name].append(on["page"])
                off = _look(tree, base, flows, "off", folder / f"{name}{n}off", per_look)
                cpus[name].append(off["cpu"])
                shown[name].append(off["suggestions"])
    print(
        f"inbox, first look at {UNREAD:,} never-read questions, median of {rounds}, side by "
        f"side (before = {BEFORE[:7]}, now = this tree; load {os.getloadavg()[0]:.1f}):"
    )
    for name in names:
        print(
            f"  {name:<6} the page's three reads (reader on): wall {_median(walls[name])},"
            f" CPU {_median(pages[name])}\n"
            f"         suggestions() alone (reader off), CPU {_median(cpus[name])};"
            f" {len(shown[name][0])} suggestions"
        )
    before = set(map(_key, shown["before"][0]))
    for name in names[1:]:
        now = set(map(_key, shown[name][0]))
        print(
            f"  suggestions of before and {name}: {len(before & now)} the same;"
            f" only before: {len(before - now)}; only {name}: {len(now - before)}"
        )
        for kind, intent, title, questions in sorted(before ^ now):
            where = "before" if (kind, intent, title, questions) in before else name
            print(f"    only {where}: {kind} {intent} ({len(questions)} questions)")


def _key(suggestion: list[Any]) -> tuple[Any, ...]:
    kind, intent, title, questions = suggestion
    return kind, intent, title, tuple(questions)


if __name__ == "__main__":
    main()
