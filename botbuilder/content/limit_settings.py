"""bot.yml `limits:`: the public API's rate limits, checked like every other section.

Each value is one limit such as "30/minute", or several joined by ';'
("30/minute; 300/hour"), in the notation of the `limits` library that counts
them (`conversations/rate_limits.py`), so what loads here is what is counted.
"""

from __future__ import annotations

from dataclasses import fields

from limits import parse_many
from ruamel.yaml.comments import CommentedMap

from botbuilder.content.model import LimitSettings
from botbuilder.content.yaml_source import SourceFile, describe
from botbuilder.errors import N_, Message, Phrase

__all__ = ["LIMIT_KEYS", "read_limits"]

LIMIT_KEYS = tuple(f.name for f in fields(LimitSettings))


def read_limits(f: SourceFile, data: CommentedMap) -> LimitSettings:
    """The rate limits bot.yml sets, defaults for the rest; a bad value is an error at its line."""
    section = data.get("limits")
    if section is None:
        return LimitSettings()
    if not isinstance(section, CommentedMap):
        not_a_mapping = N_(
            "'limits' must be a mapping such as 'messages_per_conversation: 30/minute'"
        )
        f.error(f.value_pos(data, "limits"), Message(not_a_mapping))
        return LimitSettings()
    f.check_keys(section, LIMIT_KEYS, Phrase(N_("limits settings")))
    chosen: dict[str, str] = {}
    for key in LIMIT_KEYS:
        if key not in section:
            continue
        value = section[key]
        text = value.strip() if isinstance(value, str) else ""
        try:
            items = parse_many(text) if text else []
        except ValueError:
            items = []
        if not items or any(item.amount < 1 for item in items):
            not_a_rate = N_(
                '\'%(key)s\' must be a rate such as "30/minute" or "30/minute; 300/hour" '
                "(per second, minute, hour or day), not %(value)s"
            )
            f.error(f.value_pos(section, key), Message(not_a_rate, key=key, value=describe(value)))
            continue
        chosen[key] = text
    return LimitSettings(**chosen)
