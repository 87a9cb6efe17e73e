"""The accuracy table of `make bench-accuracy`: every benchmark set next to its target.

Reads the sets from ../shared/bench when they are there (they are never
copied into the project: Banking77 is licensed for non-commercial use only)
and the example bot's own evaluation file. Absent sets are skipped, so the
table works on a machine without ../shared.

`--encoder SPEC` measures one candidate encoder: a bot.yml model name
(`multilingual-e5-small`, `universal-sentence-encoder-multilingual`,
`all-MiniLM-L6-v2`, any sentence-transformers name; short: `e5`, `use`,
`minilm`), or several joined by `+` (their vectors side by side), each
optionally with a block weight `*w` (`e5+use*0.7`: USE's vectors at 0.7 of
e5's, the whole scaled back to unit length), and optionally followed by
`:key=value` settings that override the backend's own: `dense` (embedding
block weight), `ngram` (n-gram block weight, 0 = embeddings alone) and
`centred` (0 or 1). Without it, each set uses its bot.yml, as a
bot would. `--compare` measures every candidate of `CANDIDATES` on every set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from botbuilder.content.loader import load_bot
from botbuilder.matching.decision import Thresholds
from botbuilder.matching.encoder import CachedEncoder, Encoder, encoder_for
from botbuilder.matching.evaluation import Case, evaluate, figures_at, load_cases
from botbuilder.matching.matcher import Matcher

__all__ = [
    "CANDIDATES",
    "TARGETS",
    "accuracy_table",
    "candidate",
    "comparison",
    "format_comparison",
    "format_table",
]

ROOT = Path(__file__).resolve().parent.parent

# Issue 13's targets (None: no target): in_scope_accuracy ≥, oos_recall ≥, wrong_answer_rate ≤.
TARGETS: dict[str, tuple[float | None, float | None, float | None]] = {
    "example bot": (0.92, 0.85, 0.03),
    "xsid-nl": (0.92, 0.40, 0.05),
    "xsid-en": (0.93, None, 0.05),
    "hwu64-10shot": (0.80, None, 0.08),
    "banking77-10shot": (0.82, None, 0.08),
}
_TARGETED = ("in_scope_accuracy", "oos_recall", "wrong_answer_rate")
# The encoders the default was chosen from (README, "Which encoder"): e5; e5
# with the n-gram block at half weight (the re-balancing that helped most in
# the first measurements); e5 and MiniLM side by side; MiniLM; USE alone and
# beside e5 (e5's block at twice USE's weight: after centring the two
# blocks then weigh about the same, e5's vectors lying in a narrower cone).
CANDIDATES = (
    "multilingual-e5-small",
    "multilingual-e5-small:ngram=0.5",
    "multilingual-e5-small+all-MiniLM-L6-v2",
    "all-MiniLM-L6-v2",
    "universal-sentence-encoder-multilingual",
    "e5*2+use",
)
_AT_LEAST = ("in_scope_accuracy", "oos_recall")
_AT_MOST = ("wrong_answer_rate",)
_COLUMNS = (
    "in_scope_accuracy",
    "in_scope_resolved",
    "oos_recall",
    "wrong_answer_rate",
    "clarify_rate",
    "closed_set_accuracy",
    "cost",
)


def _sets(bench_dir: Path) -> list[tuple[str, Path, Path]]:
    sets = [("example bot", ROOT / "flows", ROOT / "flows-tests" / "eval.yml")]
    for name in TARGETS:
        if name != "example bot":
            sets.append((name, bench_dir / name / "flows", bench_dir / name / "tests.yml"))
    return [
        (name, flows, tests) for name, flows, tests in sets if flows.is_dir() and tests.is_file()
    ]


class _Tuned:
    """An encoder with some of its usage settings overridden (see `candidate`)."""

    def __init__(self, encoder: Encoder, settings: dict[str, float]) -> None:
        self.encoder = encoder
        self.name, self.backend = encoder.name, encoder.backend
        self.version, self.prefix = encoder.version, encoder.prefix
        self.centred = bool(settings.get("centred", encoder.centred))
        self.dense_weight = settings.get("dense", encoder.dense_weight)
        self.ngram_weight = settings.get("ngram", encoder.ngram_weight)

    def encode(self, texts: Any) -> np.ndarray:
        return self.encoder.encode(texts)


class _Joined:
    """Encoders' vectors side by side, each part times its weight, the whole unit length."""

    def __init__(self, parts: list[tuple[Encoder, float]]) -> None:
        self.parts = parts
        self.name = "+".join(p.name if w == 1 else f"{p.name}*{w:g}" for p, w in parts)
        self.backend = "+".join(p.backend for p, _ in parts)
        self.version = "+".join(p.version for p, _ in parts)
        self.prefix = ""  # each part prefixes its own texts
        self.centred = any(p.centred for p, _ in parts)
        self.dense_weight = 1.0
        self.ngram_weight = 1.0
        self._scale = 1.0 / float(np.sqrt(sum(w * w for _, w in parts)))

    def encode(self, texts: Any) -> np.ndarray:
        blocks = [p.encode(texts) * np.float32(w * self._scale) for p, w in self.parts]
        return np.hstack(blocks).astype(np.float32)


_SHORT = {
    "e5": "multilingual-e5-small",
    "use": "universal-sentence-encoder-multilingual",
    "minilm": "all-MiniLM-L6-v2",
}


def candidate(spec: str) -> Encoder:
    """`model[*w][+model[*w]...][:key=value...]`: see the module docstring."""
    model, *pairs = spec.split(":")
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in ("dense", "ngram", "centred"):
            raise ValueError(f"unknown encoder setting '{key}' in '{spec}'")
        settings[key] = float(value)
    named = [part.partition("*") for part in model.split("+")]
    parts = [(_SHORT.get(name, name), float(weight or 1)) for name, _, weight in named]
    if len(parts) > 1:
        cache = Path(os.environ.get("BOTBUILDER_INSTANCE_PATH", "instance")) / "embeddings.sqlite"
        # Each part through the cache on its own: the parts' vectors are shared with single runs.
        encoder: Encoder = _Joined(
            [(CachedEncoder(encoder_for(name), cache), weight) for name, weight in parts]
        )
    else:
        encoder = encoder_for(parts[0][0])
    return _Tuned(encoder, settings) if settings else encoder


def accuracy_table(
    bench_dir: str | os.PathLike[str] = "../shared/bench",
    encoder: str | None = None,
    with_ceiling: bool = True,
) -> list[dict[str, Any]]:
    """One row per available set: its figures, its targets and whether each is met.

    `encoder`: a candidate spec (see `candidate`) used for every set instead
    of each bot.yml's own `matcher.model`. `with_ceiling`: also search the
    thresholds closest to the targets (slow on the large sets)."""
    cache = Path(os.environ.get("BOTBUILDER_INSTANCE_PATH", "instance")) / "embeddings.sqlite"
    rows = []
    for name, flows, tests in _sets(Path(bench_dir)):
        bot = load_bot(flows)
        chosen = candidate(encoder) if encoder else encoder_for(bot.settings.matcher.model)
        matcher = Matcher(bot, CachedEncoder(chosen, cache))
        cases = load_cases(tests, set(matcher.intent_ids))
        metrics = evaluate(matcher, cases).metrics
        row: dict[str, Any] = {"set": name, "n": metrics["n"]}
        row.update({key: metrics[key] for key in _COLUMNS})
        targets = {
            key: goal
            for key, goal in zip(_TARGETED, TARGETS[name], strict=True)
            if goal is not None
        }
        row["targets"] = targets
        row["passed"] = {
            key: metrics[key] >= goal if key in _AT_LEAST else metrics[key] <= goal
            for key, goal in targets.items()
        }
        row["pass"] = all(row["passed"].values())
        row["answer_threshold"] = matcher.thresholds.answer
        row["clarify_threshold"] = matcher.thresholds.clarify
        row["build_seconds"] = round(matcher.stats.build_seconds, 2)
        if with_ceiling:
            row["ceiling"] = ceiling(matcher, cases, targets)
        rows.append(row)
    return rows


def _shortfall(figures: dict[str, Any], targets: dict[str, float]) -> float:
    return sum(
        max(0.0, goal - figures[key]) if key in _AT_LEAST else max(0.0, figures[key] - goal)
        for key, goal in targets.items()
    )


def ceiling(matcher: Matcher, cases: list[Case], targets: dict[str, float]) -> dict[str, Any]:
    """The figures of the thresholds that come closest to the targets, chosen
    with the test file's answers. A bound on what any threshold rule could
    reach with this classifier, to tell a calibration problem from a
    classifier problem; never a setting."""
    scores = matcher.scores([c.question for c in cases])
    grid = [
        Thresholds(round(float(answer), 3), round(float(clarify), 3))
        for answer in np.arange(0.1, 0.901, 0.025)
        for clarify in np.arange(0.1, answer + 1e-9, 0.025)
    ]
    best: dict[str, Any] = {}
    for t in [matcher.thresholds, *grid]:  # the calibrated ones too: the ceiling is never below
        figures = figures_at(matcher, cases, scores, t)
        gap = _shortfall(figures, targets)
        if not best or gap < best["shortfall"]:
            best = {key: figures[key] for key in targets}
            best.update(shortfall=round(gap, 4), answer=t.answer, clarify=t.clarify)
    return best


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table; each figure next to its target, ✓ or ✗."""
    headers = (
        "set",
        "in-scope acc",
        "resolved",
        "oos recall",
        "wrong answers",
        "clarify",
        "closed-set",
        "cost",
    )
    lines = []
    for row in rows:
        cells = [row["set"]]
        for key in _COLUMNS:
            if key in row["targets"]:
                sign = "≥" if key in _AT_LEAST else "≤"
                mark = "✓" if row["passed"][key] else "✗"
                cells.append(f"{row[key]:.3f} {mark} ({sign}{row['targets'][key]:.2f})")
            else:
                cells.append(f"{row[key]:.3f}")
        lines.append(cells)
    widths = [
        max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(headers)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in lines)
    if not rows:
        out.append("(no benchmark sets found)")
    passed = sum(row["pass"] for row in rows)
    out.append(f"\n{passed} of {len(rows)} sets meet all their targets")
    if rows:
        mean_cost = sum(row["cost"] for row in rows) / len(rows)
        out.append(
            f"cost per question (wrong answer 3, answerable handed off 1, clarify 0.5), "
            f"mean over the sets: {mean_cost:.3f}"
        )
    if not any("ceiling" in row for row in rows):
        return "\n".join(out)
    out.append(
        "\nCeiling: the thresholds closest to the targets, chosen with the test answers "
        "(a bound for any threshold rule on this classifier, not a setting):"
    )
    for row in rows:
        if "ceiling" not in row:
            continue
        best = row["ceiling"]
        shown = "  ".join(
            f"{key.replace('_', ' ')} {best[key]:.3f}{' ✓' if not _shortfall({key: best[key]}, {key: goal}) else ' ✗'}"
            for key, goal in row["targets"].items()
        )
        out.append(
            f"  {row['set']:<17} answer ≥ {best['answer']:.3f}, clarify ≥ {best['clarify']:.3f}: {shown}"
        )
    return "\n".join(out)


def comparison(
    bench_dir: str | os.PathLike[str] = "../shared/bench",
    candidates: tuple[str, ...] = CANDIDATES,
) -> dict[str, list[dict[str, Any]]]:
    """Every candidate encoder's rows (see `accuracy_table`), without the ceiling."""
    return {spec: accuracy_table(bench_dir, spec, with_ceiling=False) for spec in candidates}


def format_comparison(results: dict[str, list[dict[str, Any]]]) -> str:
    """Candidate × set, each cell in-scope / wrong / out-of-scope recall / cost, and the mean cost."""
    sets = [row["set"] for row in next(iter(results.values()), [])]
    headers = ["candidate", *sets, "mean cost"]
    lines = []
    for spec, rows in results.items():
        cells = [spec]
        for row in rows:
            oos = f"{row['oos_recall']:.3f}" if row["n"] and "oos_recall" in row else "-"
            cells.append(
                f"{row['in_scope_accuracy']:.3f}/{row['wrong_answer_rate']:.3f}/{oos}/{row['cost']:.3f}"
            )
        mean = sum(row["cost"] for row in rows) / len(rows) if rows else 0.0
        cells.append(f"{mean:.3f}")
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(headers)]
    out = [
        "each cell: in-scope accuracy / wrong answers / out-of-scope recall / cost per question",
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    out.extend("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in lines)
    return "\n".join(out)
