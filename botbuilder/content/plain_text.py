"""The one rule for text a person typed: a member's message, an agent's reply or note.

JSON can carry what no keyboard makes: a lone surrogate (`"\\ud800"`), which no
database driver can encode (a 500 on SQLite and PostgreSQL alike), and control
characters, of which PostgreSQL refuses NUL outright and the rest (escape
sequences, bells) only ever mean mischief in a console or a log. Such text is
refused with a message that says where, instead of being stored or cleaned up
behind the writer's back. Tabs and line breaks are typed, so they stay.
"""

from __future__ import annotations

import re

from botbuilder.errors import N_, BadRequest, Message, Phrase

__all__ = ["plain_text", "untypable"]

# C0 and C1 controls but tab, line feed and carriage return; DEL; every surrogate.
_UNTYPABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def untypable(text: str) -> str | None:
    """What is wrong with `text`, e.g. "a control character (U+0000) at position 3", or None."""
    found = _UNTYPABLE.search(text)
    if found is None:
        return None
    char = found.group()
    where = {"code": f"{ord(char):04X}", "position": found.start() + 1}
    if "\ud800" <= char <= "\udfff":
        return Message(N_("a lone surrogate (U+%(code)s) at position %(position)s"), **where)
    return Message(N_("a control character (U+%(code)s) at position %(position)s"), **where)


def plain_text(text: str, what: str) -> str:
    """`text` as given when a person could have typed it; BadRequest naming the first character
    that is a lone surrogate or a control character (other than tab and line breaks)."""
    problem = untypable(text)
    if problem is None:
        return text
    raise BadRequest(
        N_("%(what)s contains a character that cannot be stored: %(problem)s; send plain text"),
        what=Phrase(what),
        problem=problem,
    )
