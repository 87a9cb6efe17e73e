"""Cold start per encoder: a fresh process that builds the example bot's matcher.

Each run is a new Python process (imports, model load, encoding, training,
calibration), timed from before the first import to a matcher ready to
answer, with its peak RSS. "first start" has an empty embedding cache and no
saved index; "restart" finds both, as a server that restarts does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

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
matcher = Matcher(bot, CachedEncoder(encoder_for(sys.argv[1]), cache), store=IndexStore(cache))
matcher.match("hoeveel kost het lidmaatschap")
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 2),
    "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    "loaded": matcher.stats.loaded,
    "torch": "torch" in sys.modules,
}))
"""


def cold_start(model: str, flows: Path = ROOT / "flows") -> dict[str, dict[str, object]]:
    """Seconds and peak RSS of a first start and a restart with `model`."""
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = str(Path(tmp) / "embeddings.sqlite")
        for run in ("first start", "restart"):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, model, cache, str(flows)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            figures[run] = json.loads(out.strip().splitlines()[-1])
    return figures


def main(models: list[str]) -> None:
    print("cold start of the example bot's matcher, a new process each (seconds, peak RSS):")
    for model in models:
        for run, f in cold_start(model).items():
            print(
                f"  {model:<24} {run:<12} {f['seconds']:6.2f} s  {f['rss_mb']:5} MB"
                f"  torch imported: {f['torch']}"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["multilingual-e5-small", "all-MiniLM-L6-v2"])
