"""Masking personal data in text members type: e-mail addresses, phone numbers, IBANs.

With bot.yml's `privacy.mask` on (the default) a member's message is stored
masked, so transcripts, handoff questions and team notifications do not keep
what the member did not need to give: `jan@example.org` becomes
`j***@example.org`, `06-12345678` becomes `**-******78`, and
`NL91 ABNA 0417 1643 00` becomes `NL** **** **** **43 00`. Enough stays for an
agent to recognise what was meant ("the address at example.org", "the number
ending in 78"). An address a member leaves for a follow-up is taken from the
text before it is stored, and kept only on the follow-up.
"""

from __future__ import annotations

import re

from botbuilder.content.emails import EMAIL

__all__ = ["mask_personal_data"]

# Two letters, two check digits, then 11 to 30 letters or digits in groups of four.
_IBAN = re.compile(
    r"(?<![\w*])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![\w*])"
)
# 9 to 14 digits starting with + or 0, with spaces, dashes, dots or brackets between;
# not followed by a colon, so a date with a time ("01-12-2026 10:00") is left alone.
_PHONE = re.compile(r"(?<![\w*+])(?:\+\d|\(?0)(?:[ \-./()]{0,2}\d){8,13}(?![\w:*])")


def mask_personal_data(text: str) -> str:
    """`text` with e-mail addresses, IBANs and phone numbers masked."""
    text = EMAIL.sub(_mask_email, text)
    text = _IBAN.sub(_mask_iban, text)
    return _PHONE.sub(_mask_phone, text)


def _mask_email(match: re.Match[str]) -> str:
    local, _, domain = match.group().partition("@")
    return f"{local[0]}***@{domain}"


def _mask_iban(match: re.Match[str]) -> str:
    compact = re.sub(r"\s", "", match.group()).upper()
    if not 15 <= len(compact) <= 34:
        return match.group()
    masked = compact[:2] + "*" * (len(compact) - 6) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def _mask_phone(match: re.Match[str]) -> str:
    number = match.group()
    keep = [i for i, c in enumerate(number) if c.isdigit()][-2:]
    return "".join("*" if c.isdigit() and i not in keep else c for i, c in enumerate(number))
