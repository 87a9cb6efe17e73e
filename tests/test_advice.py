"""`check`'s advice: thin, repetitive or confusable intents are warned about, not refused."""

from __future__ import annotations

from pathlib import Path

from botbuilder.content.advice import advise
from botbuilder.content.loader import load_bot


def bot_with(tmp_path: Path, intents: str) -> list[str]:
    (tmp_path / "faq.yml").write_text("language: en\nintents:\n" + intents)
    return [str(p) for p in advise(load_bot(tmp_path))]


def test_intent_with_few_phrasings_gets_a_warning(tmp_path: Path) -> None:
    warnings = bot_with(
        tmp_path,
        "  - id: a\n    questions: [How much is it?]\n    answer: x\n"
        "  - id: b\n    questions: [Where are you, What is your address, How do I find you,"
        " location of the office]\n    answer: y\n",
    )
    assert any(":3:5: intent 'a' has 1 example question; 4 or more" in w for w in warnings)
    assert not any("'b' has" in w for w in warnings)


def test_near_identical_phrasings_get_a_warning(tmp_path: Path) -> None:
    warnings = bot_with(
        tmp_path,
        "  - id: a\n    questions: [How do I pay?, How do I pay ?, how do i pay, How do I pay!]\n"
        "    answer: x\n"
        "  - id: b\n    questions: [Where are you, What is your address, How do I find you,"
        " location of the office]\n    answer: y\n",
    )
    assert any("the questions of 'a' are nearly the same sentence" in w for w in warnings)


def test_intents_whose_questions_overlap_are_named_as_a_pair(tmp_path: Path) -> None:
    warnings = bot_with(
        tmp_path,
        "  - id: pay_fee\n    questions: [how do I pay the fee, paying the membership fee,"
        " pay my fee online, fee payment]\n    answer: x\n"
        "  - id: fee_amount\n    questions: [how much is the fee, the membership fee amount,"
        " fee for members, what fee do I pay]\n    answer: y\n"
        "  - id: address\n    questions: [Where are you, What is your address, How do I find you,"
        " location of the office]\n    answer: z\n",
    )
    assert any(
        "questions of 'pay_fee' look most like questions of 'fee_amount'" in w
        or "questions of 'fee_amount' look most like questions of 'pay_fee'" in w
        for w in warnings
    )
    assert not any("'address'" in w for w in warnings)
