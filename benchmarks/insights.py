"""Insights figures on 100,000 generated conversations: `figures()` and `botbuilder insights`.

    python -m benchmarks.insights [--conversations 100000] [--runs 5] [--no-command]

The median of `--runs` calls of `insights.figures.figures` for the dashboard's
default period (the last 30 days), the same with a language, 180 and 365
days, each side by side: counting every stored row (`keep=False`, as before
the kept days), the first look (counts the finished days and keeps them; the
kept days are cleared before each run) and the next looks (kept days);
`insights.aggregates.seal` of every day; `figures()` again once the days are
sealed (read from the aggregates); and `botbuilder insights --json` for 30
and 180 days as its own process (Python start, the model, the gap finder, the
figures), wall and CPU time: its first run, which also lets the gap finder
encode every missed question once and keeps the finished days, then the
median of the next runs. The database is
`benchmarks.generated_db`'s, copied to a scratch folder first, so the sealed
days and the gap finder's rows stay out of the cache.
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
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from benchmarks.generated_db import generated_database, generated_url
from botbuilder.content.loader import load_bot
from botbuilder.db.engine import Database
from botbuilder.insights.aggregates import Rollup, RollupMark, seal
from botbuilder.insights.figures import Period, bot_timezone, figures

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"


def _median(
    runs: int, work: Callable[[], Any], before: Callable[[], Any] | None = None
) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of this process (the machine may be shared:
    SQLite runs in this process, so its CPU time is the work itself), and the result;
    `before` runs ahead of each run, untimed."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        if before is not None:
            before()
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _command(url: str, instance: Path, since: date) -> tuple[float, float]:
    """Wall and CPU seconds of one `botbuilder insights --json --since SINCE` process."""
    env = {**os.environ, "BOTBUILDER_DATABASE_URL": url}
    command = [sys.executable, "-m", "botbuilder.cli", "insights", str(FLOWS), "--json"]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [*command, "--instance", str(instance), "--since", since.isoformat()],
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (used.ru_utime + used.ru_stime)


def _clear_kept(database: Database) -> None:
    with database.engine.begin() as c:
        c.execute(delete(Rollup))
        c.execute(delete(RollupMark))


def _figures(database: Database, bot: Any, today: date, timezone: str, runs: int) -> None:
    month = Period(today - timedelta(days=29), today, timezone=timezone)
    cases = {
        "last 30 days": month,
        "last 30 days, language en": Period(month.since, month.until, "en", timezone),
        "180 days": Period(today - timedelta(days=179), today, timezone=timezone),
        "365 days": Period(today - timedelta(days=364), today, timezone=timezone),
    }
    print(f"  {'figures()':<28} {'every row counted':>22} {'first look':>22} {'kept days':>22}")
    for name, period in cases.items():
        cells = []
        for keep, before in ((False, None), (True, lambda: _clear_kept(database)), (True, None)):
            wall, cpu, _ = _median(runs, partial(figures, database, period, bot, keep=keep), before)
            cells.append(f"{wall * 1000:6.0f} ms (CPU {cpu * 1000:5.0f})")
        print(f"  {name:<28} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22}")


def insights(conversations: int = 100_000, runs: int = 5, command: bool = True) -> None:
    source = generated_database(conversations)
    bot = load_bot(FLOWS)
    timezone = bot_timezone(bot)
    today = date.today()
    print(f"insights figures, {conversations:,} generated conversations over 180 days")
    print(f"(median of {runs} runs; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "insights.sqlite"
        shutil.copy(source, path)
        database = Database(generated_url(path))
        _figures(database, bot, today, timezone, runs)
        _clear_kept(database)
        started = time.perf_counter()
        sealed = seal(database, today - timedelta(days=29), timezone, bot.settings.handoff.teams)
        print(
            f"  {'seal() of every day but the last 30':<42} "
            f"{(time.perf_counter() - started) * 1000:7.0f} ms   ({len(sealed)} days)"
        )
        half = Period(today - timedelta(days=179), today, timezone=timezone)
        wall, cpu, _ = _median(runs, lambda: figures(database, half, bot, keep=False))
        print(
            f"  {'figures(), 180 days, 150 of them sealed':<42} {wall * 1000:7.0f} ms  "
            f"(CPU {cpu * 1000:5.0f} ms)"
        )
        database.close()
        if command:
            _commands(source, Path(tmp), today, runs)


def _commands(source: Path, tmp: Path, today: date, runs: int) -> None:
    """`botbuilder insights --json` on a fresh copy: the first run per period, then the
    median of the next ones (the gap finder encodes every missed question once)."""
    path = tmp / "command.sqlite"
    shutil.copy(source, path)
    url, instance = generated_url(path), tmp / "instance"
    for days in (30, 180):
        since = today - timedelta(days=days - 1)
        wall, cpu = _command(url, instance, since)
        print(
            f"  botbuilder insights --json, {days} days, first run   {wall:5.1f} s (CPU {cpu:5.1f} s)"
        )
        timed = [_command(url, instance, since) for _ in range(max(1, runs // 2))]
        wall = statistics.median(t[0] for t in timed)
        cpu = statistics.median(t[1] for t in timed)
        print(
            f"  botbuilder insights --json, {days} days, next runs   {wall:5.1f} s (CPU {cpu:5.1f} s)"
        )


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
