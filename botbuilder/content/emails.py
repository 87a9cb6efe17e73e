"""The one definition of an e-mail address, for every room that reads one.

Members leave an address when nobody can answer them now, and managers and
agents sign in with one; both are checked here, the same way.

The rule is deliberately narrower than RFC 5322: the address ends up in a
`mailto:` link in the console, where `?`, `&`, `=`, `%` and `/` would start
parameters (`?bcc=…&body=…`) or escape sequences. So the local part takes
letters, digits and `. _ + - '`, the domain letters, digits and hyphens in
dot-separated labels, ending in a letters-only top-level domain.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["EMAIL", "find_email", "is_email", "mailto", "without_address"]

_LOCAL = r"[A-Za-z0-9_+'-]+(?:\.[A-Za-z0-9_+'-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")
MAX_LENGTH = 254  # the longest address SMTP carries
MAX_LOCAL_LENGTH = 64
# What ends a word in running text around an address: "mail me (a@b.nl), thanks".
_WORD_BREAKS = re.compile(r"[\s<>(),;:\"']+")


def is_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces, nothing a
    `mailto:` link would read as a parameter)."""
    return (
        len(text) <= MAX_LENGTH
        and bool(EMAIL.fullmatch(text))
        and len(text.partition("@")[0]) <= MAX_LOCAL_LENGTH
    )


def find_email(text: str) -> str | None:
    """The first word in `text` with an @ inside it: what the writer meant as an
    address, valid or not (so they can be told it is not)."""
    for word in _WORD_BREAKS.split(text):
        if "@" in word[1:-1]:
            return word.rstrip(".")
    return None


# "my email is", "mijn e-mailadres is", "email:" … : the words that only introduce an address.
_LEAD_IN = re.compile(
    r"(?:\b(?:my|mijn|m'n)\s+)?\b(?:e-?mail|mail)(?:\s*-?\s*(?:adres|address))?\s*(?:is|:)?\s*$",
    re.IGNORECASE,
)


def without_address(text: str, address: str) -> str:
    """`text` with the address, and the words that only introduced it, taken out:
    "my email is jan@example.org, it's about my invoice" -> "it's about my invoice"."""
    before, _, after = text.partition(address)
    before = _LEAD_IN.sub("", before).rstrip(" ,.:;-")
    after = after.lstrip(" ,.:;-")
    return re.sub(r"\s{2,}", " ", " ".join(part for part in (before, after) if part)).strip()


def mailto(address: str) -> str:
    """A `mailto:` link to exactly `address`: every character that could start a
    parameter or an escape is percent-encoded, even in an address stored before
    the rule above was this narrow."""
    return "mailto:" + quote(address, safe="@")
