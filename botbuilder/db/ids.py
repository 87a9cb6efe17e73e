"""The one rule for a row id that comes from outside: a whole number the database can hold.

Primary keys are `Integer` columns: 32-bit on PostgreSQL, so an id from a URL, a
query string or a JSON body beyond 2**31 - 1 makes the driver fail with an
overflow (SQLite's limit is 2**63 - 1, but one rule for both keeps them alike).
Such an id cannot name a row, so it is refused before any query; so is text
that only looks like a number: `'²'.isdigit()` is true, but `int('²')` fails,
and `int('١٢')` is 12.
"""

from __future__ import annotations

import re

from botbuilder.errors import BadRequest

__all__ = ["MAX_ID", "fits_id", "row_id"]

MAX_ID = 2**31 - 1  # the largest INTEGER on PostgreSQL
_DIGITS = re.compile(r"[0-9]{1,10}")


def fits_id(value: int) -> bool:
    """Whether `value` could be the id of a row at all."""
    return 0 < value <= MAX_ID


def row_id(raw: object, what: str, *, minimum: int = 1) -> int:
    """`raw` (an int, or ASCII digits) as a row id from `minimum` to MAX_ID; BadRequest otherwise.

    `what` names the field for the message, e.g. "'after'" or "a version id".
    """
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
        value = int(raw)
    if value is None or not minimum <= value <= MAX_ID:
        raise BadRequest(f"{what} must be a whole number from {minimum} to {MAX_ID}")
    return value
