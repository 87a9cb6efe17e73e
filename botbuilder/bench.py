"""`make bench`: how fast the bot is, measured side by side in one run.

For the example bot and, when ../shared/bench is there, hwu64-10shot:
model load time, index build time (cold: empty embedding cache; cached: the
same cache, a new index), and single-question match latency p50/p95 next
to the bare encode time of the same questions, interleaved so both see the
same machine load. `--accuracy` prints the benchmark accuracy table instead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from botbuilder.encoder import CachedEncoder, SentenceTransformerEncoder
from botbuilder.evaluation import load_cases
from botbuilder.loader import load_bot
from botbuilder.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = ROOT.parent / "shared" / "bench"
LATENCY_QUESTIONS = 200


def _sets() -> list[tuple[str, Path, Path]]:
    sets = [("example bot", ROOT / "flows", ROOT / "flows-tests" / "eval.yml")]
    hwu = SHARED_BENCH / "hwu64-10shot"
    if hwu.exists():
        sets.append(("hwu64-10shot", hwu / "flows", hwu / "tests.yml"))
    return sets


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def speed() -> None:
    encoder = SentenceTransformerEncoder()
    started = time.perf_counter()
    encoder.load()
    print(
        f"model load (all-MiniLM-L6-v2, incl. torch import): {time.perf_counter() - started:.2f} s\n"
    )
    header = (
        f"{'set':<14} {'intents':>7} {'examples':>8} {'build cold':>10} {'build cached':>12} "
        f"{'match p50':>9} {'match p95':>9} {'encode p50':>10} {'encode p95':>10} {'ratio p50':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, flows, tests in _sets():
        bot = load_bot(flows)
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "embeddings.sqlite"
            t0 = time.perf_counter()
            Matcher(bot, CachedEncoder(encoder, cache))
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            matcher = Matcher(bot, CachedEncoder(encoder, cache))
            cached = time.perf_counter() - t0
        questions = [c.question for c in load_cases(tests)][:LATENCY_QUESTIONS]
        for q in questions[:5]:  # warm up both paths
            matcher.match(q)
            encoder.encode([q])
        match_ms, encode_ms = [], []
        for q in questions:
            t0 = time.perf_counter()
            matcher.match(q)
            match_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            encoder.encode([q])
            encode_ms.append((time.perf_counter() - t0) * 1000)
        ratio = statistics.median(match_ms) / statistics.median(encode_ms)
        print(
            f"{name:<14} {matcher.stats.intents:>7} {matcher.stats.examples:>8} {cold:>9.2f}s "
            f"{cached:>11.2f}s {_pct(match_ms, 50):>7.1f}ms {_pct(match_ms, 95):>7.1f}ms "
            f"{_pct(encode_ms, 50):>8.1f}ms {_pct(encode_ms, 95):>8.1f}ms {ratio:>8.2f}x"
        )
    print(
        f"\n(latency over {LATENCY_QUESTIONS} questions per set; match = encode + classify + decide)"
    )
    try:
        from botbuilder.bench_widget import widget_figures
    except ImportError:
        return
    print("\nwidget:")
    for key, value in widget_figures().items():
        print(f"  {key}: {value}")


def accuracy() -> None:
    from botbuilder.bench_accuracy import accuracy_table, format_table

    print(format_table(accuracy_table(str(SHARED_BENCH))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true", help="print the accuracy table instead")
    args = parser.parse_args()
    accuracy() if args.accuracy else speed()


if __name__ == "__main__":
    main()
