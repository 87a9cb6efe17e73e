"""The shipped example bot answers questions it has never seen, with the real model."""

from __future__ import annotations

import pytest

from botbuilder.content.languages import guess_language
from botbuilder.content.loader import load_bot
from botbuilder.matching.encoder import CachedEncoder, encoder_for
from botbuilder.matching.evaluation import evaluate, load_cases
from botbuilder.matching.matcher import Matcher

from .conftest import EXAMPLE_FLOWS, ROOT

EVAL_FILE = ROOT / "flows-tests" / "eval.yml"


@pytest.fixture(scope="module")
def evaluation(embedding_cache):  # type: ignore[no-untyped-def]
    bot = load_bot(EXAMPLE_FLOWS)  # with the encoder its bot.yml names, as it ships
    encoder = CachedEncoder(encoder_for(bot.settings.matcher.model), embedding_cache)
    return evaluate(Matcher(bot, encoder), load_cases(EVAL_FILE, set(bot.intent_ids())))


def test_evaluation_file_is_large_and_covers_both_languages_and_out_of_scope() -> None:
    cases = load_cases(EVAL_FILE)
    assert len(cases) >= 120
    assert sum(c.expect == "handoff" for c in cases) >= 25
    languages = [guess_language(c.question, ("nl", "en")) for c in cases]
    assert languages.count("nl") >= 40 and languages.count("en") >= 40


def test_evaluation_questions_are_not_copied_from_the_flows() -> None:
    bot = load_bot(EXAMPLE_FLOWS)
    examples = {q.casefold().strip(" ?!.") for i in bot.intents.values() for q in i.questions}
    copied = [
        c.question for c in load_cases(EVAL_FILE) if c.question.casefold().strip(" ?!.") in examples
    ]
    assert copied == []


def test_example_bot_answers_unseen_questions_right(evaluation) -> None:  # type: ignore[no-untyped-def]
    # The figures of `make bench-accuracy` with e5 and the cost-searched
    # calibration (0.924 / 0.996 / 0.839 / 0.017), each guarded with about one
    # question to spare: a regression shows here. Issue 13's targets: 0.92
    # in-scope (met), at most 0.03 wrong answers (met), 0.85 out-of-scope
    # recall (one question short: 52 of 62).
    figures = evaluation.metrics
    assert figures["in_scope_accuracy"] >= 0.915, figures
    assert figures["in_scope_resolved"] >= 0.99, figures
    assert figures["oos_recall"] >= 0.82, figures
    assert figures["wrong_answer_rate"] <= 0.02, figures
