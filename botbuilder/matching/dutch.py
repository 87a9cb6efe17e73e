"""Informal Dutch spellings written out, before a question is matched.

Members type "kan ik mn ww ff resetten", managers write "Kan ik mijn
wachtwoord even resetten?". Neither view of a question bridges that well:
the character n-grams of "ww" share nothing with "wachtwoord", and the
encoder has rarely seen "mn". So chat spellings and common abbreviations
are written out, whole words only and keeping everything else of the text
as it was, for the example questions and the member's question alike.

Used only for bots that speak Dutch (`for_languages`); the words are chosen
so that none is an ordinary English word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

__all__ = ["INFORMAL", "for_languages", "write_out"]

INFORMAL: dict[str, str] = {
    "mn": "mijn",
    "m'n": "mijn",
    "zn": "zijn",
    "z'n": "zijn",
    "ff": "even",
    "effe": "even",
    "efkes": "even",
    "ww": "wachtwoord",
    "pw": "wachtwoord",
    "nie": "niet",
    "nt": "niet",
    "kzou": "ik zou",
    "kheb": "ik heb",
    "kben": "ik ben",
    "kwil": "ik wil",
    "k": "ik",
    "kan't": "kan het",
    "'t": "het",
    "'n": "een",
    "da's": "dat is",
    "wnr": "wanneer",
    "hvl": "hoeveel",
    "hoevee": "hoeveel",
    "mss": "misschien",
    "gwn": "gewoon",
    "idd": "inderdaad",
    "aub": "alsjeblieft",
    "ajb": "alsjeblieft",
    "svp": "alsjeblieft",
    "evt": "eventueel",
    "ipv": "in plaats van",
    "ong": "ongeveer",
    "iem": "iemand",
    "nx": "niks",
    "wrm": "waarom",
    "wrom": "waarom",
}

_WORD = re.compile(
    r"(?<![\w'])("
    + "|".join(re.escape(w) for w in sorted(INFORMAL, key=len, reverse=True))
    + r")(?![\w'])",
    re.IGNORECASE,
)


def write_out(text: str) -> str:
    """`text` with informal Dutch spellings written out: "mn ww ff" -> "mijn wachtwoord even"."""
    return _WORD.sub(lambda m: INFORMAL[m.group(1).casefold()], text)


def _same(text: str) -> str:
    return text


def for_languages(languages: Iterable[str]) -> Callable[[str], str]:
    """The rewriting a bot speaking `languages` gets: `write_out` if Dutch is among them."""
    return write_out if "nl" in set(languages) else _same
