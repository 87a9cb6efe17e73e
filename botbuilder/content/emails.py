"""The one definition of an e-mail address, for every room that reads one.

Members leave an address when nobody can answer them now, and managers and
agents sign in with one; both are checked here, the same way.
"""

from __future__ import annotations

import re

__all__ = ["EMAIL", "find_email", "is_email"]

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
MAX_LENGTH = 254  # the longest address SMTP carries
# What ends a word in running text around an address: "mail me (a@b.nl), thanks".
_WORD_BREAKS = re.compile(r"[\s<>(),;:\"']+")


def is_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces)."""
    return len(text) <= MAX_LENGTH and bool(EMAIL.match(text))


def find_email(text: str) -> str | None:
    """The first word in `text` with an @ inside it: what the writer meant as an
    address, valid or not (so they can be told it is not)."""
    for word in _WORD_BREAKS.split(text):
        if "@" in word[1:-1]:
            return word.rstrip(".")
    return None
