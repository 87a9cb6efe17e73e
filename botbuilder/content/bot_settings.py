"""bot.yml: a bot's settings (name, languages, greeting, matcher, handoff, widget).

Everything has a default, so a bot without bot.yml works. Problems are
reported with file, line and column like those of flow files.
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from botbuilder.content.digest_settings import read_digest, team_email
from botbuilder.content.limit_settings import read_limits
from botbuilder.content.model import (
    BotSettings,
    HandoffSettings,
    MatcherSettings,
    PrivacySettings,
    TeamSettings,
)
from botbuilder.content.widget_settings import WIDGET_KEYS, read_widget
from botbuilder.content.yaml_source import (
    SourceFile,
    describe,
    language_code,
    parsed_text,
    per_language,
    read_yaml,
    suggest,
)
from botbuilder.errors import N_, FlowProblem, Message, Phrase

__all__ = [
    "BOT_KEYS",
    "HANDOFF_KEYS",
    "MATCHER_KEYS",
    "PRIVACY_KEYS",
    "SETTINGS_FILE",
    "TONE_KEYS",
    "TEAM_KEYS",
    "WIDGET_KEYS",
    "declared_keys",
    "read_settings",
]

SETTINGS_FILE = "bot.yml"
BOT_KEYS = (
    "name",
    "language",
    "languages",
    "greeting",
    "matcher",
    "handoff",
    "widget",
    "privacy",
    "tone",
    "digest",
    "limits",
)
MATCHER_KEYS = ("model", "answer_threshold", "clarify_threshold")
HANDOFF_KEYS = ("teams", "offline_message", "default_team", "abandoned_after")
TEAM_KEYS = ("hours", "timezone", "closed_days", "webhook", "email")
PRIVACY_KEYS = ("retention_days", "mask")
TONE_KEYS = ("address",)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def _team_named(name: str) -> Message:
    """Where a team's problem is, in its text (translated on the pages)."""
    return Message(N_("team '%(team)s'"), team=name)


def _threshold(f: SourceFile, node: CommentedMap, key: str) -> float | None:
    value = node.get(key, "auto")
    if value == "auto" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        bad = N_("'%(key)s' must be 'auto' or a number from 0 to 1, not %(value)s")
        f.error(f.value_pos(node, key), Message(bad, key=key, value=describe(value)))
        return None
    return float(value)


def _hours(f: SourceFile, node: CommentedMap) -> dict[int, tuple[tuple[time, time], ...]]:
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for spec, ranges in node.items():
        days = _days(str(spec))
        if days is None:
            not_days = N_("'%(days)s' is not a day or day range; use e.g. mon-fri, sat or sun")
            f.error(f.pos_of(node, spec), Message(not_days, days=spec))
            continue
        parsed: list[tuple[time, time]] = []
        text = "" if ranges in (None, "closed", False) else str(ranges)
        for part in filter(None, (p.strip() for p in text.split(","))):
            m = _HOURS.match(part)
            start = end = None
            if m:
                h1, m1, h2, m2 = (int(x) for x in m.groups())
                if h1 < 24 and m1 < 60 and (h2 < 24 or (h2 == 24 and m2 == 0)) and m2 < 60:
                    start = time(h1, m1)
                    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
            if start is None or end is None or end <= start:
                unclear = N_("opening hours '%(hours)s' not understood; write e.g. \"09:00-17:00\"")
                f.error(f.value_pos(node, spec), Message(unclear, hours=part))
                continue
            parsed.append((start, end))
        for day in days:
            hours[day] = tuple(parsed)
    return hours


def _days(spec: str) -> list[int] | None:
    spec = spec.strip().lower()
    if spec in _DAYS:
        return [_DAYS.index(spec)]
    if "-" in spec:
        first, _, last = spec.partition("-")
        if first in _DAYS and last in _DAYS and _DAYS.index(first) <= _DAYS.index(last):
            return list(range(_DAYS.index(first), _DAYS.index(last) + 1))
    return None


def read_settings(directory: Path, problems: list[FlowProblem]) -> BotSettings:
    """The bot's settings from bot.yml (or bot.yaml); defaults where it says nothing."""
    path = directory / SETTINGS_FILE
    if not path.exists() and (directory / "bot.yaml").exists():
        path = directory / "bot.yaml"
    if not path.exists():
        return BotSettings()
    f = SourceFile(path, problems)
    data = read_yaml(path, f)
    if data is None:
        return BotSettings()
    if not isinstance(data, CommentedMap):
        not_a_mapping = N_("bot.yml must be a mapping of settings such as 'name:' and 'language:'")
        f.error(f.pos_of(data), Message(not_a_mapping))
        return BotSettings()
    f.check_keys(data, BOT_KEYS, "bot.yml")
    language, languages = _languages(f, data)
    # Read section by section, in file order, so problems are listed as before.
    matcher = _matcher(f, data)
    handoff = _handoff(f, data, language)
    widget = read_widget(f, data, language)
    privacy = _privacy(f, data)
    tone_address = _tone(f, data)
    return BotSettings(
        name=f.string(data, "name", "bot.yml") or directory.resolve().name,
        language=language,
        languages=languages,
        greeting=per_language(f, data, "greeting", language),
        matcher=matcher,
        handoff=handoff,
        widget=widget,
        privacy=privacy,
        tone_address=tone_address,
        digest=read_digest(f, data, handoff.teams),
        limits=read_limits(f, data),
    )


def _languages(f: SourceFile, data: CommentedMap) -> tuple[str, tuple[str, ...]]:
    """The bot's main language and all its languages, the main one first."""
    language = language_code(f, data, "language", data["language"]) if "language" in data else "nl"
    language = language or "nl"
    languages: list[str] = [language]
    if "languages" in data:
        raw = data["languages"]
        if not isinstance(raw, list):
            not_a_list = N_("'languages' must be a list such as [nl, en]")
            f.error(f.value_pos(data, "languages"), Message(not_a_list))
        else:
            for i, code in enumerate(raw):
                checked = language_code(f, raw, i, code) if isinstance(raw, CommentedSeq) else None
                if checked and checked not in languages:
                    languages.append(checked)
    return language, tuple(languages)


def _matcher(f: SourceFile, data: CommentedMap) -> MatcherSettings:
    matcher = MatcherSettings()
    if not isinstance(data.get("matcher"), CommentedMap):
        if "matcher" in data and data["matcher"] is not None:
            not_a_mapping = N_("'matcher' must be a mapping (model, thresholds)")
            f.error(f.value_pos(data, "matcher"), Message(not_a_mapping))
        return matcher
    m = data["matcher"]
    f.check_keys(m, MATCHER_KEYS, Phrase(N_("matcher settings")))
    model = f.string(m, "model", "matcher") or matcher.model
    if model.casefold() in ("auto", "default"):
        model = ""  # the default encoder, as without the key
    answer = _threshold(f, m, "answer_threshold")
    clarify = _threshold(f, m, "clarify_threshold")
    if answer is not None and clarify is not None and clarify > answer:
        above = N_(
            "clarify_threshold (%(clarify)s) is above answer_threshold (%(answer)s); it must be "
            "lower or equal: below answer the bot asks, below clarify it hands off"
        )
        f.error(f.value_pos(m, "clarify_threshold"), Message(above, clarify=clarify, answer=answer))
    return MatcherSettings(model=model, answer_threshold=answer, clarify_threshold=clarify)


def _handoff(f: SourceFile, data: CommentedMap, language: str) -> HandoffSettings:
    if not isinstance(data.get("handoff"), CommentedMap):
        return HandoffSettings()
    h = data["handoff"]
    f.check_keys(h, HANDOFF_KEYS, Phrase(N_("handoff settings")))
    teams = _teams(f, h)
    default_team = f.string(h, "default_team", "handoff") or (
        next(iter(teams)) if teams else "default"
    )
    if teams and default_team not in teams:
        no_team = N_("default_team '%(team)s' is not a team%(hint)s")
        hint = suggest(default_team, teams)
        f.error(f.value_pos(h, "default_team"), Message(no_team, team=default_team, hint=hint))
    abandoned = h.get("abandoned_after", HandoffSettings.abandoned_after)
    if isinstance(abandoned, bool) or not isinstance(abandoned, int) or abandoned < 1:
        minutes = N_(
            "'abandoned_after' must be a whole number of minutes, 1 or more, not %(value)s"
        )
        f.error(f.value_pos(h, "abandoned_after"), Message(minutes, value=describe(abandoned)))
        abandoned = HandoffSettings.abandoned_after
    return HandoffSettings(
        teams=teams,
        default_team=default_team,
        offline_message=per_language(f, h, "offline_message", language),
        abandoned_after=abandoned,
    )


def _teams(f: SourceFile, handoff: CommentedMap) -> dict[str, TeamSettings]:
    raw_teams = handoff.get("teams") or {}
    if not isinstance(raw_teams, CommentedMap):
        not_a_mapping = N_("'teams' must be a mapping of team name to settings")
        f.error(f.value_pos(handoff, "teams"), Message(not_a_mapping))
        return {}
    return {str(team): _team(f, raw_teams, str(team), spec) for team, spec in raw_teams.items()}


def _privacy(f: SourceFile, data: CommentedMap) -> PrivacySettings:
    """How long member data is kept, and whether personal data in it is masked."""
    if not isinstance(data.get("privacy"), CommentedMap):
        if data.get("privacy") is not None:
            not_a_mapping = N_("'privacy' must be a mapping (retention_days, mask)")
            f.error(f.value_pos(data, "privacy"), Message(not_a_mapping))
        return PrivacySettings()
    p = data["privacy"]
    f.check_keys(p, PRIVACY_KEYS, Phrase(N_("privacy settings")))
    days = p.get("retention_days", PrivacySettings.retention_days)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        not_days = N_("'retention_days' must be a whole number of days, 1 or more, not %(value)s")
        f.error(f.value_pos(p, "retention_days"), Message(not_days, value=describe(days)))
        days = PrivacySettings.retention_days
    mask = p.get("mask", True)
    if not isinstance(mask, bool):
        not_a_bool = N_("'mask' must be true or false, not %(value)s")
        f.error(f.value_pos(p, "mask"), Message(not_a_bool, value=describe(mask)))
        mask = True
    return PrivacySettings(retention_days=days, mask=mask)


def _tone(f: SourceFile, data: CommentedMap) -> str | None:
    """The form of address the bot keeps to in Dutch: `je` or `u` (checked by `check`)."""
    tone = data.get("tone")
    if tone is None:
        return None
    if not isinstance(tone, CommentedMap):
        not_a_mapping = N_("'tone' must be a mapping, e.g. 'address: je'")
        f.error(f.value_pos(data, "tone"), Message(not_a_mapping))
        return None
    f.check_keys(tone, TONE_KEYS, Phrase(N_("tone settings")))
    address = tone.get("address")
    if address is None:
        return None
    if address not in ("je", "u"):
        je_or_u = N_("'address' must be 'je' (informal) or 'u' (formal), not %(value)s")
        f.error(f.value_pos(tone, "address"), Message(je_or_u, value=describe(address)))
        return None
    return str(address)


def _team(f: SourceFile, teams: Any, name: str, spec: Any) -> TeamSettings:
    if spec is None:
        return TeamSettings(name=name)
    if not isinstance(spec, CommentedMap):
        not_a_mapping = N_("team '%(team)s' must be a mapping (hours, webhook, …)")
        f.error(f.value_pos(teams, name), Message(not_a_mapping, team=name))
        return TeamSettings(name=name)
    team = _team_named(name)
    f.check_keys(spec, TEAM_KEYS, team)
    hours = {}
    if isinstance(spec.get("hours"), CommentedMap):
        hours = _hours(f, spec["hours"])
    elif spec.get("hours") is not None:
        not_a_mapping = N_('hours must be a mapping like {mon-fri: "09:00-17:00"}')
        f.error(f.value_pos(spec, "hours"), Message(not_a_mapping))
    timezone = f.string(spec, "timezone", team) or "Europe/Amsterdam"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        unknown = N_("unknown time zone '%(zone)s'; e.g. Europe/Amsterdam")
        f.error(f.value_pos(spec, "timezone"), Message(unknown, zone=timezone))
    closed: list[date] = []
    raw_closed = spec.get("closed_days") or []
    if not isinstance(raw_closed, list):
        not_a_list = N_("closed_days must be a list of dates")
        f.error(f.value_pos(spec, "closed_days"), Message(not_a_list))
        raw_closed = []
    for i, day in enumerate(raw_closed):
        try:
            closed.append(day if isinstance(day, date) else date.fromisoformat(str(day)))
        except ValueError:
            not_a_date = N_("closed day '%(day)s' must be a date like 2026-12-25")
            f.error(f.pos_of(spec["closed_days"], i), Message(not_a_date, day=day))
    webhook = f.string(spec, "webhook", team)
    if webhook and not webhook.lower().startswith(("http://", "https://")):
        f.error(f.value_pos(spec, "webhook"), Message(N_("webhook must be an http(s) URL")))
    return TeamSettings(
        name=name,
        hours=hours,
        timezone=timezone,
        closed_days=tuple(closed),
        webhook=webhook,
        email=team_email(f, spec, name),
    )


def declared_keys(root: Path) -> set[str]:
    """The top-level keys bot.yml sets (errors in it are reported by _settings)."""
    for name in (SETTINGS_FILE, "bot.yaml"):
        try:
            data = parsed_text((root / name).read_text(encoding="utf-8"))
        except (OSError, YAMLError, UnicodeDecodeError):
            continue
        return set(data) if isinstance(data, dict) else set()
    return set()
