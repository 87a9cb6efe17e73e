"""CPU time of loading the 150-intent bot: the first load (parsing) and the loader's own checks
on a parsed file (the median of 8 more loads, the parse cache holding), where the problems'
texts are made (content/yaml_source.py, errors.Message).

    python -m benchmarks.loader_checks [rounds]   # 3 rounds in this tree by default

Compare two trees by running it in each (e.g. one from `git archive`), side by side.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def _round(flows: Path) -> tuple[float, float, float]:
    from botbuilder.content.loader import inspect_bot
    from botbuilder.content.yaml_source import _parsed

    _parsed.clear()
    times = []
    for _ in range(9):
        started = time.process_time()
        bot, problems = inspect_bot(flows)
        times.append(time.process_time() - started)
        assert bot is not None, problems
    return times[0] * 1000, statistics.median(times[1:]) * 1000, min(times[1:]) * 1000


def main(rounds: int = 3) -> None:
    from benchmarks.loadtest import large_bot

    with tempfile.TemporaryDirectory() as folder:
        flows, _ = large_bot(Path(folder))
        for _ in range(rounds):
            first, checks, fastest = _round(flows)
            print(
                f"first load {first:.0f} ms CPU; checks on parsed files {checks:.1f} ms CPU "
                f"(median), {fastest:.1f} ms (fastest)"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
