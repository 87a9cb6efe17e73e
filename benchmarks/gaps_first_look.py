"""`python -m benchmarks.gaps_first_look` (also part of `python -m benchmarks`): the inbox
page's first look at an old, never-read 10,000-question inbox, before and after the fix.

"before" is the tree at `BEFORE`, "fix" the tree at `FIX` (the first-look fix
alone; each a `git archive` in a temporary folder), "now" this tree (with the
later grouping rule: its groups differ). Each look runs in a process of its
own on a copy of the same generated database and of the same embedding cache
(the bot's example questions encoded, as a running server has them),
alternating, `ROUNDS` each.

Per look: the wall time of the page's three reads (suggestions, loose
questions, how many are unread) as the server's finder makes them (the reader
thread on), and, with the reader off, the process's CPU time of the look
itself (`suggestions()`: with the reader on the process's CPU would include
the reader's). "before" and "fix" must show the same suggestions.

What the first look cost before (found with cProfile): encoding every example
question of the bot (their topic words, 510 on the HWU64 bot) to find the
groups' homes, while the reader thread held the encoder with 256 questions at
a time; and 9,880 ORM objects to take the questions in.
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
BEFORE = "49b8699621a8294a972d7d71208f3667fa0b4c80"  # the tree before the first-look fix
FIX = "737ac3a6b3c49b1424ed7748beb7084360508dee"  # the first-look fix (5300d16 needs content/lazy.py, added here)
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
finder = GapFinder(database, runtime, clock=lambda: later, read_per_look=READ_PER_LOOK,
                   read_behind=sys.argv[4] == "on")
wall, cpu = time.perf_counter(), time.process_time()
found = finder.suggestions()
cpu = time.process_time() - cpu
loose = finder.loose_questions()
unread = finder.unread()
wall = time.perf_counter() - wall
shown = sorted((s.kind, s.intent, s.title, s.questions) for s in found)
print(json.dumps({"wall": wall, "cpu": cpu, "suggestions": shown, "loose": len(loose),
                  "unread": unread}))
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
    tree: Path, base: tuple[Path, Path], flows: Path, reader: str, run: Path
) -> dict[str, Any]:
    run.mkdir()
    database, cache = run / "gaps.sqlite", run / "embeddings.sqlite"
    shutil.copy(base[0], database)
    shutil.copy(base[1], cache)
    done = subprocess.run(
        [sys.executable, "-c", _LOOK, str(database), str(cache), str(flows), reader],
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
    names = ("before", "fix", "now")
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    shown: dict[str, list[Any]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees = {
            "before": _tree(BEFORE, folder / "before"),
            "fix": _tree(FIX, folder / "fix"),
            "now": ROOT,
        }
        base = _prepare(folder, flows)
        for n in range(rounds):
            for name, tree in trees.items():
                walls[name].append(_look(tree, base, flows, "on", folder / f"{name}{n}on")["wall"])
                off = _look(tree, base, flows, "off", folder / f"{name}{n}off")
                cpus[name].append(off["cpu"])
                shown[name].append(off["suggestions"])
    same = shown["before"] == shown["fix"]
    print(
        f"inbox, first look at {UNREAD:,} never-read questions, median of {rounds}, side by "
        f"side (before = {BEFORE[:7]}, fix = {FIX[:7]}, now = this tree):"
    )
    for name in names:
        print(
            f"  {name:<6} the page's reads, wall (reader on) {_median(walls[name])};"
            f" the look, CPU (reader off) {_median(cpus[name])}; {len(shown[name][0])} suggestions"
        )
    print(f"  the same suggestions before and after the fix: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
