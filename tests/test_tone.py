"""Tone of voice: a Dutch bot's answers keep to its je or u, measured on a labelled set."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.advice import advise
from botbuilder.content.loader import inspect_bot, load_bot
from botbuilder.content.tone import classify

LABELLED = Path(__file__).parent / "fixtures" / "tone" / "nl_address.tsv"
QUESTIONS = "[Hoe zeg ik op, opzeggen lidmaatschap, ik wil stoppen, hoe kan ik opzeggen]"


def labelled() -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    return [(row[0], row[1]) for row in rows if row[0] and not row[0].startswith("#")]


def precision_recall(label: str) -> tuple[float, float]:
    pairs = [(truth, classify(text)) for truth, text in labelled()]
    said = sum(1 for _, guess in pairs if guess == label)
    right = sum(1 for truth, guess in pairs if guess == label and truth == label)
    actual = sum(1 for truth, _ in pairs if truth == label)
    return right / said, right / actual


def test_the_labelled_set_has_sixty_sentences_or_more_of_each_kind() -> None:
    labels = [label for label, _ in labelled()]
    assert len(labels) >= 60
    assert {label: labels.count(label) >= 2 for label in ("je", "u", "neutral", "mixed")}


@pytest.mark.parametrize("label", ["je", "u", "neutral", "mixed"])
def test_the_form_of_address_is_told_with_high_precision_and_recall(label: str) -> None:
    precision, recall = precision_recall(label)
    assert precision >= 0.95 and recall >= 0.95, (label, precision, recall)


@pytest.mark.parametrize(
    ("sentence", "form"),
    [
        ("De rit start om 9 u bij de kerk.", "neutral"),  # an hour
        ("Neem de U-bocht bij de brug.", "neutral"),  # a letter
        ("Het woord 'u' staat tussen aanhalingstekens.", "neutral"),
        ("Zorg dat je fiets klaarstaat voor 9 u.", "je"),
        ("Heeft u je pas bij u?", "mixed"),
    ],
)
def test_hours_and_letters_are_not_taken_for_the_formal_you(sentence: str, form: str) -> None:
    assert classify(sentence) == form


def bot(tmp_path: Path, address: str | None, answer: str, questions: str = QUESTIONS) -> list[str]:
    if address:
        (tmp_path / "bot.yml").write_text(f"language: nl\ntone:\n  address: {address}\n")
    (tmp_path / "faq.yml").write_text(
        f"language: nl\nintents:\n  - id: opzeggen\n    questions: {questions}\n"
        f"    answer: {answer!r}\n"
    )
    return [str(p) for p in advise(load_bot(tmp_path))]


def test_a_formal_answer_in_a_je_bot_is_warned_about_with_the_fix(tmp_path: Path) -> None:
    warnings = bot(tmp_path, "je", "Stuurt u een mail naar leden@club.nl met uw lidnummer.")
    assert any(
        "the answer of 'opzeggen' says 'u' but this bot says 'je'" in w and "rewrite 'u'" in w
        for w in warnings
    )


def test_an_informal_answer_in_a_u_bot_is_warned_about(tmp_path: Path) -> None:
    warnings = bot(tmp_path, "u", "Stuur een mail naar leden@club.nl met je lidnummer.")
    assert any("says 'je' but this bot says 'u'" in w for w in warnings)


def test_an_answer_that_mixes_je_and_u_is_warned_about(tmp_path: Path) -> None:
    warnings = bot(tmp_path, "je", "Stuur een mail met uw lidnummer, dan helpen we je.")
    assert any("mixes 'je' and 'u'" in w for w in warnings)


def test_an_answer_in_the_bots_own_form_gets_no_tone_warning(tmp_path: Path) -> None:
    warnings = bot(tmp_path, "je", "Stuur een mail naar leden@club.nl met je lidnummer.")
    assert not any("this bot says" in w or "mixes" in w for w in warnings)


def test_without_a_chosen_form_of_address_nothing_is_said_about_it(tmp_path: Path) -> None:
    warnings = bot(tmp_path, None, "Stuurt u een mail met je lidnummer.")
    assert not any("this bot says" in w or "mixes" in w for w in warnings)


def test_a_how_to_answer_without_a_next_step_is_warned_about(tmp_path: Path) -> None:
    assert any("without a next step" in w for w in bot(tmp_path, "je", "Dat is jammer."))
    assert not any(
        "without a next step" in w
        for w in bot(tmp_path, "je", "Ga naar Mijn account en kies Opzeggen.")
    )


def test_an_answer_far_longer_than_the_others_is_warned_about(tmp_path: Path) -> None:
    short = (
        "  - id: b{n}\n    questions: [vraag {n} a, vraag {n} b]\n    answer: Kort antwoord {n}.\n"
    )
    long = "Lees dit. " * 80
    (tmp_path / "faq.yml").write_text(
        "language: nl\nintents:\n"
        + "".join(short.format(n=n) for n in range(5))
        + f"  - id: lang\n    questions: [lange vraag, nog een]\n    answer: {long!r}\n"
    )
    warnings = [str(p) for p in advise(load_bot(tmp_path))]
    assert any("the answer of 'lang' is 799 characters" in w for w in warnings)
    assert not any("the answer of 'b0' is" in w for w in warnings)


def test_check_prints_the_tone_warning_with_file_and_line(tmp_path: Path) -> None:
    bot(tmp_path, "je", "Stuurt u een mail naar leden@club.nl met uw lidnummer.")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "faq.yml:3:5: warning: the answer of 'opzeggen' says 'u'" in result.output


def test_an_unknown_form_of_address_is_an_error_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "bot.yml").write_text("language: nl\ntone:\n  address: jij\n")
    (tmp_path / "faq.yml").write_text(
        "language: nl\nintents:\n  - id: a\n    questions: [x]\n    answer: y\n"
    )
    bot_, problems = inspect_bot(tmp_path)
    assert bot_ is None
    assert any(
        p.line == 3 and "'address' must be 'je' (informal) or 'u' (formal)" in p.message
        for p in problems
    )


def test_the_example_bot_keeps_to_its_own_form_of_address() -> None:
    example = load_bot(Path(__file__).parent.parent / "flows")
    warnings = [str(p) for p in advise(example)]
    assert not [w for w in warnings if "this bot says" in w or "mixes" in w]


BLIND = LABELLED.with_name("nl_address_blind.tsv")


def test_the_blind_set_written_without_seeing_the_rules_is_told_well() -> None:
    # Written by someone who never saw this module. Before its two misses were
    # fixed ("U2", "de letter u") it scored: u precision 0.935, neutral recall 0.941.
    rows = [line.split("\t") for line in BLIND.read_text(encoding="utf-8").splitlines()]
    pairs = [(row[0], classify(row[1])) for row in rows if row[0] and not row[0].startswith("#")]
    assert len(pairs) >= 80
    for label in ("je", "u", "neutral", "mixed"):
        said = [truth for truth, guess in pairs if guess == label]
        actual = [guess for truth, guess in pairs if truth == label]
        assert said.count(label) / len(said) >= 0.9, label
        assert actual.count(label) / len(actual) >= 0.9, label


def test_a_question_for_a_fact_is_no_how_to_question(tmp_path: Path) -> None:
    questions = "[Hoeveel kost het lidmaatschap, How much is the fee, hoe duur is het, prijs]"
    assert not any(
        "without a next step" in w
        for w in bot(tmp_path, "je", "Het lidmaatschap kost 45 euro.", questions)
    )
