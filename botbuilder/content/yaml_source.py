"""YAML files read with positions, so every problem names file, line and column.

`SourceFile` collects the problems found in one file; the loaders of bot.yml
(`botbuilder.content.bot_settings`) and of flow files (`botbuilder.content.loader`) both use it.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError

from botbuilder.content.languages import ISO_639_1
from botbuilder.content.os_reasons import os_reason
from botbuilder.content.parsed_store import ParsedStore
from botbuilder.content.plain_text import untypable
from botbuilder.errors import N_, FlowProblem, Message, Phrase

__all__ = [
    "MAX_DEPTH",
    "SourceFile",
    "describe",
    "display_path",
    "keep_parsed_in",
    "language_code",
    "parse_yaml",
    "parsed_text",
    "per_language",
    "read_yaml",
    "suggest",
]


MAX_DEPTH = 50  # nested lists and mappings; a flow file needs six


def display_path(path: Path) -> str:
    """A path as people want to read it: relative to the working directory when under it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    # TRANSLATORS: added to a problem's text; keep the space at the start.
    return Message(N_(" (did you mean '%(name)s'?)"), name=close[0]) if close else ""


class SourceFile:
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
            if key is None and isinstance(node.lc.line, int):  # a tagged scalar has none
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
        except (AttributeError, KeyError, IndexError, TypeError):  # IndexError: a list item
            return SourceFile.pos_of(node, key)

    def check_keys(self, node: CommentedMap, allowed: tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in allowed:
                unknown = N_("unknown key '%(key)s' in %(where)s%(hint)s; allowed: %(allowed)s")
                hint, listed = suggest(key, allowed), ", ".join(allowed)
                problem = Message(unknown, key=key, where=where, hint=hint, allowed=listed)
                self.error(self.pos_of(node, key), problem)

    def string(
        self, node: CommentedMap, key: str, where: str, required: bool = False
    ) -> str | None:
        if key not in node or node[key] is None:
            if required:
                missing = N_("%(where)s has no '%(key)s'; add '%(key)s: …'")
                self.error(self.pos_of(node), Message(missing, where=where, key=key))
            return None
        value = node[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            not_text = Message(
                N_("'%(key)s' must be text, not %(value)s"), key=key, value=describe(value)
            )
            self.error(self.value_pos(node, key), not_text)
            return None
        text = str(value).strip()
        if not self.typable(
            text, self.value_pos(node, key), N_("'%(key)s' of %(where)s"), key=key, where=where
        ):
            return None
        if required and not text:
            empty = Message(
                N_("'%(key)s' of %(where)s is empty; write the text"), key=key, where=where
            )
            self.error(self.value_pos(node, key), empty)
            return None
        return text

    def typable(self, text: str, pos: tuple[int, int], what: str, **params: object) -> bool:
        """False, with an error, for text holding what no database stores (NUL, a lone
        surrogate) or no keyboard types: a YAML escape like "\\0" can put it there.
        `what` (an `N_` template, filled with `params`) names the text; made only then."""
        problem = untypable(text)
        if problem is not None:
            contains = N_("%(what)s contains %(problem)s; remove it")
            self.error(pos, Message(contains, what=Message(what, **params), problem=problem))
        return problem is None


def describe(value: Any) -> str:
    """A wrong value, for a problem's text: what kind (a `Phrase`) or the value in quotes."""
    if isinstance(value, dict):
        return Phrase(N_("a mapping"))
    if isinstance(value, list):
        return Phrase(N_("a list"))
    if isinstance(value, bool):
        return Phrase(N_("true/false"))
    if value is None:
        return Phrase(N_("nothing"))
    return f"'{value}'"


# Parsed files by content. Round-trip parsing (which keeps the line numbers
# for messages) is pure Python and slow: a 150-intent file takes ~0.25 s. When
# a manager edits one file of a bot, the server re-reads them all, and only
# the changed one is parsed again. The loader never modifies what it reads.
_parsed: OrderedDict[str, Any] = OrderedDict()
_PARSED_KEPT = 256
_parsed_lock = threading.Lock()
_on_disk: ParsedStore | None = None  # a server's, across restarts (keep_parsed_in)


def keep_parsed_in(folder: Path) -> None:
    """Also keep parsed files in `folder`, a server's private instance folder, so that a
    restart reads them back instead of parsing them (content/parsed_store.py)."""
    global _on_disk
    _on_disk = ParsedStore(folder, f"depth {MAX_DEPTH}")


def _remembered(text: str) -> Any | None:
    with _parsed_lock:
        if text in _parsed:
            _parsed.move_to_end(text)
            return _parsed[text]
    store = _on_disk
    parsed = store.get(text) if store is not None else None
    if parsed is not None:
        _remember(text, parsed, store=None)
    return parsed


def parsed_text(text: str) -> Any:
    """`parse_yaml(text)`, from memory or the instance folder when parsed before."""
    parsed = _remembered(text)
    if parsed is None:
        parsed = parse_yaml(text)
        _remember(text, parsed, _on_disk)
    return parsed


def _remember(text: str, parsed: Any, store: ParsedStore | None) -> None:
    with _parsed_lock:
        _parsed[text] = parsed
        while len(_parsed) > _PARSED_KEPT:
            _parsed.popitem(last=False)
    if store is not None:
        store.put(text, parsed)


def read_yaml(path: Path, f: SourceFile) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        f.error((0, 0), Message(N_("file is not UTF-8 text; save it as UTF-8")))
        return None
    except OSError as exc:
        f.error((0, 0), Message(N_("cannot read file: %(reason)s"), reason=os_reason(exc)))
        return None
    try:
        data = parsed_text(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line, mark.column) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        syntax = N_("YAML syntax error: %(problem)s; check indentation, colons and quotes")
        f.error(pos, Message(syntax, problem=problem))
    except YAMLError as exc:
        f.error((0, 0), Message(N_("YAML syntax error: %(problem)s"), problem=str(exc)))
    else:
        return data
    return None


class _Constructor(RoundTripConstructor):  # type: ignore[misc]
    """ruamel's, with a value it cannot convert (a date like 2024-13-45, `!!int abc`, an
    integer of 5,000 digits) or a tag on the wrong kind of value (`!!set x`, `!!bool x`)
    reported as a YAML error at that value, instead of whatever Python error it raised."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
            value = f" '{node.value[:40]}'" if isinstance(node.value, str) else ""
            if isinstance(exc, ValueError):
                problem = f"the value{value} cannot be read ({str(exc)[:80]})"
            else:
                tag = getattr(node.tag, "value", node.tag)
                problem = f"the tag {tag} does not fit the value{value}; remove the tag"
            raise ConstructorError(None, None, problem, node.start_mark) from exc


def parse_yaml(text: str) -> Any:
    """`text` as round-trip YAML (with line numbers); YAMLError for anything it cannot read.

    Nesting is bounded: ruamel's composer recurses, and its scanner checks every `[` or
    `{` still open on a line for each character it reads (one line of 3,000 took 50 s),
    so a file nested deeper than any bot file needs is refused where it passes the bound.
    """
    _check_flow_depth(text)
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.max_depth = MAX_DEPTH
    try:
        return yaml.load(text)
    except MaxDepthExceededError as exc:
        exc.problem = f"nested more than {MAX_DEPTH} levels deep"
        raise


def _check_flow_depth(text: str) -> None:
    """A YAML error at the first line that opens more than MAX_DEPTH `[` / `{` at once."""
    for number, line in enumerate(text.splitlines()):
        if line.count("[") + line.count("{") <= MAX_DEPTH:
            continue  # the quick check; markdown links like [a](b) close at once
        depth = 0
        for column, char in enumerate(line):
            depth = depth + 1 if char in "[{" else max(depth - 1, 0) if char in "]}" else depth
            if depth > MAX_DEPTH:
                mark = StreamMark("<file>", 0, number, column)
                raise MarkedYAMLError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)


def language_code(f: SourceFile, node: Any, key: Any, value: Any) -> str | None:
    if not isinstance(value, str) or value.lower() not in ISO_639_1:
        unknown = N_(
            "unknown language code '%(code)s'%(hint)s; "
            "use a two-letter ISO 639-1 code such as nl or en"
        )
        hint = suggest(str(value).lower(), ISO_639_1)
        f.error(f.value_pos(node, key), Message(unknown, code=value, hint=hint))
        return None
    return value.lower()


def per_language(
    f: SourceFile, node: CommentedMap, key: str, default_language: str
) -> dict[str, str]:
    """A text that may be given once, or per language as a mapping."""
    value = node.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        return {default_language: value.strip()}
    if isinstance(value, CommentedMap):
        texts = {}
        for lang, text in value.items():
            code = language_code(f, value, lang, lang)
            if code and isinstance(text, str):
                texts[code] = text.strip()
            elif code:
                not_text = N_("'%(key)s' for '%(language)s' must be text")
                f.error(f.value_pos(value, lang), Message(not_text, key=key, language=lang))
        return texts
    either = N_("'%(key)s' must be text or a mapping language: text")
    f.error(f.value_pos(node, key), Message(either, key=key))
    return {}
