"""Load a bot directory into `botbuilder.flows.Bot`, validating everything.

A bot is a directory: `bot.yml` (optional) holds settings, every other
`*.yml` / `*.yaml` file below it is a flow file. All problems of a directory
are collected and reported at once, each as `file:line:col: message`, with
the fix where one can be guessed ("did you mean …?").
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from botbuilder.errors import FlowError, FlowProblem
from botbuilder.flows import (
    Bot,
    BotSettings,
    Button,
    HandoffSettings,
    Intent,
    MatcherSettings,
    TeamSettings,
    WidgetSettings,
)
from botbuilder.languages import ISO_639_1, normalise

__all__ = ["inspect_bot", "load_bot", "flow_files", "display_path"]

SETTINGS_FILE = "bot.yml"
_BOT_KEYS = ("name", "language", "languages", "greeting", "matcher", "handoff", "widget")
_MATCHER_KEYS = ("model", "answer_threshold", "clarify_threshold")
_HANDOFF_KEYS = ("teams", "offline_message", "default_team")
_TEAM_KEYS = ("hours", "timezone", "closed_days", "webhook")
_WIDGET_KEYS = ("title", "color", "allowed_origins", "position", "logo", "welcome")
_FLOW_KEYS = ("language", "intents")
_INTENT_KEYS = ("id", "questions", "answer", "buttons", "context_only", "handoff")
_BUTTON_KEYS = ("label", "goto", "url", "handoff")
_ID = re.compile(r"^[^\s:]{1,100}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SAFE_URL = re.compile(r"^(https?://|mailto:|tel:|/)", re.IGNORECASE)
_ORIGIN = re.compile(r"^https?://[^/\s]+$|^\*$")


def display_path(path: Path) -> str:
    """A path as people want to read it: relative to the working directory when under it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def flow_files(directory: Path) -> list[Path]:
    """Every flow file of a bot directory, sorted; bot.yml excluded."""
    files = [
        p
        for p in directory.rglob("*")
        if p.suffix in (".yml", ".yaml")
        and p.is_file()
        and not (p.parent == directory and p.name in (SETTINGS_FILE, "bot.yaml"))
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return sorted(files)


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _File:
    """Problems found in one file, with positions taken from ruamel's nodes."""

    def __init__(self, path: Path, problems: list[FlowProblem]) -> None:
        self.path = path
        self.name = display_path(path)
        self.problems = problems

    def error(self, pos: tuple[int, int], message: str, severity: str = "error") -> None:
        self.problems.append(FlowProblem(self.name, pos[0] + 1, pos[1] + 1, message, severity))

    def warn(self, pos: tuple[int, int], message: str) -> None:
        self.error(pos, message, "warning")

    @staticmethod
    def pos_of(node: Any, key: Any = None) -> tuple[int, int]:
        """(line, col), 0-based, of a mapping key / sequence item, or of the node."""
        try:
            if key is None:
                return (node.lc.line, node.lc.col)
            if isinstance(node, CommentedMap):
                return tuple(node.lc.key(key))  # type: ignore[return-value]
            if isinstance(node, CommentedSeq):
                return tuple(node.lc.item(key))  # type: ignore[return-value]
        except (AttributeError, KeyError, IndexError, TypeError):
            pass
        return (0, 0)

    @staticmethod
    def value_pos(node: CommentedMap, key: Any) -> tuple[int, int]:
        try:
            return tuple(node.lc.value(key))  # type: ignore[return-value]
        except (AttributeError, KeyError, TypeError):
            return _File.pos_of(node, key)

    def check_keys(self, node: CommentedMap, allowed: tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    self.pos_of(node, key),
                    f"unknown key '{key}' in {where}{_suggest(key, allowed)}; "
                    f"allowed: {', '.join(allowed)}",
                )

    def string(
        self, node: CommentedMap, key: str, where: str, required: bool = False
    ) -> str | None:
        if key not in node or node[key] is None:
            if required:
                self.error(self.pos_of(node), f"{where} has no '{key}'; add '{key}: …'")
            return None
        value = node[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.error(self.value_pos(node, key), f"'{key}' must be text, not {_kind(value)}")
            return None
        text = str(value).strip()
        if required and not text:
            self.error(self.value_pos(node, key), f"'{key}' of {where} is empty; write the text")
            return None
        return text


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "nothing"
    return f"'{value}'"


def _read_yaml(path: Path, f: _File) -> Any:
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        f.error((0, 0), "file is not UTF-8 text; save it as UTF-8")
        return None
    except OSError as exc:
        f.error((0, 0), f"cannot read file: {exc.strerror}")
        return None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        f.error(pos, f"YAML syntax error: {problem}; check indentation, colons and quotes")
    except YAMLError as exc:
        f.error((0, 0), f"YAML syntax error: {exc}")
    return None


def _language(f: _File, node: Any, key: Any, value: Any) -> str | None:
    if not isinstance(value, str) or value.lower() not in ISO_639_1:
        f.error(
            f.value_pos(node, key),
            f"unknown language code '{value}'{_suggest(str(value).lower(), ISO_639_1)}; "
            "use a two-letter ISO 639-1 code such as nl or en",
        )
        return None
    return value.lower()


def _per_language(f: _File, node: CommentedMap, key: str, default_language: str) -> dict[str, str]:
    """A text that may be given once, or per language as a mapping."""
    value = node.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        return {default_language: value.strip()}
    if isinstance(value, CommentedMap):
        texts = {}
        for lang, text in value.items():
            code = _language(f, value, lang, lang)
            if code and isinstance(text, str):
                texts[code] = text.strip()
            elif code:
                f.error(f.value_pos(value, lang), f"'{key}' for '{lang}' must be text")
        return texts
    f.error(f.value_pos(node, key), f"'{key}' must be text or a mapping language: text")
    return {}


def _threshold(f: _File, node: CommentedMap, key: str) -> float | None:
    value = node.get(key, "auto")
    if value == "auto" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        f.error(
            f.value_pos(node, key),
            f"'{key}' must be 'auto' or a number from 0 to 1, not {_kind(value)}",
        )
        return None
    return float(value)


def _hours(f: _File, node: CommentedMap) -> dict[int, tuple[tuple[time, time], ...]]:
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for spec, ranges in node.items():
        days = _days(str(spec))
        if days is None:
            f.error(
                f.pos_of(node, spec),
                f"'{spec}' is not a day or day range; use e.g. mon-fri, sat or sun",
            )
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
                f.error(
                    f.value_pos(node, spec),
                    f"opening hours '{part}' not understood; write e.g. \"09:00-17:00\"",
                )
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


def _settings(directory: Path, problems: list[FlowProblem]) -> BotSettings:
    path = directory / SETTINGS_FILE
    if not path.exists() and (directory / "bot.yaml").exists():
        path = directory / "bot.yaml"
    if not path.exists():
        return BotSettings()
    f = _File(path, problems)
    data = _read_yaml(path, f)
    if data is None:
        return BotSettings()
    if not isinstance(data, CommentedMap):
        f.error(
            f.pos_of(data), "bot.yml must be a mapping of settings such as 'name:' and 'language:'"
        )
        return BotSettings()
    f.check_keys(data, _BOT_KEYS, "bot.yml")
    language = _language(f, data, "language", data["language"]) if "language" in data else "nl"
    language = language or "nl"
    languages: list[str] = [language]
    if "languages" in data:
        raw = data["languages"]
        if not isinstance(raw, list):
            f.error(f.value_pos(data, "languages"), "'languages' must be a list such as [nl, en]")
        else:
            for i, code in enumerate(raw):
                checked = _language(f, raw, i, code) if isinstance(raw, CommentedSeq) else None
                if checked and checked not in languages:
                    languages.append(checked)

    matcher = MatcherSettings()
    if isinstance(data.get("matcher"), CommentedMap):
        m = data["matcher"]
        f.check_keys(m, _MATCHER_KEYS, "matcher settings")
        model = f.string(m, "model", "matcher") or matcher.model
        answer = _threshold(f, m, "answer_threshold")
        clarify = _threshold(f, m, "clarify_threshold")
        if answer is not None and clarify is not None and clarify > answer:
            f.error(
                f.value_pos(m, "clarify_threshold"),
                f"clarify_threshold ({clarify}) is above answer_threshold ({answer}); "
                "it must be lower or equal: below answer the bot asks, below clarify it hands off",
            )
        matcher = MatcherSettings(model=model, answer_threshold=answer, clarify_threshold=clarify)
    elif "matcher" in data and data["matcher"] is not None:
        f.error(f.value_pos(data, "matcher"), "'matcher' must be a mapping (model, thresholds)")

    handoff = HandoffSettings()
    if isinstance(data.get("handoff"), CommentedMap):
        h = data["handoff"]
        f.check_keys(h, _HANDOFF_KEYS, "handoff settings")
        teams: dict[str, TeamSettings] = {}
        raw_teams = h.get("teams") or {}
        if not isinstance(raw_teams, CommentedMap):
            f.error(f.value_pos(h, "teams"), "'teams' must be a mapping of team name to settings")
            raw_teams = {}
        for team, spec in raw_teams.items():
            teams[str(team)] = _team(f, raw_teams, str(team), spec)
        default_team = f.string(h, "default_team", "handoff") or (
            next(iter(teams)) if teams else "default"
        )
        if teams and default_team not in teams:
            f.error(
                f.value_pos(h, "default_team"),
                f"default_team '{default_team}' is not a team{_suggest(default_team, teams)}",
            )
        handoff = HandoffSettings(
            teams=teams,
            default_team=default_team,
            offline_message=_per_language(f, h, "offline_message", language),
        )

    widget = WidgetSettings()
    if isinstance(data.get("widget"), CommentedMap):
        w = data["widget"]
        f.check_keys(w, _WIDGET_KEYS, "widget settings")
        color = f.string(w, "color", "widget") or widget.color
        if not _COLOR.match(color):
            f.error(
                f.value_pos(w, "color"), f"color '{color}' must be a hex colour like \"#0b6e4f\""
            )
        origins: list[str] = []
        raw_origins = w.get("allowed_origins") or []
        if not isinstance(raw_origins, list):
            f.error(
                f.value_pos(w, "allowed_origins"), "'allowed_origins' must be a list of origins"
            )
            raw_origins = []
        for i, origin in enumerate(raw_origins):
            text = str(origin).rstrip("/")
            if not _ORIGIN.match(text):
                f.error(
                    f.pos_of(raw_origins, i),
                    f"'{origin}' is not an origin; write scheme and host, e.g. https://example.org",
                )
            else:
                origins.append(text)
        position = f.string(w, "position", "widget") or "right"
        if position not in ("left", "right"):
            f.error(f.value_pos(w, "position"), "widget position must be 'left' or 'right'")
        widget = WidgetSettings(
            title=f.string(w, "title", "widget") or widget.title,
            color=color,
            allowed_origins=tuple(origins),
            position=position,
            logo=f.string(w, "logo", "widget"),
            welcome=_per_language(f, w, "welcome", language),
        )

    return BotSettings(
        name=f.string(data, "name", "bot.yml") or directory.resolve().name,
        language=language,
        languages=tuple(languages),
        greeting=_per_language(f, data, "greeting", language),
        matcher=matcher,
        handoff=handoff,
        widget=widget,
    )


def _team(f: _File, teams: Any, name: str, spec: Any) -> TeamSettings:
    if spec is None:
        return TeamSettings(name=name)
    if not isinstance(spec, CommentedMap):
        f.error(f.value_pos(teams, name), f"team '{name}' must be a mapping (hours, webhook, …)")
        return TeamSettings(name=name)
    f.check_keys(spec, _TEAM_KEYS, f"team '{name}'")
    hours = {}
    if isinstance(spec.get("hours"), CommentedMap):
        hours = _hours(f, spec["hours"])
    elif spec.get("hours") is not None:
        f.error(f.value_pos(spec, "hours"), 'hours must be a mapping like {mon-fri: "09:00-17:00"}')
    timezone = f.string(spec, "timezone", f"team '{name}'") or "Europe/Amsterdam"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        f.error(
            f.value_pos(spec, "timezone"), f"unknown time zone '{timezone}'; e.g. Europe/Amsterdam"
        )
    closed: list[date] = []
    for i, day in enumerate(spec.get("closed_days") or []):
        try:
            closed.append(day if isinstance(day, date) else date.fromisoformat(str(day)))
        except ValueError:
            f.error(
                f.pos_of(spec["closed_days"], i),
                f"closed day '{day}' must be a date like 2026-12-25",
            )
    webhook = f.string(spec, "webhook", f"team '{name}'")
    if webhook and not webhook.lower().startswith(("http://", "https://")):
        f.error(f.value_pos(spec, "webhook"), "webhook must be an http(s) URL")
    return TeamSettings(
        name=name, hours=hours, timezone=timezone, closed_days=tuple(closed), webhook=webhook
    )


class _RawIntent:
    """An intent as parsed, before cross-file checks (goto targets)."""

    def __init__(self, f: _File, node: CommentedMap, intent: Intent) -> None:
        self.file = f
        self.node = node
        self.intent = intent


def _flow_file(
    path: Path, settings: BotSettings, problems: list[FlowProblem], raw: list[_RawIntent]
) -> None:
    f = _File(path, problems)
    data = _read_yaml(path, f)
    if data is None:
        if not any(p.path == f.name for p in problems):
            f.warn((0, 0), "file is empty; add 'intents:' or remove it")
        return
    if not isinstance(data, CommentedMap):
        f.error(
            f.pos_of(data),
            "a flow file must be a mapping with 'intents:' (and optionally 'language:')",
        )
        return
    f.check_keys(data, _FLOW_KEYS, "a flow file")
    language = settings.language
    if "language" in data:
        language = _language(f, data, "language", data["language"]) or language
        if settings.languages and language not in settings.languages and data.get("language"):
            f.error(
                f.value_pos(data, "language"),
                f"language '{language}' is not in bot.yml's languages "
                f"[{', '.join(settings.languages)}]; add it there",
            )
    intents = data.get("intents")
    if not isinstance(intents, CommentedSeq):
        if intents is None:
            f.error(f.pos_of(data), "no 'intents:' list in this file; add at least one intent")
        else:
            f.error(f.value_pos(data, "intents"), "'intents' must be a list of intents ('- id: …')")
        return
    for index, node in enumerate(intents):
        if not isinstance(node, CommentedMap):
            f.error(
                f.pos_of(intents, index), "each intent must be a mapping starting with '- id: …'"
            )
            continue
        intent = _intent(f, node, language)
        if intent:
            raw.append(_RawIntent(f, node, intent))


def _intent(f: _File, node: CommentedMap, language: str) -> Intent | None:
    f.check_keys(node, _INTENT_KEYS, "an intent")
    intent_id = f.string(node, "id", "this intent", required=True)
    if intent_id and not _ID.match(intent_id):
        f.error(
            f.value_pos(node, "id"),
            f"intent id '{intent_id}' must be one word of at most 100 characters without ':'",
        )
    where = f"intent '{intent_id}'" if intent_id else "this intent"
    context_only = node.get("context_only", False)
    if not isinstance(context_only, bool):
        f.error(f.value_pos(node, "context_only"), "context_only must be true or false")
        context_only = False
    questions: list[str] = []
    raw_questions = node.get("questions")
    if raw_questions is not None and not isinstance(raw_questions, CommentedSeq):
        f.error(f.value_pos(node, "questions"), "'questions' must be a list ('- Hoe …?')")
    elif raw_questions is not None:
        for i, q in enumerate(raw_questions):
            if not isinstance(q, (str, int, float)) or isinstance(q, bool) or not str(q).strip():
                f.error(
                    f.pos_of(raw_questions, i), f"question {i + 1} of {where} is empty or not text"
                )
            else:
                questions.append(str(q).strip())
    if not questions and not context_only:
        f.error(
            f.pos_of(node),
            f"{where} has no questions; add example questions, or mark it 'context_only: true' "
            "if it is reached through buttons only",
        )
    if context_only and questions:
        f.warn(
            f.pos_of(node, "questions"),
            f"{where} is context_only, so its questions are never matched",
        )
    answer = f.string(node, "answer", where, required=True)
    handoff_team: str | None = None
    if "handoff" in node:
        value = node["handoff"]
        if value is True:
            handoff_team = ""  # the default team, resolved against settings later
        elif isinstance(value, str) and value.strip():
            handoff_team = value.strip()
        elif value not in (False, None):
            f.error(f.value_pos(node, "handoff"), "intent 'handoff' must be a team name or true")
    buttons = _buttons(f, node, where)
    if not intent_id:
        return None
    # An intent with a missing answer is still returned (the error is already
    # recorded) so that duplicate ids and goto targets are checked too.
    return Intent(
        id=intent_id,
        language=language,
        answer=answer or "",
        questions=tuple(questions),
        buttons=tuple(buttons),
        context_only=context_only,
        handoff_team=handoff_team,
        source=str(f.path),
        line=f.pos_of(node)[0] + 1,
    )


def _buttons(f: _File, node: CommentedMap, where: str) -> list[Button]:
    raw = node.get("buttons")
    if raw is None:
        return []
    if not isinstance(raw, CommentedSeq):
        f.error(f.value_pos(node, "buttons"), "'buttons' must be a list ('- label: …')")
        return []
    buttons = []
    for i, b in enumerate(raw):
        if not isinstance(b, CommentedMap):
            f.error(f.pos_of(raw, i), f"button {i + 1} of {where} must be a mapping with 'label:'")
            continue
        f.check_keys(b, _BUTTON_KEYS, "a button")
        label = f.string(b, "label", f"button {i + 1} of {where}", required=True)
        actions = [k for k in ("goto", "url", "handoff") if k in b and b[k] not in (None, False)]
        if len(actions) != 1:
            f.error(
                f.pos_of(raw, i),
                f"button {i + 1} of {where} needs exactly one of goto, url or handoff"
                + (f" (it has {', '.join(actions)})" if actions else ""),
            )
            continue
        goto = f.string(b, "goto", "button") if "goto" in b else None
        url = f.string(b, "url", "button") if "url" in b else None
        if url and not _SAFE_URL.match(url):
            f.error(
                f.value_pos(b, "url"),
                f"url '{url}' must start with https://, http://, mailto:, tel: or /",
            )
            continue
        if "handoff" in b and b["handoff"] is not True:
            f.error(f.value_pos(b, "handoff"), "button 'handoff' must be true")
            continue
        if label:
            buttons.append(
                Button(label=label, goto=goto, url=url, handoff=b.get("handoff") is True)
            )
    return buttons


def inspect_bot(directory: str | os.PathLike[str]) -> tuple[Bot | None, list[FlowProblem]]:
    """Load and check a bot directory: the bot (None if it has errors) and every problem."""
    root = Path(directory)
    problems: list[FlowProblem] = []
    if not root.is_dir():
        problems.append(
            FlowProblem(
                display_path(root), 1, 1, "no such directory; give the bot's flows directory"
            )
        )
        return None, problems
    settings = _settings(root, problems)
    declared = _declared_keys(root)
    raw: list[_RawIntent] = []
    files = flow_files(root)
    # Without a `languages:` list in bot.yml, the flow files say which languages there are.
    checked = settings if "languages" in declared else replace(settings, languages=())
    for path in files:
        _flow_file(path, checked, problems, raw)
    if "languages" not in declared:
        found = tuple(dict.fromkeys(r.intent.language for r in raw))
        language = settings.language
        if "language" not in declared and found and language not in found:
            language = found[0]
        settings = replace(
            settings, language=language, languages=tuple(dict.fromkeys((language, *found)))
        )

    intents: dict[tuple[str, str], Intent] = {}
    first_seen: dict[tuple[str, str], _RawIntent] = {}
    for r in raw:
        key = (r.intent.language, r.intent.id)
        if key in first_seen:
            other = first_seen[key]
            r.file.error(
                r.file.value_pos(r.node, "id"),
                f"duplicate intent id '{r.intent.id}' in language '{r.intent.language}' "
                f"(first defined at {other.file.name}:{other.intent.line}); rename one of them",
            )
            continue
        first_seen[key] = r
        intents[key] = r.intent

    all_ids = {intent_id for _, intent_id in intents}
    teams = settings.handoff.teams
    questions_seen: dict[tuple[str, str], tuple[str, _RawIntent]] = {}
    for r in first_seen.values():
        intent = r.intent
        if intent.handoff_team == "":
            intent = _replace_team(intent, settings.handoff.default_team)
            intents[(intent.language, intent.id)] = intent
        elif intent.handoff_team and teams and intent.handoff_team not in teams:
            r.file.error(
                r.file.value_pos(r.node, "handoff"),
                f"handoff team '{intent.handoff_team}' is not in bot.yml's handoff.teams"
                f"{_suggest(intent.handoff_team, teams)}",
            )
        raw_buttons = r.node.get("buttons") or []
        for b in raw_buttons:
            goto = b.get("goto") if isinstance(b, CommentedMap) else None
            if isinstance(goto, str) and goto not in all_ids:
                r.file.error(
                    r.file.value_pos(b, "goto"),
                    f"button 'goto: {goto}' names no intent{_suggest(goto, all_ids)}",
                )
        for i, q in enumerate(intent.questions):
            key = (intent.language, normalise(q))
            if key in questions_seen and questions_seen[key][0] != intent.id:
                other_id, other = questions_seen[key]
                pos = r.file.pos_of(r.node["questions"], i)
                r.file.warn(
                    pos,
                    f"question '{q}' is listed under intents '{other_id}' and '{intent.id}'; "
                    "keep it under one of them",
                )
            questions_seen[key] = (intent.id, r)

    if not files and not problems:
        problems.append(
            FlowProblem(display_path(root), 1, 1, "no flow files; add a *.yml file with 'intents:'")
        )
    elif not any(i for i in intents.values() if not i.context_only) and not any(
        p.severity == "error" for p in problems
    ):
        problems.append(
            FlowProblem(
                display_path(root),
                1,
                1,
                "the bot has no intents to match; add intents with questions",
            )
        )

    if any(p.severity == "error" for p in problems):
        return None, problems
    bot = Bot(
        directory=root, settings=settings, intents=intents, fingerprint=_fingerprint(root, files)
    )
    return bot, problems


def _replace_team(intent: Intent, team: str) -> Intent:
    return replace(intent, handoff_team=team)


def _declared_keys(root: Path) -> set[str]:
    """The top-level keys bot.yml sets (errors in it are reported by _settings)."""
    for name in (SETTINGS_FILE, "bot.yaml"):
        try:
            data = YAML(typ="safe").load((root / name).read_text(encoding="utf-8"))
        except (OSError, YAMLError, UnicodeDecodeError):
            continue
        return set(data) if isinstance(data, dict) else set()
    return set()


def _fingerprint(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [root / SETTINGS_FILE, *files]:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_bot(directory: str | os.PathLike[str]) -> Bot:
    """Load a bot directory; raise FlowError listing every error if it has any."""
    bot, problems = inspect_bot(directory)
    if bot is None:
        raise FlowError([p for p in problems if p.severity == "error"])
    return bot
