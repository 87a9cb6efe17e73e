"""`python -m benchmarks.gaps_command [--runs 3]`: `botbuilder insights --json` (180 days) on
the 100,000 generated conversations, before and after the gap finder's lighter scan.

"before" is the tree at `gaps_first_look.BEFORE` (a `git archive` in a
temporary folder), "now" this tree. Each run is a process of its own on a
fresh copy of `benchmarks.generated_db`'s database (so the gap finder's first
scan is measured every time), with an instance folder per tree warmed by one
run first (the bot's index and embedding cache, as a server's instance has
them), alternating; the CPU time of the child process, medians of `--runs`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.gaps_first_look import BEFORE, ROOT, _tree
from benchmarks.generated_db import generated_database, generated_url


def _run(tree: Path, source: Path, folder: Path, name: str, since: str) -> tuple[float, float]:
    """CPU and wall seconds of one command on a fresh copy of `source`."""
    database = folder / f"{name}.sqlite"
    shutil.copy(source, database)
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "BOTBUILDER_DATABASE_URL": generated_url(database),
    }
    command = [sys.executable, "-m", "botbuilder.cli", "insights", str(tree / "flows"), "--json"]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [*command, "--instance", str(folder / f"instance-{name}"), "--since", since],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    database.unlink()
    return (after.ru_utime + after.ru_stime) - (used.ru_utime + used.ru_stime), wall


def main(runs: int = 3) -> None:
    source = generated_database(100_000)
    since = (date.today() - timedelta(days=179)).isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees = {"before": _tree(BEFORE, folder / "before"), "now": ROOT}
        for name, tree in trees.items():
            _run(tree, source, folder, name, since)  # warms the instance
        timed: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for _ in range(runs):
            for name, tree in trees.items():
                timed[name].append(_run(tree, source, folder, name, since))
    print(
        f"botbuilder insights --json, 180 days, 100,000 generated conversations, median of "
        f"{runs} (before = {BEFORE[:7]}; load {os.getloadavg()[0]:.1f}):"
    )
    for name, values in timed.items():
        cpus = [c for c, _ in values]
        print(
            f"  {name:<6} CPU {statistics.median(cpus):5.1f} s (of {', '.join(f'{c:.1f}' for c in cpus)}),"
            f" wall {statistics.median(w for _, w in values):5.1f} s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
