"""Matching quality with the real bundled model: calibration, handoffs, speed, the table."""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.accuracy import TARGETS, accuracy_table, format_table
from botbuilder.content.languages import normalise
from botbuilder.content.loader import load_bot
from botbuilder.matching.decision import ANSWER, CLARIFY, HANDOFF
from botbuilder.matching.encoder import CachedEncoder, encoder_for
from botbuilder.matching.evaluation import evaluate, load_cases
from botbuilder.matching.matcher import Matcher

from .conftest import EXAMPLE_FLOWS, ROOT, SMALL_BOT

EVAL_FILE = ROOT / "flows-tests" / "eval.yml"


@pytest.fixture(scope="module")
def example_matcher(embedding_cache) -> Matcher:  # type: ignore[no-untyped-def]
    """The example bot as it ships: with the encoder its bot.yml names (e5)."""
    bot = load_bot(EXAMPLE_FLOWS)
    return Matcher(bot, CachedEncoder(encoder_for(bot.settings.matcher.model), embedding_cache))


@pytest.fixture(scope="module")
def small_matcher(encoder) -> Matcher:  # type: ignore[no-untyped-def]
    return Matcher(load_bot(SMALL_BOT), encoder)


def test_thresholds_are_calibrated_and_ordered(example_matcher: Matcher) -> None:
    t = example_matcher.thresholds
    assert t.calibrated
    assert 0.0 < t.clarify <= t.answer < 1.0


def test_calibration_is_deterministic(example_matcher: Matcher) -> None:
    again = Matcher(load_bot(EXAMPLE_FLOWS), example_matcher.encoder)
    assert again.thresholds == example_matcher.thresholds


@pytest.mark.parametrize(
    "question",
    [
        # Answered as 'agenda' (0.48, three times the runner-up) while the
        # clear-winner rule applied to calibrated thresholds.
        "wat wordt het weer morgen in Utrecht",
        "what's the capital of Australia",
        "kun je een recept voor pannenkoeken geven",
    ],
)
def test_out_of_scope_question_is_not_answered(example_matcher: Matcher, question: str) -> None:
    assert example_matcher.match(question).decision != ANSWER


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("hoe zeg ik mijn lidmaatschap op", "opzeggen"),
        ("Hoe zeg ik mijn lidmaatschap óp?!", "opzeggen"),
        ("wat kost het lidmaatschap per jaar", "contributie"),
        ("ik ben mijn wachtwoord vergeten", "wachtwoord"),
        ("I forgot my password", "wachtwoord"),
    ],
)
def test_small_bot_answers_clear_questions(
    small_matcher: Matcher, question: str, intent: str
) -> None:
    match = small_matcher.match(question)
    assert match.intent == intent
    assert match.decision in (ANSWER, CLARIFY)


def test_clarify_offers_the_best_guess_first(small_matcher: Matcher) -> None:
    row = small_matcher.scores(["lidmaatschap"])[0]
    best = small_matcher.intent_ids[int(np.argmax(row))]
    between = (small_matcher.thresholds.answer + small_matcher.thresholds.clarify) / 2
    forced = np.zeros_like(row)
    forced[int(np.argmax(row))] = between
    forced[int(np.argsort(row)[-2])] = between * 0.9
    match = small_matcher.decide(forced)
    assert match.decision == CLARIFY
    assert match.options[0] == best


def test_a_question_split_between_two_intents_is_asked_back_not_handed_off(
    small_matcher: Matcher,
) -> None:
    # "lidmaatschap?": the fee or cancelling? Both score under the clarify
    # threshold of this 5-intent bot, but together they hold nearly everything.
    match = small_matcher.match("lidmaatschap?")
    assert match.decision == CLARIFY, match
    assert set(match.options) == {"contributie", "opzeggen"}
    # Spread over several intents it is a stranger: a person takes it.
    best = 0.9 * small_matcher.thresholds.clarify
    row = np.full(len(small_matcher.intent_ids), 0.8 * best)
    row[0] = best
    assert best + 0.8 * best < 0.9  # no two intents hold (nearly) everything
    assert small_matcher.decide(row).decision == HANDOFF
    # Two-way but lopsided: no real second option, so no question back.
    row[:3] = [small_matcher.thresholds.clarify * 0.95, 0.1, 0.0]
    row[3:] = (1 - row[:3].sum()) / (len(row) - 3)
    assert small_matcher.decide(row).decision == HANDOFF


def test_low_scores_hand_off(small_matcher: Matcher) -> None:
    row = np.full(len(small_matcher.intent_ids), 1.0 / len(small_matcher.intent_ids))
    row *= min(1.0, small_matcher.thresholds.clarify * 0.5 * len(row))
    assert small_matcher.decide(row).decision == HANDOFF


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Hoe zeg ik m'n lidmaatschap óp?!", "hoe zeg ik m n lidmaatschap op"),
        ("Ik wil   beëindigen", "ik wil beeindigen"),
        ("CAFÉ-bezoek", "cafe bezoek"),
    ],
)
def test_normalise_folds_case_diacritics_and_punctuation(raw: str, normalised: str) -> None:
    assert normalise(raw) == normalised


def test_example_bot_keeps_the_gate_and_hands_off_most_unanswerable(
    example_matcher: Matcher,
) -> None:
    bot = load_bot(EXAMPLE_FLOWS)
    figures = evaluate(example_matcher, load_cases(EVAL_FILE, set(bot.intent_ids()))).metrics
    # Measured with e5 and the cost-searched calibration (0.924 / 0.017 /
    # 0.839 / 0.996), each with a question to spare. Asking back is cheap by
    # the cost figure; issue 13's out-of-scope target (0.85) is one question
    # short.
    assert figures["in_scope_accuracy"] >= 0.915, figures
    assert figures["wrong_answer_rate"] <= 0.02, figures
    assert figures["oos_recall"] >= 0.82, figures
    assert figures["in_scope_resolved"] >= 0.99, figures


def test_single_question_match_is_close_to_bare_encode_time(example_matcher: Matcher) -> None:
    questions = [c.question for c in load_cases(EVAL_FILE)][:40]
    bare, whole = [], []
    for q in questions:
        started = time.perf_counter()
        example_matcher.query_encoder.encode([q])
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        example_matcher.match(q)
        whole.append(time.perf_counter() - started)
    # Generous: this machine is shared; the bench measures the real ratio.
    assert np.median(whole) <= 3 * np.median(bare) + 0.01


def test_accuracy_table_skips_absent_sets_and_formats_targets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.accuracy import _sets

    assert [name for name, _, _ in _sets(tmp_path)] == ["example bot"]
    targets = dict(
        zip(
            ("in_scope_accuracy", "oos_recall", "wrong_answer_rate"),
            TARGETS["xsid-nl"],
            strict=True,
        )
    )
    row = {
        "set": "xsid-nl",
        "n": 10,
        "in_scope_accuracy": 0.95,
        "in_scope_resolved": 0.98,
        "oos_recall": 0.2,
        "wrong_answer_rate": 0.04,
        "clarify_rate": 0.05,
        "closed_set_accuracy": 0.96,
        "cost": 0.31,
        "targets": targets,
    }
    row["passed"] = {"in_scope_accuracy": True, "oos_recall": False, "wrong_answer_rate": True}
    row["pass"] = False
    row["ceiling"] = {
        "in_scope_accuracy": 0.93,
        "oos_recall": 0.31,
        "wrong_answer_rate": 0.06,
        "shortfall": 0.01,
        "answer": 0.6,
        "clarify": 0.4,
    }
    text = format_table([row])
    assert "xsid-nl" in text and "0.200 ✗ (≥0.40)" in text and "0.040 ✓ (≤0.05)" in text
    assert "0 of 1 sets meet all their targets" in text
    assert "0.310" in text and "mean over the sets: 0.310" in text
    assert "answer ≥ 0.600, clarify ≥ 0.400" in text and "wrong answer rate 0.060 ✗" in text


def test_the_ceiling_is_at_least_as_close_to_the_targets_as_the_calibrated_thresholds(
    example_matcher: Matcher,
) -> None:
    from benchmarks.accuracy import _shortfall, ceiling

    cases = load_cases(EVAL_FILE, set(example_matcher.intent_ids))
    targets = dict(
        zip(
            ("in_scope_accuracy", "oos_recall", "wrong_answer_rate"),
            TARGETS["example bot"],
            strict=True,
        )
    )
    best = ceiling(example_matcher, cases, targets)
    calibrated = evaluate(example_matcher, cases).metrics
    assert best["shortfall"] <= round(_shortfall(calibrated, targets), 4)
    assert 0 < best["clarify"] <= best["answer"] < 1
    assert callable(accuracy_table)


def test_report_tells_an_asked_back_off_topic_question_from_a_wrong_answer() -> None:
    from botbuilder.matching.decision import Candidate, Match
    from botbuilder.matching.evaluation import Case, Outcome, _suggestion

    ranked = (Candidate("huisregels", 0.28), Candidate("forum", 0.1))
    asked = Outcome(
        Case("vertel eens een mop", HANDOFF),
        Match(CLARIFY, "huisregels", 0.28, ranked, ("huisregels",)),
    )
    answered = Outcome(
        Case("vertel eens een mop", HANDOFF), Match(ANSWER, "huisregels", 0.6, ranked)
    )
    assert "asked back with 'huisregels'" in _suggestion(asked)
    assert "clarify_threshold" in _suggestion(asked)
    assert "answered as 'huisregels'" in _suggestion(answered)


def test_the_comparison_shows_every_candidate_on_every_set_with_the_mean_cost() -> None:
    from benchmarks.accuracy import candidate, format_comparison

    def row(name: str, cost: float) -> dict[str, object]:
        return {
            "set": name,
            "n": 10,
            "in_scope_accuracy": 0.9,
            "wrong_answer_rate": 0.02,
            "oos_recall": 0.5,
            "cost": cost,
        }

    text = format_comparison(
        {"e5": [row("xsid-nl", 0.2), row("xsid-en", 0.4)], "MiniLM": [row("xsid-nl", 0.3)] * 2}
    )
    lines = text.splitlines()
    assert "xsid-nl" in lines[1] and "xsid-en" in lines[1] and "mean cost" in lines[1]
    assert lines[3].split()[:4] == [
        "e5",
        "0.900/0.020/0.500/0.200",
        "0.900/0.020/0.500/0.400",
        "0.300",
    ]
    joined = candidate("multilingual-e5-small+all-MiniLM-L6-v2")
    assert joined.name == "multilingual-e5-small+all-MiniLM-L6-v2" and joined.centred
