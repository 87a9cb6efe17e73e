"""What the API's rate limits cost: one counted request, and a refused one through the app.

    python -m benchmarks.rate_limits [--requests 300]

On a scratch SQLite file: the median time of `DatabaseCounters.incr` (the one
upsert every limited request makes, per limit), and of a refused
`POST /api/v1/conversations` through the Flask test client (the counting, the
lookup of when the window ends, and the 429), with two app instances on one
database taking turns, as two replicas would.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from botbuilder.conversations.rate_limits import DatabaseCounters
from botbuilder.conversations.store import Storage
from botbuilder.server import create_app

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main(requests: int = 300) -> None:
    print(f"rate limits: {requests} counted and {requests} refused requests (SQLite)")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        counters = DatabaseCounters(Storage(f"sqlite:///{root / 'counters.sqlite'}"))
        times = []
        for i in range(requests):
            start = time.perf_counter()
            counters.incr(f"key{i % 50}", 60)
            times.append(time.perf_counter() - start)
        print(f"  counter upsert           {_median_ms(times):7.2f} ms")

        flows = root / "flows"
        shutil.copytree(ROOT / "tests" / "fixtures" / "small_bot", flows)
        with (flows / "bot.yml").open("a", encoding="utf-8") as fh:
            fh.write("limits:\n  conversations_per_ip: 1/hour\n")
        config = {
            "FLOWS_DIR": str(flows),
            "INSTANCE_PATH": str(root / "instance"),
            "DATABASE_URL": f"sqlite:///{root / 'app.sqlite'}",
            "RELOAD_INTERVAL": 0,
            "SCHEDULER": "off",
        }
        replicas = [create_app(config).test_client(), create_app(config).test_client()]
        times, statuses = [], set()
        for i in range(requests + 1):
            start = time.perf_counter()
            response = replicas[i % 2].post("/api/v1/conversations", json={})
            if i:  # the first one is allowed
                times.append(time.perf_counter() - start)
                statuses.add(response.status_code)
        assert statuses == {429}, statuses
        print(
            f"  refused request (429)    {_median_ms(times):7.2f} ms  (two replicas, one database)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    main(parser.parse_args().requests)
