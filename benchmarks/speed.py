"""`make bench`: how fast the bot is, measured side by side in one run.

For the example bot and, when ../shared/bench is there, hwu64-10shot:
model load time, index build time (cold: empty embedding cache; cached: the
same cache, a new index), and single-question match latency p50/p95 next
to the bare encode time of the same questions, interleaved so both see the
same machine load. With ../shared/bench, also a 150-intent bot's index
builds, and its classifier fitted by our L-BFGS next to SciPy's
(`benchmarks.lbfgs`). `--accuracy` prints the benchmark accuracy table
instead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from botbuilder.content.loader import load_bot
from botbuilder.matching.encoder import CachedEncoder, SentenceTransformerEncoder
from botbuilder.matching.evaluation import load_cases
from botbuilder.matching.index_store import IndexStore
from botbuilder.matching.matcher import Matcher
from botbuilder.matching.runtime import BotRuntime

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


def speed(large_flows: Path | None) -> None:
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
    sets = _sets()
    if large_flows is not None:  # member questions from HWU64's tests: most are about its intents
        sets.append(("150 intents", large_flows, SHARED_BENCH / "hwu64-10shot" / "tests.yml"))
    for name, flows, tests in sets:
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
        from benchmarks.widget import widget_figures
    except ImportError:
        return
    print("\nwidget:")
    for key, value in widget_figures().items():
        print(f"  {key}: {value}")


def _large_bot(target: Path, intents: int = 150, phrasings: int = 10) -> Path | None:
    """A 150-intent × 10-phrasing bot (in a temporary directory) from the
    benchmark sets and the example bot's English intents, or None without ../shared."""
    sources = [SHARED_BENCH / "hwu64-10shot" / "flows", SHARED_BENCH / "banking77-10shot" / "flows"]
    if not all(s.is_dir() for s in sources):
        return None
    collected = []
    for n, source in enumerate([*sources, ROOT / "flows"]):
        bot = load_bot(source)
        for intent in bot.matchable():
            if intent.language == "en" and len(intent.questions) >= phrasings:
                collected.append(
                    {
                        "id": f"s{n}_{intent.id}",
                        "questions": list(intent.questions[:phrasings]),
                        "answer": f"Answer for {intent.id}.",
                    }
                )
    target.mkdir(parents=True, exist_ok=True)
    (target / "bot.yml").write_text("name: Large bench bot\nlanguage: en\n", encoding="utf-8")
    (target / "intents.yml").write_text(
        yaml.safe_dump({"language": "en", "intents": collected[:intents]}, allow_unicode=True),
        encoding="utf-8",
    )
    return target


def builds(flows: Path | None) -> None:
    """Index builds of a 150-intent bot: cold, cached, saved, and after a one-intent edit."""
    if flows is None:
        print("(no ../shared/bench: the 150-intent build figures need it)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        encoder = SentenceTransformerEncoder()
        encoder.load()
        cache = Path(tmp) / "embeddings.sqlite"
        bot = load_bot(flows)
        figures: dict[str, list[float]] = {}

        def timed(name: str, build: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = build(*args, **kwargs)
            figures.setdefault(name, []).append(time.perf_counter() - started)
            return result

        cold = "cold (empty embedding cache)"
        for n in range(3):
            timed(cold, Matcher, bot, CachedEncoder(encoder, Path(tmp) / f"cold{n}.sqlite"))
        cached = "embedding cache, no saved index"
        running = [timed(cached, Matcher, bot, CachedEncoder(encoder, cache)) for _ in range(3)][-1]
        store = IndexStore(cache)
        Matcher(bot, CachedEncoder(encoder, cache), store=store)
        for _ in range(5):
            timed(
                "embedding cache and saved index",
                Matcher,
                bot,
                CachedEncoder(encoder, cache),
                store=store,
            )
        intent = bot.matchable()[len(bot.matchable()) // 2]
        for n in range(5):
            # A manager replaces one phrasing of one intent.
            questions = (*intent.questions[1:], f"{intent.questions[0]} please ({n})")
            edited = replace(
                bot,
                intents={
                    **bot.intents,
                    (intent.language, intent.id): replace(intent, questions=questions),
                },
            )
            changed = timed(
                "one intent changed (answering again)",
                Matcher,
                edited,
                CachedEncoder(encoder, cache),
                previous=running,
            )
            timed("  then finished in the background", changed.finish)
        # The whole path a server takes: the file changes, the flows are
        # read and checked, and the index is rebuilt provisionally.
        runtime = BotRuntime(flows, encoder=CachedEncoder(encoder, cache), cache_path=cache)
        source = flows / "intents.yml"
        for n in range(3):
            text = source.read_text(encoding="utf-8")
            source.write_text(text.replace(intent.questions[2], f"{intent.questions[2]} ({n})", 1))
            reloaded = timed("edited file to answering (server reload)", runtime.reload)
            while reloaded.matcher.provisional:  # let the background build end first
                time.sleep(0.05)
        print(f"index builds, {len(bot.matchable())} intents × 10 phrasings (median of runs):")
        for name, seconds in figures.items():
            print(f"  {name:<40} {statistics.median(seconds):6.2f} s   ({len(seconds)} runs)")


def lbfgs(flows: Path | None) -> None:
    """The classifier's fit on the 150-intent bot: our L-BFGS next to SciPy's."""
    if flows is None:
        print("(no ../shared/bench: the L-BFGS comparison needs it)")
        return
    from benchmarks.lbfgs import lbfgs_comparison

    with tempfile.TemporaryDirectory() as tmp:
        encoder = CachedEncoder(SentenceTransformerEncoder(), Path(tmp) / "embeddings.sqlite")
        lbfgs_comparison(flows, SHARED_BENCH, encoder, runs=3)


def accuracy(encoder: str | None = None, with_ceiling: bool = True, compare: bool = True) -> None:
    from benchmarks.accuracy import accuracy_table, comparison, format_comparison, format_table

    if encoder:
        print(f"encoder: {encoder}")
    print(format_table(accuracy_table(str(SHARED_BENCH), encoder, with_ceiling)))
    if compare and not encoder:
        print("\nEvery candidate encoder on every set (the default was chosen by the mean cost):")
        print(format_comparison(comparison(str(SHARED_BENCH))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true", help="print the accuracy table instead")
    parser.add_argument(
        "--encoder",
        metavar="SPEC",
        help="with --accuracy: measure this encoder on every set, e.g. "
        "multilingual-e5-small:dense=2 (see benchmarks/accuracy.py)",
    )
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="with --accuracy: skip the search for the thresholds closest to the targets",
    )
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="with --accuracy: skip measuring every candidate encoder on every set",
    )
    args = parser.parse_args()
    if args.accuracy:
        accuracy(args.encoder, with_ceiling=not args.no_ceiling, compare=not args.no_compare)
        return
    with tempfile.TemporaryDirectory() as tmp:
        large_flows = _large_bot(Path(tmp) / "flows")  # builds() edits it: it goes last
        speed(large_flows)
        print()
        lbfgs(large_flows)
        print()
        builds(large_flows)


if __name__ == "__main__":
    main()
