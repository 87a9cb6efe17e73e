"""Informal Dutch written out before matching, for bots that speak Dutch."""

from __future__ import annotations

import pytest

from botbuilder.content.loader import load_bot
from botbuilder.matching.dutch import for_languages, write_out
from botbuilder.matching.matcher import Matcher

from .conftest import SMALL_BOT


@pytest.mark.parametrize(
    ("typed", "written_out"),
    [
        ("kan ik mn ww ff resetten", "kan ik mijn wachtwoord even resetten"),
        ("Hoe zeg ik m'n lidmaatschap op?", "Hoe zeg ik mijn lidmaatschap op?"),
        ("Mn wachtwoord werkt nie", "mijn wachtwoord werkt niet"),
        ("k wil opzeggen", "ik wil opzeggen"),
        ("wnr is de rit", "wanneer is de rit"),
    ],
)
def test_informal_spellings_are_written_out(typed: str, written_out: str) -> None:
    assert write_out(typed) == written_out


def test_only_whole_words_change() -> None:
    assert write_out("nieuwsbrief, mnemonic, koffie, www.example.org") == (
        "nieuwsbrief, mnemonic, koffie, www.example.org"
    )


def test_a_bot_without_dutch_keeps_the_text_as_typed() -> None:
    assert for_languages(["en"])("mn ww") == "mn ww"
    assert for_languages(["nl", "en"])("mn ww") == "mijn wachtwoord"


def test_the_matcher_reads_chat_spelling_like_the_written_word(encoder) -> None:  # type: ignore[no-untyped-def]
    matcher = Matcher(load_bot(SMALL_BOT), encoder)
    typed = matcher.scores(["ik ben mn ww kwijt"])[0]
    written = matcher.scores(["ik ben mijn wachtwoord kwijt"])[0]
    assert typed.argmax() == written.argmax()
    assert abs(typed.max() - written.max()) < 1e-6
