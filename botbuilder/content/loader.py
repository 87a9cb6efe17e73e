"""Load a bot directory into `botbuilder.content.model.Bot`, validating everything.

A bot is a directory: `bot.yml` (optional, see `botbuilder.content.bot_settings`)
holds settings, every other `*.yml` / `*.yaml` file below it is a flow file.
All problems of a directory are collected and reported at once, each as
`file:line:col: message`, with the fix where one can be guessed ("did you
mean …?").
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from botbuilder.content.bot_settings import SETTINGS_FILE, declared_keys, read_settings
from botbuilder.content.languages import normalise
from botbuilder.content.model import Bot, BotSettings, Button, Intent
from botbuilder.content.yaml_source import (
    SourceFile,
    display_path,
    language_code,
    read_yaml,
    suggest,
)
from botbuilder.errors import N_, FlowError, FlowProblem, Message, Phrase

__all__ = ["SETTINGS_FILE", "display_path", "flow_files", "inspect_bot", "load_bot"]

_FLOW_KEYS = ("language", "intents")
_INTENT_KEYS = ("id", "questions", "answer", "buttons", "context_only", "handoff")
_BUTTON_KEYS = ("label", "goto", "url", "handoff")
_ID = re.compile(r"^[^\s:]{1,100}$")
_SAFE_URL = re.compile(r"^(https?://|mailto:|tel:|/)", re.IGNORECASE)
# "//host" and "/\host" open another site; browsers drop tabs and line breaks in a URL first.
_SCHEME_RELATIVE = re.compile(r"^/[\t\n\r]*[/\\]")
_A_FLOW_FILE = Phrase(N_("a flow file"))
_AN_INTENT = Phrase(N_("an intent"))
_A_BUTTON = Phrase(N_("a button"))
_QUESTION = N_("question %(number)s of %(where)s")


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


class _RawIntent:
    """An intent as parsed, before cross-file checks (goto targets)."""

    def __init__(self, f: SourceFile, node: CommentedMap, intent: Intent) -> None:
        self.file = f
        self.node = node
        self.intent = intent


def _flow_file(
    path: Path, settings: BotSettings, problems: list[FlowProblem], raw: list[_RawIntent]
) -> None:
    f = SourceFile(path, problems)
    data = read_yaml(path, f)
    if data is None:
        if not any(p.path == f.name for p in problems):
            f.warn((0, 0), Message(N_("file is empty; add 'intents:' or remove it")))
        return
    if not isinstance(data, CommentedMap):
        not_a_mapping = N_(
            "a flow file must be a mapping with 'intents:' (and optionally 'language:')"
        )
        f.error(f.pos_of(data), Message(not_a_mapping))
        return
    f.check_keys(data, _FLOW_KEYS, _A_FLOW_FILE)
    language = settings.language
    if "language" in data:
        language = language_code(f, data, "language", data["language"]) or language
        if settings.languages and language not in settings.languages and data.get("language"):
            unlisted = N_(
                "language '%(language)s' is not in bot.yml's languages [%(languages)s]; add it there"
            )
            listed = ", ".join(settings.languages)
            problem = Message(unlisted, language=language, languages=listed)
            f.error(f.value_pos(data, "language"), problem)
    intents = data.get("intents")
    if not isinstance(intents, CommentedSeq):
        if intents is None:
            none = N_("no 'intents:' list in this file; add at least one intent")
            f.error(f.pos_of(data), Message(none))
        else:
            not_a_list = N_("'intents' must be a list of intents ('- id: …')")
            f.error(f.value_pos(data, "intents"), Message(not_a_list))
        return
    for index, node in enumerate(intents):
        if not isinstance(node, CommentedMap):
            not_a_mapping = N_("each intent must be a mapping starting with '- id: …'")
            f.error(f.pos_of(intents, index), Message(not_a_mapping))
            continue
        intent = _intent(f, node, language)
        if intent:
            raw.append(_RawIntent(f, node, intent))


def _intent(f: SourceFile, node: CommentedMap, language: str) -> Intent | None:
    f.check_keys(node, _INTENT_KEYS, _AN_INTENT)
    intent_id = f.string(node, "id", "this intent", required=True)
    if intent_id and not _ID.match(intent_id):
        bad = N_("intent id '%(intent)s' must be one word of at most 100 characters without ':'")
        f.error(f.value_pos(node, "id"), Message(bad, intent=intent_id))
    where: str = Phrase(N_("this intent"))
    if intent_id:
        where = Message(N_("intent '%(intent)s'"), intent=intent_id)
    context_only = node.get("context_only", False)
    if not isinstance(context_only, bool):
        not_a_bool = N_("context_only must be true or false")
        f.error(f.value_pos(node, "context_only"), Message(not_a_bool))
        context_only = False
    questions = _questions(f, node, where, context_only)
    answer = f.string(node, "answer", where, required=True)
    handoff_team = _handoff_team(f, node)
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


def _questions(f: SourceFile, node: CommentedMap, where: str, context_only: bool) -> list[str]:
    """The intent's example questions, stripped; none is an error unless context_only."""
    questions: list[str] = []
    raw_questions = node.get("questions")
    if raw_questions is not None and not isinstance(raw_questions, CommentedSeq):
        not_a_list = N_("'questions' must be a list ('- Hoe …?')")
        f.error(f.value_pos(node, "questions"), Message(not_a_list))
    elif raw_questions is not None:
        for i, q in enumerate(raw_questions):
            if not isinstance(q, (str, int, float)) or isinstance(q, bool) or not str(q).strip():
                empty = N_("question %(number)s of %(where)s is empty or not text")
                f.error(f.pos_of(raw_questions, i), Message(empty, number=i + 1, where=where))
            elif f.typable(
                str(q), f.pos_of(raw_questions, i), _QUESTION, number=i + 1, where=where
            ):
                questions.append(str(q).strip())
    if not questions and not context_only:
        none = N_(
            "%(where)s has no questions; add example questions, or mark it "
            "'context_only: true' if it is reached through buttons only"
        )
        f.error(f.pos_of(node), Message(none, where=where))
    if context_only and questions:
        unmatched = N_("%(where)s is context_only, so its questions are never matched")
        f.warn(f.pos_of(node, "questions"), Message(unmatched, where=where))
    return questions


def _handoff_team(f: SourceFile, node: CommentedMap) -> str | None:
    """The team an intent hands off to: "" for the default team, None when it does not."""
    if "handoff" not in node:
        return None
    value = node["handoff"]
    if value is True:
        return ""  # the default team, resolved against settings later
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value not in (False, None):
        not_a_team = N_("intent 'handoff' must be a team name or true")
        f.error(f.value_pos(node, "handoff"), Message(not_a_team))
    return None


def _buttons(f: SourceFile, node: CommentedMap, where: str) -> list[Button]:
    raw = node.get("buttons")
    if raw is None:
        return []
    if not isinstance(raw, CommentedSeq):
        not_a_list = N_("'buttons' must be a list ('- label: …')")
        f.error(f.value_pos(node, "buttons"), Message(not_a_list))
        return []
    buttons = []
    for i, b in enumerate(raw):
        button = Message(N_("button %(number)s of %(where)s"), number=i + 1, where=where)
        if not isinstance(b, CommentedMap):
            not_a_mapping = N_("%(button)s must be a mapping with 'label:'")
            f.error(f.pos_of(raw, i), Message(not_a_mapping, button=button))
            continue
        f.check_keys(b, _BUTTON_KEYS, _A_BUTTON)
        label = f.string(b, "label", button, required=True)
        actions = [k for k in ("goto", "url", "handoff") if k in b and b[k] not in (None, False)]
        if len(actions) != 1:
            none = N_("%(button)s needs exactly one of goto, url or handoff")
            several = N_(
                "%(button)s needs exactly one of goto, url or handoff (it has %(actions)s)"
            )
            which = Message(several if actions else none, button=button, actions=", ".join(actions))
            f.error(f.pos_of(raw, i), which)
            continue
        goto = f.string(b, "goto", button) if "goto" in b else None
        url = f.string(b, "url", button) if "url" in b else None
        if url and not _SAFE_URL.match(url):
            unsafe = N_("url '%(url)s' must start with https://, http://, mailto:, tel: or /")
            f.error(f.value_pos(b, "url"), Message(unsafe, url=url))
            continue
        if url and _SCHEME_RELATIVE.match(url):
            relative = N_(
                "url '%(url)s' starts with two slashes, so it opens whichever site follows "
                "them; write https://… for another site, or a path with one / for a page on this one"
            )
            f.error(f.value_pos(b, "url"), Message(relative, url=url))
            continue
        if "handoff" in b and b["handoff"] is not True:
            f.error(f.value_pos(b, "handoff"), Message(N_("button 'handoff' must be true")))
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
        problems.append(_bot_problem(root, N_("no such directory; give the bot's flows directory")))
        return None, problems
    settings = read_settings(root, problems)
    declared = declared_keys(root)
    raw: list[_RawIntent] = []
    files = flow_files(root)
    # Without a `languages:` list in bot.yml, the flow files say which languages there are.
    checked = settings if "languages" in declared else replace(settings, languages=())
    for path in files:
        _flow_file(path, checked, problems, raw)
    if "languages" not in declared:
        settings = _found_languages(settings, declared, raw)
    first_seen = _first_of_each_id(raw)
    intents = _cross_checked(first_seen, settings)
    problems += _whole_bot_problems(root, files, intents, problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    bot = Bot(
        directory=root, settings=settings, intents=intents, fingerprint=_fingerprint(root, files)
    )
    return bot, problems


def _found_languages(
    settings: BotSettings, declared: set[str], raw: list[_RawIntent]
) -> BotSettings:
    """Settings whose languages are those the flow files use, the main one first."""
    found = tuple(dict.fromkeys(r.intent.language for r in raw))
    language = settings.language
    if "language" not in declared and found and language not in found:
        language = found[0]
    return replace(settings, language=language, languages=tuple(dict.fromkeys((language, *found))))


def _first_of_each_id(raw: list[_RawIntent]) -> dict[tuple[str, str], _RawIntent]:
    """The first intent of each (language, id); later ones are reported as duplicates."""
    first_seen: dict[tuple[str, str], _RawIntent] = {}
    for r in raw:
        key = (r.intent.language, r.intent.id)
        if key in first_seen:
            other = first_seen[key]
            r.file.error(
                r.file.value_pos(r.node, "id"),
                Message(
                    N_(
                        "duplicate intent id '%(intent)s' in language '%(language)s' (first "
                        "defined at %(place)s); rename one of them"
                    ),
                    intent=r.intent.id,
                    language=r.intent.language,
                    place=f"{other.file.name}:{other.intent.line}",
                ),
            )
            continue
        first_seen[key] = r
    return first_seen


def _cross_checked(
    first_seen: dict[tuple[str, str], _RawIntent], settings: BotSettings
) -> dict[tuple[str, str], Intent]:
    """The intents with default teams filled in, after the checks across intents and files."""
    intents = {key: r.intent for key, r in first_seen.items()}
    all_ids = {intent_id for _, intent_id in intents}
    teams = settings.handoff.teams
    questions_seen: dict[tuple[str, str], tuple[str, _RawIntent]] = {}
    for r in first_seen.values():
        intent = r.intent
        if intent.handoff_team == "":
            intent = replace(intent, handoff_team=settings.handoff.default_team)
            intents[(intent.language, intent.id)] = intent
        elif intent.handoff_team and teams and intent.handoff_team not in teams:
            r.file.error(
                r.file.value_pos(r.node, "handoff"),
                Message(
                    N_("handoff team '%(team)s' is not in bot.yml's handoff.teams%(hint)s"),
                    team=intent.handoff_team,
                    hint=suggest(intent.handoff_team, teams),
                ),
            )
        _check_gotos(r, all_ids)
        for i, q in enumerate(intent.questions):
            key = (intent.language, normalise(q))
            if key in questions_seen and questions_seen[key][0] != intent.id:
                other_id, other = questions_seen[key]
                r.file.warn(
                    r.file.pos_of(r.node["questions"], i),
                    Message(
                        N_(
                            "question '%(question)s' is listed under intents '%(other)s' and "
                            "'%(intent)s'; keep it under one of them"
                        ),
                        question=q,
                        other=other_id,
                        intent=intent.id,
                    ),
                )
            questions_seen[key] = (intent.id, r)
    return intents


def _check_gotos(r: _RawIntent, all_ids: set[str]) -> None:
    for b in r.node.get("buttons") or []:
        goto = b.get("goto") if isinstance(b, CommentedMap) else None
        if isinstance(goto, str) and goto not in all_ids:
            r.file.error(
                r.file.value_pos(b, "goto"),
                Message(
                    N_("button 'goto: %(goto)s' names no intent%(hint)s"),
                    goto=goto,
                    hint=suggest(goto, all_ids),
                ),
            )


def _whole_bot_problems(
    root: Path,
    files: list[Path],
    intents: dict[tuple[str, str], Intent],
    problems: list[FlowProblem],
) -> list[FlowProblem]:
    """A bot without flow files, or without an intent to match (when nothing else is wrong)."""
    if not files and not problems:
        return [_bot_problem(root, N_("no flow files; add a *.yml file with 'intents:'"))]
    if not any(i for i in intents.values() if not i.context_only) and not any(
        p.severity == "error" for p in problems
    ):
        return [
            _bot_problem(root, N_("the bot has no intents to match; add intents with questions"))
        ]
    return []


def _bot_problem(root: Path, text: str) -> FlowProblem:
    """A problem of the whole bot directory (`text` an `N_` template), at its first line."""
    return FlowProblem(display_path(root), 1, 1, Message(text))


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
