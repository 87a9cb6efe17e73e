"""bot.yml's mail settings: the weekly digest (`digest:`) and a team's own address (`email:`).

    digest:
      to: [bestuur@example.org]   # e-mail recipients (needs BOTBUILDER_SMTP_URL)
      teams: [support]            # and/or these teams' webhooks
      weekday: mon                # default mon
      hour: 8                     # default 8, in the bot's timezone

Kept apart from `bot_settings.py` so that module stays a readable size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap

from botbuilder.content.emails import is_email
from botbuilder.content.model import DigestSettings, TeamSettings
from botbuilder.content.yaml_source import SourceFile, describe, suggest
from botbuilder.errors import N_, Message, Phrase

__all__ = ["DIGEST_KEYS", "read_digest", "team_email"]

DIGEST_KEYS = ("to", "teams", "weekday", "hour")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def team_email(f: SourceFile, spec: CommentedMap, name: str) -> str | None:
    """A team's address: the sender of its follow-up replies, and where members' answers go."""
    email = f.string(spec, "email", Message(N_("team '%(team)s'"), team=name))
    if email and not is_email(email):
        not_an_address = N_("email '%(email)s' of team '%(team)s' is not an address")
        f.error(f.value_pos(spec, "email"), Message(not_an_address, email=email, team=name))
        return None
    return email or None


def read_digest(
    f: SourceFile, data: CommentedMap, teams: Mapping[str, TeamSettings]
) -> DigestSettings:
    """The weekly digest's recipients and time; no digest when the key is absent."""
    raw = data.get("digest")
    if raw is None:
        return DigestSettings()
    if not isinstance(raw, CommentedMap):
        not_a_mapping = N_("'digest' must be a mapping (to, teams, weekday, hour)")
        f.error(f.value_pos(data, "digest"), Message(not_a_mapping))
        return DigestSettings()
    f.check_keys(raw, DIGEST_KEYS, Phrase(N_("digest settings")))
    an_address = Phrase(N_("an address"))
    to = tuple(
        a for a in _strings(f, raw, "to") if _check(f, raw, "to", a, is_email(a), an_address)
    )
    a_team = N_("a team in handoff.teams%(hint)s")
    names = tuple(
        t
        for t in _strings(f, raw, "teams")
        if t in teams or _check(f, raw, "teams", t, False, Message(a_team, hint=suggest(t, teams)))
    )
    day = str(raw.get("weekday", "mon")).strip().lower()[:3]
    if day not in _DAYS:
        not_a_day = N_("'weekday' must be a day such as mon or fri")
        f.error(f.value_pos(raw, "weekday"), Message(not_a_day))
        day = "mon"
    hour = raw.get("hour", 8)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        not_an_hour = N_("'hour' must be 0 to 23, not %(value)s")
        f.error(f.value_pos(raw, "hour"), Message(not_an_hour, value=describe(hour)))
        hour = 8
    return DigestSettings(to=to, teams=names, weekday=_DAYS.index(day), hour=hour)


def _strings(f: SourceFile, node: CommentedMap, key: str) -> list[str]:
    value: Any = node.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        not_a_list = N_("'%(key)s' must be a list, not %(value)s")
        f.error(f.value_pos(node, key), Message(not_a_list, key=key, value=describe(value)))
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def _check(f: SourceFile, node: CommentedMap, key: str, value: str, ok: bool, what: str) -> bool:
    if not ok:
        not_what = N_("digest %(key)s: '%(value)s' is not %(what)s")
        f.error(f.value_pos(node, key), Message(not_what, key=key, value=value, what=what))
    return ok
