"""Insights figures on 100,000 generated conversations: `figures()` and `botbuilder insights`.

    python -m benchmarks.insights [--conversations 100000] [--runs 5] [--no-command]

The median of `--runs` calls of `insights.figures.figures` for the dashboard's
default period (the last 30 days), the same with a language, and the whole
180 days; `insights.aggregates.seal` of every day; `figures()` again once the
days are sealed (read from the aggregates); and `botbuilder insights --json`
as its own process (Python start, the model, the gap finder, the figures):
its first run, which also lets the gap finder encode every missed question
once, then the median of the next runs. The database is
`benchmarks.generated_db`'s, copied to a scratch folder first, so the sealed
days and the gap finder's rows stay out of the cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.generated_db import generated_database, generated_url
from botbuilder.content.loader import load_bot
from botbuilder.db.engine import Database
from botbuilder.insights.aggregates import seal
from botbuilder.insights.figures import Period, bot_timezone, figures

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"


def _median(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of this process (the machine may be shared:
    SQLite runs in this process, so its CPU time is the work itself), and the result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _command(url: str, instance: Path, since: date) -> float:
    env = {**os.environ, "BOTBUILDER_DATABASE_URL": url}
    command = [sys.executable, "-m", "botbuilder.cli", "insights", str(FLOWS), "--json"]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--instance", str(instance), "--since", since.isoformat()],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def insights(conversations: int = 100_000, runs: int = 5, command: bool = True) -> None:
    source = generated_database(conversations)
    bot = load_bot(FLOWS)
    timezone = bot_timezone(bot)
    today = date.today()
    month = Period(today - timedelta(days=29), today, timezone=timezone)
    print(f"insights figures, {conversations:,} generated conversations over 180 days")
    print(f"(median of {runs} runs; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "insights.sqlite"
        shutil.copy(source, path)
        database = Database(generated_url(path))
        cases = {
            "figures(), last 30 days": month,
            "figures(), last 30 days, language en": Period(
                month.since, month.until, "en", timezone
            ),
            "figures(), 180 days": Period(today - timedelta(days=179), today, timezone=timezone),
        }
        for name, period in cases.items():
            wall, cpu, result = _median(runs, lambda p=period: figures(database, p, bot))
            print(
                f"  {name:<42} {wall * 1000:7.0f} ms  (CPU {cpu * 1000:5.0f} ms; "
                f"{result['conversations']:,} conversations)"
            )
        started = time.perf_counter()
        sealed = seal(database, today - timedelta(days=29), timezone, bot.settings.handoff.teams)
        print(
            f"  {'seal() of every day but the last 30':<42} "
            f"{(time.perf_counter() - started) * 1000:7.0f} ms   ({len(sealed)} days)"
        )
        wall, cpu, _ = _median(runs, lambda: figures(database, cases["figures(), 180 days"], bot))
        print(
            f"  {'figures(), 180 days, 150 of them sealed':<42} {wall * 1000:7.0f} ms  "
            f"(CPU {cpu * 1000:5.0f} ms)"
        )
        database.close()
        if command:
            instance = Path(tmp) / "instance"
            url = generated_url(path)
            first = _command(url, instance, month.since)
            print(
                f"  {'botbuilder insights --json, first run':<42} {first:7.1f} s    "
                "(the gap finder encodes every missed question once)"
            )
            seconds = statistics.median(
                _command(url, instance, month.since) for _ in range(max(1, runs // 2))
            )
            print(f"  {'botbuilder insights --json, next runs':<42} {seconds:7.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-command", action="store_true", help="time figures() only, not the command"
    )
    args = parser.parse_args()
    insights(args.conversations, args.runs, not args.no_command)


if __name__ == "__main__":
    main()
