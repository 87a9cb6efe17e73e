"""How the calibration rules hold up when the unanswerable questions change kind.

`python -m benchmarks.accuracy_study [ENCODER]` compares threshold rules on
every shared set and the example bot, and on the same bots with other
intents left out (a fifth of them, twice, fixed seeds: their test questions
then expect a handoff). That tells a rule that fits one set's unanswerable
questions from one that holds when they are of another kind: on the shared
xSID half they are intents next to ones the bot has, elsewhere they are not.

Rules, all from the bot's own examples (the test files only score them):
- `median`: the answer threshold a quarter of the way from the typical
  unanswerable to the typical answerable held-out score (the old rule);
- `cost`: the thresholds with the lowest cost on the held-out evidence,
  without a margin;
- `cost+margin`: the same with the margin between the two best intents
  (what `calibration` does);
- `cost+margin+winner`: the same, searched and applied with the clear-winner
  rule (an intent three times the runner-up answered in the clarify band:
  calibrated thresholds used it until it was measured here).

Each line: mean cost, in-scope accuracy, wrong answers and out-of-scope
recall over the shared sets, then over the bots with other intents left out.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import botbuilder.matching.calibration as calibration
from benchmarks.accuracy import _sets, candidate
from botbuilder.content.loader import load_bot
from botbuilder.content.model import Bot
from botbuilder.matching.decision import Thresholds
from botbuilder.matching.encoder import CachedEncoder, Encoder
from botbuilder.matching.evaluation import Case, figures_at, load_cases
from botbuilder.matching.features import one_blas_thread
from botbuilder.matching.matcher import Matcher

__all__ = ["main", "study"]

_LEFT_OUT_SHARE = 0.2
_RESAMPLES = 2
_KEYS = ("cost", "in_scope_accuracy", "wrong_answer_rate", "oos_recall")


def _without(bot: Bot, cases: list[Case], drop: set[str]) -> tuple[Bot, list[Case]]:
    """The bot without the intents `drop`; their questions now expect a handoff."""
    intents = {key: i for key, i in bot.intents.items() if i.id not in drop}
    cut = replace(bot, intents=intents, fingerprint=f"{bot.fingerprint}-{sorted(drop)}")
    return cut, [replace(c, expect="handoff") if c.expect in drop else c for c in cases]


def _median_rule(evidence: calibration.Evidence) -> Thresholds:
    answerable = evidence.truth >= 0
    typical_in = float(np.median(evidence.scores[answerable].max(axis=1)))
    typical_out = float(np.median(evidence.scores[~answerable].max(axis=1)))
    answer = typical_out + 0.25 * max(typical_in - typical_out, 0.0)
    return Thresholds(answer, min(typical_out, answer))


def _rules(matcher: Matcher) -> dict[str, Thresholds]:
    """Each rule's thresholds from the bot's own held-out evidence."""
    embeddings = matcher._view(matcher.encoder.encode(matcher._texts), matcher.mean)
    with one_blas_thread(), ThreadPoolExecutor(max_workers=2) as pool:
        evidence = calibration.fold_evidence(
            embeddings,
            matcher._texts,
            matcher._labels,
            matcher.intent_ids,
            pool,
            matcher.encoder.ngram_weight,
        )
    assert evidence is not None
    margins = calibration._MARGINS
    try:
        calibration._MARGINS = (0.0,)
        without_margin = calibration.best_thresholds(evidence)
    finally:
        calibration._MARGINS = margins
    # Uncalibrated thresholds are the ones `decide` applies the clear-winner rule to.
    with_winner = replace(
        calibration.best_thresholds(evidence, clear_winner=True), calibrated=False
    )
    return {
        "median": _median_rule(evidence),
        "cost": without_margin,
        "cost+margin": calibration.best_thresholds(evidence),
        "cost+margin+winner": with_winner,
    }


def study(encoder: Encoder, bench_dir: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """rule -> {"shared": figures per set, "left out": figures per resampled bot}."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, flows, tests in _sets(bench_dir):
        bot = load_bot(flows)
        cases = load_cases(tests, set(bot.intent_ids()))
        rng = np.random.default_rng(7)
        ids = sorted({i.id for i in bot.matchable()})
        variants = [("shared", bot, cases)]
        for _ in range(_RESAMPLES):
            drop = set(rng.choice(ids, max(1, round(_LEFT_OUT_SHARE * len(ids))), replace=False))
            variants.append(("left out", *_without(bot, cases, drop)))
        for kind, variant, variant_cases in variants:
            matcher = Matcher(variant, encoder)
            scores = matcher.scores([c.question for c in variant_cases])
            for rule, thresholds in _rules(matcher).items():
                figures = figures_at(matcher, variant_cases, scores, thresholds)
                results.setdefault(rule, {}).setdefault(kind, []).append(figures)
            print(f"  {name} ({kind}) done", file=sys.stderr, flush=True)
    return results


def main(spec: str = "multilingual-e5-small") -> None:
    cache = Path(os.environ.get("BOTBUILDER_INSTANCE_PATH", "instance")) / "embeddings.sqlite"
    bench = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"
    results = study(CachedEncoder(candidate(spec), cache), bench)
    print(f"encoder: {spec}; mean over the bots of cost / in-scope / wrong / oos recall")
    for rule, kinds in results.items():
        cells = []
        for kind, rows in kinds.items():
            means = "/".join(f"{np.mean([r[k] for r in rows]):.3f}" for k in _KEYS)
            cells.append(f"{kind} ({len(rows)}): {means}")
        print(f"  {rule:<12} " + "   ".join(cells))


if __name__ == "__main__":
    main(*sys.argv[1:2])
