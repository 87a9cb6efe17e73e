"""Thresholds by the cost figure on a bot's own held-out evidence, and the
one decision rule the search and the matcher share."""

from __future__ import annotations

import numpy as np

from botbuilder.matching.calibration import Evidence, best_thresholds
from botbuilder.matching.decision import ANSWER, CLARIFY, HANDOFF, Thresholds, decide, verdicts

IDS = ["a", "b", "c", "d"]


def _rows(top: float, second: float, n: int, intent: int = 0) -> np.ndarray:
    rows = np.full((n, len(IDS)), (1 - top - second) / (len(IDS) - 2))
    rows[:, intent] = top
    rows[:, (intent + 1) % len(IDS)] = second
    return rows


def test_unanswerable_questions_scoring_like_answerable_ones_raise_the_answer_threshold() -> None:
    # Half the unanswerable held-out questions score 0.75, close to the
    # answerable ones (0.8-0.9), like a question about an intent next to one
    # the bot has. A point a quarter of the way between the typical scores
    # (the old rule: 0.53 + 0.25 x 0.37 = 0.62) answered all of that half.
    answerable = np.vstack([_rows(0.9, 0.05, 30), _rows(0.8, 0.1, 10)])
    unanswerable = np.vstack([_rows(0.3, 0.2, 10), _rows(0.75, 0.1, 10)])
    evidence = Evidence(
        np.vstack([answerable, unanswerable]), np.concatenate([np.zeros(40), -np.ones(20)])
    )
    t = best_thresholds(evidence)
    assert 0.75 < t.answer <= 0.8
    assert decide(unanswerable[-1], IDS, t).decision != ANSWER
    assert decide(answerable[-1], IDS, t).decision == ANSWER


def test_a_score_region_where_answers_are_often_wrong_is_asked_back_not_answered() -> None:
    # Among held-out answerable questions scoring 0.7 with a runner-up at 0.25,
    # most are wrong: answering costs 3 each, asking back 0.5.
    right = _rows(0.95, 0.02, 30)
    shaky = _rows(0.7, 0.25, 20)
    truth = np.concatenate([np.zeros(30), np.r_[np.zeros(5), np.full(15, 1)], -np.ones(10)])
    evidence = Evidence(np.vstack([right, shaky, _rows(0.3, 0.2, 10)]), truth)
    t = best_thresholds(evidence)
    assert decide(shaky[0], IDS, t).decision == CLARIFY
    assert decide(right[0], IDS, t).decision == ANSWER
    assert decide(_rows(0.3, 0.2, 1)[0], IDS, t).decision == HANDOFF


def test_evidence_without_unanswerable_questions_keeps_the_fallback() -> None:
    t = best_thresholds(Evidence(_rows(0.9, 0.05, 5), np.zeros(5)))
    assert not t.calibrated


def test_the_search_and_the_matcher_apply_the_same_rule() -> None:
    rng = np.random.default_rng(3)
    rows = rng.dirichlet(np.full(len(IDS), 0.4), size=300)
    ranked = np.argsort(-rows, axis=1)[:, :2]
    for t in (Thresholds(0.6, 0.3), Thresholds(0.5, 0.5, margin=0.3), Thresholds(0.9, 0.1)):
        answered, asked = verdicts(rows, ranked, t.answer, t.clarify, t.margin)
        for row, a, q in zip(rows, answered, asked, strict=True):
            decision = decide(row, IDS, t).decision
            assert decision == (ANSWER if a else CLARIFY if q else HANDOFF)


def test_a_close_runner_up_turns_an_answer_into_a_question_back() -> None:
    row = np.array([0.55, 0.4, 0.03, 0.02])
    assert decide(row, IDS, Thresholds(0.5, 0.3)).decision == ANSWER
    match = decide(row, IDS, Thresholds(0.5, 0.3, margin=0.2))
    assert match.decision == CLARIFY
    assert match.options[:2] == ("a", "b")


def test_a_clear_winner_below_the_managers_own_answer_threshold_is_asked_back() -> None:
    # 0.6 against 0.1 is a clear winner: answered under the fallback thresholds,
    # but a manager who set answer_threshold 0.7 in bot.yml gets no answer below it.
    row = np.array([0.6, 0.1, 0.05, 0.05])
    assert decide(row, IDS, Thresholds(0.7, 0.45, calibrated=False)).decision == ANSWER
    match = decide(row, IDS, Thresholds(0.7, 0.45, fixed=True))
    assert match.decision == CLARIFY and match.options[0] == "a"
    assert (
        decide(np.array([0.75, 0.1, 0.1, 0.05]), IDS, Thresholds(0.7, 0.45, fixed=True)).decision
        == ANSWER
    )


def test_calibrated_thresholds_answer_no_clear_winner_below_the_answer_threshold() -> None:
    # Held-out questions of intents the bot lacks often score like this one
    # (0.57 against 0.16, a clear winner in the clarify band). The
    # clear-winner rule answered them; the calibrated thresholds were searched
    # without it, so the matcher must not add it back.
    row = np.array([0.57, 0.16, 0.15, 0.12])
    calibrated = Thresholds(0.65, 0.35, margin=0.3)
    assert not calibrated.clear_winner
    assert decide(row, IDS, calibrated).decision == CLARIFY
    fallback = Thresholds(0.65, 0.35, calibrated=False)
    assert fallback.clear_winner and decide(row, IDS, fallback).decision == ANSWER


def test_the_search_never_relies_on_the_clear_winner_rule() -> None:
    # Answerable held-out rows at 0.6 against 0.1 are right, unanswerable ones
    # score 0.3: the search must answer the former by its own threshold.
    right = _rows(0.6, 0.1, 30)
    evidence = Evidence(
        np.vstack([right, _rows(0.3, 0.25, 20)]), np.concatenate([np.zeros(30), -np.ones(20)])
    )
    t = best_thresholds(evidence)
    assert t.answer <= 0.6
    assert decide(right[0], IDS, t).decision == ANSWER
