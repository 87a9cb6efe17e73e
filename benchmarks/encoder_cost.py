"""What an encoder costs by itself: load time, memory and one question's encode.

`python -m benchmarks.encoder_cost [MODEL ...]` (default: e5 and USE). Each
model runs in a fresh process, one after the other: seconds and CPU seconds
from before the first import to the model loaded (one text encoded), peak
RSS after that, and the median CPU milliseconds of encoding one question
(60 questions, Dutch and English, each encoded alone as a member's question
is). CPU time rather than wall time: the figures hold on a busy machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import time
started, cpu0 = time.perf_counter(), time.process_time()
import json, resource, statistics, sys
from botbuilder.matching.encoder import encoder_for
encoder = encoder_for(sys.argv[1])
encoder.encode(["hallo"])
load, load_cpu = time.perf_counter() - started, time.process_time() - cpu0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
questions = [
    "hoeveel kost het lidmaatschap", "kan ik mn ww ff resetten", "wanneer is de volgende rit",
    "how do I cancel my membership", "where is the club house", "wat doe ik bij een klacht",
] * 10
times = []
for q in questions:
    t = time.process_time()
    encoder.encode([q])
    times.append(time.process_time() - t)
print(json.dumps({
    "model": encoder.name, "load_s": round(load, 2), "load_cpu_s": round(load_cpu, 2),
    "rss_mb": round(rss), "question_cpu_ms": round(1000 * statistics.median(times), 2),
    "torch": "torch" in sys.modules,
}))
"""

_DEFAULT = ("multilingual-e5-small", "universal-sentence-encoder-multilingual")


def main(models: list[str]) -> None:
    for model in models or _DEFAULT:
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, model],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        print(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
