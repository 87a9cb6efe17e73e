"""Check a bot against questions it has never seen (the evaluation file).

The file is a YAML list of `{q: question, expect: intent id | handoff}`.
`evaluate` returns the figures docs/evaluation.md names plus the details a manager
needs to improve the bot: per-intent scores, confused pairs, wrong cases.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml.error import YAMLError

from botbuilder.content.loader import display_path
from botbuilder.content.model import Bot
from botbuilder.content.yaml_source import parse_yaml
from botbuilder.errors import EvaluationFileError
from botbuilder.matching.decision import ANSWER, CLARIFY, HANDOFF, Match, Thresholds
from botbuilder.matching.encoder import Encoder
from botbuilder.matching.matcher import Matcher
from botbuilder.matching.understanding import asks_for_person

__all__ = ["Case", "Evaluation", "cross_validate", "evaluate", "figures_at", "load_cases"]

LATENCY_SAMPLE = 200


@dataclass(frozen=True)
class Case:
    question: str
    expect: str
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    case: Case
    match: Match

    @property
    def right(self) -> bool:
        if self.case.expect == HANDOFF:
            return self.match.decision == HANDOFF
        return self.match.decision == ANSWER and self.match.intent == self.case.expect

    @property
    def resolved(self) -> bool:
        """Right, or clarified with the expected intent among the options."""
        return self.right or (
            self.match.decision == CLARIFY and self.case.expect in self.match.options
        )

    @property
    def wrong_answer(self) -> bool:
        return self.match.decision == ANSWER and self.match.intent != self.case.expect


@dataclass
class Evaluation:
    outcomes: list[Outcome]
    latencies_ms: list[float]
    metrics: dict[str, Any] = field(default_factory=dict)


def load_cases(path: str | os.PathLike[str], known_intents: set[str] | None = None) -> list[Case]:
    """Read an evaluation file; raise EvaluationFileError naming file and line."""
    p = Path(path)
    name = display_path(p)
    try:
        data = parse_yaml(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvaluationFileError(
            f"{name}: cannot read the evaluation file: {exc.strerror}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise EvaluationFileError(f"{name}: the file is not UTF-8 text; save it as UTF-8") from exc
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise EvaluationFileError(
            f"{where}: YAML syntax error: {getattr(exc, 'problem', exc)}"
        ) from exc
    if not isinstance(data, list) or not data:
        raise EvaluationFileError(
            f"{name}: an evaluation file is a list of '- q: …' / 'expect: …' cases"
        )
    cases = []
    problems = []
    for i, item in enumerate(data):
        line = data.lc.item(i)[0] + 1 if hasattr(data, "lc") else 0
        if (
            not isinstance(item, dict)
            or not str(item.get("q") or "").strip()
            or not item.get("expect")
        ):
            problems.append(
                f"{name}:{line}: each case needs 'q: <question>' and 'expect: <intent id or handoff>'"
            )
            continue
        expect = str(item["expect"]).strip()
        if known_intents is not None and expect != HANDOFF and expect not in known_intents:
            problems.append(f"{name}:{line}: expect '{expect}' is not an intent of the bot")
            continue
        cases.append(Case(str(item["q"]).strip(), expect, line))
    if problems:
        raise EvaluationFileError("\n".join(problems))
    return cases


def _decide_all(
    matcher: Matcher,
    questions: list[str],
    scores: np.ndarray | None = None,
    thresholds: Thresholds | None = None,
) -> list[Match]:
    """Each question's decision as a member gets it: a request for a person is
    handed off whatever it scores. `scores` and `thresholds` replay precomputed
    `matcher.scores` under other thresholds."""
    if not questions:
        return []
    rows = matcher.scores(questions) if scores is None else scores
    matches = [matcher.decide(row, thresholds) for row in rows]
    return [
        Match(HANDOFF, None, m.confidence, m.candidates) if asks_for_person(q) else m
        for q, m in zip(questions, matches, strict=True)
    ]


def figures_at(
    matcher: Matcher, cases: list[Case], scores: np.ndarray, thresholds: Thresholds
) -> dict[str, Any]:
    """The figures `evaluate` would give with other thresholds, from precomputed
    `matcher.scores` of the cases' questions (no latency figures)."""
    matches = _decide_all(matcher, [c.question for c in cases], scores, thresholds)
    outcomes = [Outcome(c, m) for c, m in zip(cases, matches, strict=True)]
    return _metrics(outcomes, [])


def evaluate(matcher: Matcher, cases: list[Case]) -> Evaluation:
    """Decide every case (as a member would be answered) and compute the figures."""
    matches = _decide_all(matcher, [c.question for c in cases])
    outcomes = [Outcome(c, m) for c, m in zip(cases, matches, strict=True)]
    latencies = []
    for case in cases[:LATENCY_SAMPLE]:
        started = time.perf_counter()
        matcher.match(case.question)
        latencies.append((time.perf_counter() - started) * 1000)
    evaluation = Evaluation(outcomes, latencies)
    evaluation.metrics = _metrics(outcomes, latencies)
    return evaluation


CROSS_VALIDATION_FOLDS = 5


def cross_validate(bot: Bot, encoder: Encoder, folds: int = CROSS_VALIDATION_FOLDS) -> Evaluation:
    """How the bot would do on phrasings it has not seen, without a tests file.

    Each intent's example questions are dealt over `folds` folds; every question
    is held out once, matched by a bot trained on the rest, and scored like an
    evaluation case. Intents with one question are never held out. There are no
    out-of-scope questions here, so oos_recall says nothing.
    """
    dealt: dict[tuple[str, str], list[int]] = {
        key: [n % folds for n in range(len(i.questions))] if len(i.questions) > 1 else [-1]
        for key, i in bot.intents.items()
    }
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    for fold in range(folds):
        held: list[Case] = []
        kept = {}
        for key, intent in bot.intents.items():
            marks = dealt[key] if intent.questions else []
            held += [
                Case(q, intent.id, intent.line)
                for q, m in zip(intent.questions, marks, strict=True)
                if m == fold
            ]
            kept[key] = replace(
                intent,
                questions=tuple(
                    q for q, m in zip(intent.questions, marks, strict=True) if m != fold
                ),
            )
        if not held:
            continue
        matcher = Matcher(
            replace(bot, intents=kept, fingerprint=f"{bot.fingerprint}-cv{fold}"), encoder
        )
        result = evaluate(matcher, held) if not latencies else None
        if result is not None:
            outcomes += result.outcomes
            latencies = result.latencies_ms
        else:
            matches = _decide_all(matcher, [c.question for c in held])
            outcomes += [Outcome(c, m) for c, m in zip(held, matches, strict=True)]
    evaluation = Evaluation(outcomes, latencies)
    evaluation.metrics = _metrics(outcomes, latencies)
    return evaluation


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _metrics(outcomes: list[Outcome], latencies: list[float]) -> dict[str, Any]:
    n = len(outcomes)
    in_scope = [o for o in outcomes if o.case.expect != HANDOFF]
    oos = [o for o in outcomes if o.case.expect == HANDOFF]
    handed_off = [o for o in outcomes if o.match.decision == HANDOFF]
    clarified = [o for o in outcomes if o.match.decision == CLARIFY]
    closed_set = [
        o for o in in_scope if o.match.candidates and o.match.candidates[0].intent == o.case.expect
    ]
    return {
        "n": n,
        "n_in_scope": len(in_scope),
        "n_out_of_scope": len(oos),
        "accuracy": _share(sum(o.right for o in outcomes), n),
        "in_scope_accuracy": _share(sum(o.right for o in in_scope), len(in_scope)),
        "in_scope_resolved": _share(sum(o.resolved for o in in_scope), len(in_scope)),
        "closed_set_accuracy": _share(len(closed_set), len(in_scope)),
        "oos_recall": _share(sum(o.right for o in oos), len(oos)),
        "handoff_rate": _share(len(handed_off), n),
        "handoff_precision": _share(
            sum(o.case.expect == HANDOFF for o in handed_off), len(handed_off)
        ),
        "wrong_answer_rate": _share(sum(o.wrong_answer for o in outcomes), n),
        "clarify_rate": _share(len(clarified), n),
        "clarify_hit_rate": _share(
            sum(o.case.expect in o.match.options for o in clarified), len(clarified)
        ),
        # One figure to choose between variants: a wrong answer costs 3, an
        # answerable question handed off 1, a question back 0.5 (per question).
        "cost": round(
            (
                3 * sum(o.wrong_answer for o in outcomes)
                + sum(o.match.decision == HANDOFF for o in in_scope)
                + 0.5 * len(clarified)
            )
            / n,
            4,
        )
        if n
        else 0.0,
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
    }


def per_intent(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    """Precision and recall of answers per expected intent."""
    intents = sorted({o.case.expect for o in evaluation.outcomes} - {HANDOFF})
    table = {}
    for intent in intents:
        expected = [o for o in evaluation.outcomes if o.case.expect == intent]
        answered = [
            o
            for o in evaluation.outcomes
            if o.match.decision == ANSWER and o.match.intent == intent
        ]
        table[intent] = {
            "cases": len(expected),
            "recall": _share(sum(o.right for o in expected), len(expected)),
            "precision": _share(sum(o.case.expect == intent for o in answered), len(answered))
            if answered
            else 1.0,
        }
    return table


def confused_pairs(evaluation: Evaluation, top: int = 10) -> list[tuple[str, str, int]]:
    """(expected, got, count) for wrong answers and misses, most frequent first."""
    pairs: Counter[tuple[str, str]] = Counter()
    for o in evaluation.outcomes:
        got = o.match.intent if o.match.decision == ANSWER else o.match.decision
        if not o.right and got != o.case.expect:
            pairs[(o.case.expect, str(got))] += 1
    return [(a, b, c) for (a, b), c in pairs.most_common(top)]


def report(evaluation: Evaluation) -> str:
    """The readable report `botbuilder evaluate` prints without --json."""
    m = evaluation.metrics
    lines = [
        f"{m['n']} questions ({m['n_in_scope']} with an answer, {m['n_out_of_scope']} without)",
        "",
        f"  right decision          {m['accuracy']:.1%}",
        f"  answered right          {m['in_scope_accuracy']:.1%} of questions with an answer",
        f"  resolved in one click   {m['in_scope_resolved']:.1%} (answered right, or right option offered)",
        *(
            [f"  handed off when needed  {m['oos_recall']:.1%} of questions without an answer"]
            if m["n_out_of_scope"]
            else []
        ),
        f"  wrong answers           {m['wrong_answer_rate']:.1%} of all questions",
        f"  asked back (clarify)    {m['clarify_rate']:.1%}, right option offered {m['clarify_hit_rate']:.1%}",
        f"  matching time           p50 {m['latency_ms_p50']} ms, p95 {m['latency_ms_p95']} ms",
        "",
    ]
    weak = [
        (i, s) for i, s in per_intent(evaluation).items() if s["recall"] < 1 or s["precision"] < 1
    ]
    if weak:
        lines.append(
            "Intents to look at (recall = its questions answered right; precision = its answers right):"
        )
        for intent, s in sorted(weak, key=lambda kv: (kv[1]["recall"], kv[1]["precision"])):
            lines.append(
                f"  {intent:<28} recall {s['recall']:.0%}  precision {s['precision']:.0%}  ({s['cases']} questions)"
            )
        lines.append("")
    pairs = confused_pairs(evaluation)
    if pairs:
        lines.append("Most confused (expected → what happened):")
        for expected, got, count in pairs:
            lines.append(f"  {expected} → {got}: {count}×")
        lines.append("")
    wrong = [o for o in evaluation.outcomes if not o.right]
    if wrong:
        lines.append("Questions that went wrong:")
        for o in wrong:
            got = str(o.match.intent) if o.match.decision == ANSWER else o.match.decision
            extra = f" options {list(o.match.options)}" if o.match.decision == CLARIFY else ""
            lines.append(
                f'  line {o.case.line}: "{o.case.question}" expected {o.case.expect}, '
                f"got {got}{extra} (score {o.match.confidence:.2f})"
            )
            lines.append(f"      → {_suggestion(o)}")
    return "\n".join(lines)


def _suggestion(o: Outcome) -> str:
    if o.case.expect == HANDOFF and o.match.decision == CLARIFY:
        options = ", ".join(f"'{i}'" for i in o.match.options)
        return (
            f"out of scope, and asked back with {options}: the member can still ask for a "
            "person; raise clarify_threshold to hand such questions off at once"
        )
    if o.case.expect == HANDOFF:
        return (
            f"out of scope but answered as '{o.match.intent}': make that intent's questions more "
            "specific, or raise answer_threshold"
        )
    if o.match.decision == ANSWER:
        return f"add a phrasing like this to '{o.case.expect}', or make '{o.match.intent}' more distinct"
    if o.match.decision == CLARIFY and o.case.expect in o.match.options:
        return f"the member gets there in one click; a phrasing like this under '{o.case.expect}' makes it direct"
    return f"add a phrasing like this to '{o.case.expect}'"
