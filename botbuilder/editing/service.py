"""Change a bot's YAML files the way a manager means it: one intent, or the settings.

The files stay the source of truth and stay pleasant to edit by hand: every
change is made on ruamel.yaml's round-trip tree, so comments, key order,
quoting and indentation elsewhere in the file survive, and only the lines
that were edited change. A change is checked with the same loader and the
same messages as `botbuilder check` on a scratch copy of the whole bot
before anything is written; files are written atomically (temp file, then
rename), and every write is kept as a version in `FlowHistory`.

    BadRequest
    └── InvalidEdit     422: the change has errors; `problems` says where, per field
    Conflict
    └── EditConflict    409: someone else changed the intent since it was opened
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from botbuilder.content.loader import SETTINGS_FILE, flow_files, inspect_bot
from botbuilder.content.model import Bot
from botbuilder.editing.history import FlowHistory, VersionRecord
from botbuilder.errors import BadRequest, Conflict, FlowProblem, NotFound

__all__ = [
    "ButtonForm",
    "EditConflict",
    "FieldProblem",
    "FlowEditor",
    "IntentForm",
    "InvalidEdit",
    "atomic_write",
]

_INTENT_ORDER = ("id", "questions", "answer", "buttons", "context_only", "handoff")
_NEW_FILE = re.compile(r"^[\w\-]+(/[\w\-]+)*\.ya?ml$")
_LOCK = threading.Lock()


# -- what a form carries ---------------------------------------------------------------


@dataclass
class ButtonForm:
    label: str
    kind: str  # goto | url | handoff
    target: str = ""  # intent id for goto, the URL for url


@dataclass
class IntentForm:
    id: str
    questions: list[str] = field(default_factory=list)
    answer: str = ""
    buttons: list[ButtonForm] = field(default_factory=list)
    context_only: bool = False
    handoff: str | None = None  # None: no handoff; "": the default team; else a team

    def cleaned(self) -> IntentForm:
        """Without the empty rows a form always carries (the blank "add a question" field)."""
        return _clean(self)

    def revision(self) -> str:
        """A token of this content; a save names the one it started from."""
        return _digest(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False))

    @classmethod
    def from_node(cls, node: CommentedMap) -> IntentForm:
        buttons = []
        for b in node.get("buttons") or []:
            if not isinstance(b, dict):
                continue
            kind = next(
                (k for k in ("goto", "url", "handoff") if b.get(k) not in (None, False)), "goto"
            )
            target = "" if kind == "handoff" else str(b.get(kind) or "")
            buttons.append(ButtonForm(str(b.get("label") or ""), kind, target))
        handoff = node.get("handoff")
        return cls(
            id=str(node.get("id") or ""),
            questions=[str(q) for q in node.get("questions") or [] if q is not None],
            answer=str(node.get("answer") or "").strip(),
            buttons=buttons,
            context_only=node.get("context_only") is True,
            handoff="" if handoff is True else (str(handoff) if handoff else None),
        )


@dataclass
class SettingsForm:
    greeting: dict[str, str] = field(default_factory=dict)
    offline_message: dict[str, str] = field(default_factory=dict)
    welcome: dict[str, str] = field(default_factory=dict)
    answer_threshold: str = "auto"
    clarify_threshold: str = "auto"
    widget_title: str = ""
    widget_color: str = ""

    def revision(self) -> str:
        return _digest(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False))


# Where each settings field lives in bot.yml.
_SETTINGS_KEYS: dict[str, tuple[str, ...]] = {
    "greeting": ("greeting",),
    "offline_message": ("handoff", "offline_message"),
    "welcome": ("widget", "welcome"),
    "answer_threshold": ("matcher", "answer_threshold"),
    "clarify_threshold": ("matcher", "clarify_threshold"),
    "widget_title": ("widget", "title"),
    "widget_color": ("widget", "color"),
}


@dataclass(frozen=True)
class FieldProblem:
    """A problem from the loader, and the form field it belongs to (None: elsewhere)."""

    field: str | None
    text: str  # file:line:col: message, as `botbuilder check` prints it
    message: str
    severity: str = "error"


class InvalidEdit(BadRequest):
    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("the change was not saved: " + "; ".join(p.text for p in errors))


class EditConflict(Conflict):
    def __init__(self, message: str, current: IntentForm | SettingsForm | None) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class IntentRow:
    id: str
    cells: dict[
        str, dict[str, Any]
    ]  # language -> {file, question, questions, context_only, handoff}


@dataclass(frozen=True)
class FileGroup:
    file: str
    language: str
    also_in: tuple[str, ...]
    rows: tuple[IntentRow, ...]


@dataclass(frozen=True)
class Overview:
    languages: tuple[str, ...]
    default_language: str
    groups: tuple[FileGroup, ...]
    files: dict[str, str]  # flow file -> language
    teams: tuple[str, ...]
    unreadable: tuple[str, ...]  # files that could not be parsed

    def missing(self) -> int:
        return sum(len(self.languages) - len(r.cells) for g in self.groups for r in g.rows)


# -- YAML round trip -------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line someone wrote
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _load(text: str) -> tuple[YAML, Any]:
    """Parse a file with the indentation settings that write it back unchanged."""
    candidates = [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 3, 1)]
    first: tuple[YAML, Any] | None = None
    for mapping, sequence, offset in candidates:
        yaml = _yaml(mapping, sequence, offset)
        data = yaml.load(text)
        if first is None:
            first = (yaml, data)
        if data is None or _dump(yaml, data) == text:
            return yaml, data
    assert first is not None
    return first


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and a rename: never a half-written file.

    The temp name starts with a dot, so the loader never mistakes it for a flow file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _scalar(old: Any, text: str) -> Any:
    """The new text in a style like the old one: block style for answers with lines."""
    if isinstance(old, LiteralScalarString) or "\n" in text:
        return LiteralScalarString(text.rstrip("\n") + "\n")
    return text


def _update_list(seq: CommentedSeq, new: list[Any], same: Any = None) -> None:
    """Make `seq` equal `new` with the fewest insertions and deletions (comments on kept items stay)."""
    old_keys = [same(x) if same else x for x in seq]
    new_keys = [same(x) if same else x for x in new]
    ops = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                seq[i1 + k] = new[j1 + k]
            continue
        for i in reversed(range(i1, i2)):
            del seq[i]
        for k, item in enumerate(new[j1:j2]):
            seq.insert(i1 + k, item)


def _set_key(node: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    if key in node:
        node[key] = value
        return
    later = order[order.index(key) + 1 :]
    position = next((i for i, k in enumerate(node) if k in later), len(node))
    node.insert(position, key, value)


def _button_node(button: ButtonForm) -> CommentedMap:
    node = CommentedMap()
    node["label"] = button.label
    node[button.kind] = True if button.kind == "handoff" else _button_target(button)
    return node


def _button_target(button: ButtonForm) -> str:
    return button.target.strip()


def _button_key(b: Any) -> tuple[str, str, str]:
    if isinstance(b, ButtonForm):
        return (b.label.strip(), b.kind, "" if b.kind == "handoff" else b.target.strip())
    form = IntentForm.from_node(CommentedMap([("buttons", [b])])).buttons
    return _button_key(form[0]) if form else ("", "", "")


def apply_intent(node: CommentedMap, form: IntentForm) -> None:
    """Write `form` into an intent's YAML node, touching only what differs."""
    before = IntentForm.from_node(node)
    if before.id != form.id:
        _set_key(node, "id", form.id, _INTENT_ORDER)
    if before.questions != form.questions:
        if isinstance(node.get("questions"), CommentedSeq):
            _update_list(node["questions"], list(form.questions))
        elif form.questions:
            _set_key(node, "questions", CommentedSeq(form.questions), _INTENT_ORDER)
        if not form.questions and "questions" in node:
            del node["questions"]
    if before.answer != form.answer.strip():
        _set_key(node, "answer", _scalar(node.get("answer"), form.answer.strip()), _INTENT_ORDER)
    if [_button_key(b) for b in before.buttons] != [_button_key(b) for b in form.buttons]:
        if form.buttons and isinstance(node.get("buttons"), CommentedSeq):
            _update_list(node["buttons"], [_button_node(b) for b in form.buttons], _button_key)
        elif form.buttons:
            _set_key(
                node, "buttons", CommentedSeq(_button_node(b) for b in form.buttons), _INTENT_ORDER
            )
        else:
            node.pop("buttons", None)
    if before.context_only != form.context_only:
        if form.context_only:
            _set_key(node, "context_only", True, _INTENT_ORDER)
        else:
            node.pop("context_only", None)
    if before.handoff != form.handoff:
        if form.handoff is None:
            node.pop("handoff", None)
        else:
            _set_key(node, "handoff", form.handoff or True, _INTENT_ORDER)


def _new_intent(form: IntentForm) -> CommentedMap:
    node = CommentedMap()
    node["id"] = form.id
    apply_intent(node, form)
    return node


# -- the editor ------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A bot directory with some files changed in memory only."""

    changes: dict[str, str]  # relative path -> new text
    notes: dict[str, str]  # relative path -> what changed, for the history
    focus: tuple[str, int] | None = None  # (file, index of the edited intent)


class FlowEditor:
    """Reads and changes the flow files of one bot directory."""

    def __init__(
        self, flows_dir: str | os.PathLike[str], history: FlowHistory, lock_path: Path | None = None
    ) -> None:
        self.root = Path(flows_dir).resolve()
        self.history = history
        self.lock_path = lock_path
        self._cache: dict[str, tuple[tuple[int, int] | None, Any]] = {}

    # -- paths ------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def flow_files(self) -> list[str]:
        return [self.rel(p) for p in flow_files(self.root)]

    def path(self, rel: str, new: bool = False) -> Path:
        """A flow file of this bot by relative name; refuses anything outside it."""
        rel = (rel or "").strip().replace("\\", "/")
        if rel == SETTINGS_FILE or rel in self.flow_files():
            return self.root / rel
        if new and _NEW_FILE.match(rel) and ".." not in rel and not rel.startswith("/"):
            return self.root / rel
        raise NotFound(f"no flow file '{rel}' in this bot")

    def read(self, rel: str) -> str:
        path = self.root / rel
        return path.read_text(encoding="utf-8") if path.exists() else ""

    # -- reading ----------------------------------------------------------------------

    def _parsed(self, rel: str) -> tuple[YAML, Any]:
        try:
            return _load(self.read(rel))
        except YAMLError as exc:
            raise InvalidEdit(
                [
                    FieldProblem(
                        None,
                        f"{rel}: {exc}",
                        "the file has a YAML syntax error; fix it by hand first",
                    )
                ]
            ) from exc

    def _read_only(self, rel: str) -> Any:
        """A file's parsed content for reading, cached until the file changes. Never mutate it."""
        path = self.root / rel
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._cache.get(rel)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = self._parsed(rel)[1] if stamp else None
        self._cache[rel] = (stamp, data)
        return data

    def _settings_data(self) -> CommentedMap:
        try:
            data = self._read_only(SETTINGS_FILE)
        except InvalidEdit:
            data = None
        return data if isinstance(data, CommentedMap) else CommentedMap()

    def languages(self) -> tuple[str, tuple[str, ...]]:
        data = self._settings_data()
        default = str(data.get("language") or "nl")
        languages = [default] + [str(x) for x in data.get("languages") or [] if str(x) != default]
        return default, tuple(languages)

    def teams(self) -> tuple[str, ...]:
        handoff = self._settings_data().get("handoff") or {}
        teams = handoff.get("teams") if isinstance(handoff, dict) else None
        return tuple(str(t) for t in teams) if isinstance(teams, dict) else ()

    def _intents(self, rel: str) -> tuple[str, list[CommentedMap]]:
        default, _ = self.languages()
        data = self._read_only(rel)
        if not isinstance(data, CommentedMap):
            return default, []
        language = str(data.get("language") or default)
        intents = data.get("intents")
        if not isinstance(intents, CommentedSeq):
            return language, []
        return language, [n for n in intents if isinstance(n, CommentedMap)]

    def overview(self, query: str = "") -> Overview:
        """Every intent, grouped by flow file, with its languages side by side."""
        default, languages = self.languages()
        files: dict[str, str] = {}
        by_id: dict[str, dict[str, dict[str, Any]]] = {}
        order: list[str] = []
        unreadable = []
        for rel in self.flow_files():
            try:
                language, nodes = self._intents(rel)
            except InvalidEdit:
                unreadable.append(rel)
                continue
            files[rel] = language
            for node in nodes:
                form = IntentForm.from_node(node)
                if not form.id:
                    continue
                if form.id not in by_id:
                    order.append(form.id)
                by_id.setdefault(form.id, {}).setdefault(
                    language,
                    {
                        "file": rel,
                        "question": form.questions[0] if form.questions else "",
                        "all_questions": form.questions,
                        "questions": len(form.questions),
                        "answer": form.answer,
                        "context_only": form.context_only,
                        "handoff": form.handoff,
                    },
                )
        all_languages = tuple(dict.fromkeys([*languages, *files.values()]))
        needle = query.strip().lower()
        groups: dict[str, list[IntentRow]] = {}
        members: dict[str, set[str]] = {}
        for intent_id in order:
            cells = by_id[intent_id]
            home = cells.get(default) or next(iter(cells.values()))
            if needle and not _matches(needle, intent_id, cells):
                continue
            groups.setdefault(home["file"], []).append(IntentRow(intent_id, cells))
            members.setdefault(home["file"], set()).update(c["file"] for c in cells.values())
        return Overview(
            languages=all_languages,
            default_language=default,
            groups=tuple(
                FileGroup(
                    f,
                    files[f],
                    tuple(sorted(members[f] - {f})),
                    tuple(rows),
                )
                for f, rows in sorted(groups.items())
            ),
            files=files,
            teams=self.teams(),
            unreadable=tuple(unreadable),
        )

    def intent(self, rel: str, intent_id: str) -> tuple[IntentForm, str]:
        """An intent as a form, and its language."""
        self.path(rel)
        language, nodes = self._intents(rel)
        for node in nodes:
            if str(node.get("id")) == intent_id:
                return IntentForm.from_node(node), language
        raise NotFound(f"no intent '{intent_id}' in {rel}; it may have been renamed or deleted")

    def intent_ids(self) -> list[str]:
        ids: dict[str, None] = {}
        for rel in self.flow_files():
            with contextlib.suppress(InvalidEdit):
                ids.update(dict.fromkeys(str(n.get("id")) for n in self._intents(rel)[1]))
        return sorted(ids)

    def file_for(self, language: str, near: str | None = None) -> str:
        """The flow file a new intent in `language` goes to: the one most like `near`."""
        overview = self.overview()
        candidates = [f for f, lang in overview.files.items() if lang == language]
        if not candidates:
            stem = Path(near).stem if near else "faq"
            return f"{stem}_{language}.yml"
        if near is None:
            return candidates[0]
        near_ids = (
            {str(n.get("id")) for n in self._intents(near)[1]} if near in overview.files else set()
        )

        def shared(f: str) -> tuple[int, float]:
            ids = {str(n.get("id")) for n in self._intents(f)[1]}
            same_name = difflib.SequenceMatcher(a=Path(f).stem, b=Path(near).stem).ratio()
            return (len(ids & near_ids), same_name)

        return max(candidates, key=shared)

    # -- changing intents ----------------------------------------------------------

    def draft_intent(
        self, rel: str, original_id: str | None, form: IntentForm, revision: str | None = None
    ) -> Draft:
        """The files as they would be with this intent saved; EditConflict if it moved on."""
        path = self.path(rel, new=original_id is None)
        form = _clean(form)
        if path.exists():
            yaml, data = self._parsed(rel)
        else:
            default, _ = self.languages()
            language = _language_of(rel) or default
            yaml, data = (
                _yaml(),
                CommentedMap([("language", language), ("intents", CommentedSeq())]),
            )
        if data is None:
            data = CommentedMap([("intents", CommentedSeq())])
        if not isinstance(data, CommentedMap) or not isinstance(data.get("intents"), CommentedSeq):
            raise InvalidEdit(
                [FieldProblem(None, f"{rel}: no 'intents:' list", "fix the file by hand first")]
            )
        intents: CommentedSeq = data["intents"]
        index = None
        if original_id is not None:
            index = next(
                (
                    i
                    for i, n in enumerate(intents)
                    if isinstance(n, CommentedMap) and str(n.get("id")) == original_id
                ),
                None,
            )
            if index is None:
                raise EditConflict(
                    f"intent '{original_id}' is no longer in {rel}: someone renamed or deleted it "
                    "while you were editing. Your text is still in the form; copy it, and open "
                    "the intent list again.",
                    None,
                )
            current = IntentForm.from_node(intents[index])
            if revision is not None and revision != current.revision():
                raise EditConflict(
                    f"someone else saved intent '{original_id}' while you were editing it. "
                    "Their version is shown below; your changes are still in the form. "
                    "Save again to replace their version with yours.",
                    current,
                )
            apply_intent(intents[index], form)
            note = f"edited intent '{original_id}'"
        else:
            intents.append(_new_intent(form))
            index = len(intents) - 1
            note = f"added intent '{form.id}'"
        changes = {rel: _dump(yaml, data)}
        notes = {rel: note}
        if original_id is not None and form.id != original_id:
            notes[rel] = f"renamed intent '{original_id}' to '{form.id}'"
            self._rename_everywhere(original_id, form.id, changes, notes)
        return Draft(changes, notes, (rel, index))

    def _rename_everywhere(
        self, old: str, new: str, changes: dict[str, str], notes: dict[str, str]
    ) -> None:
        """The same intent in the other languages, and every button that goes to it."""
        for rel in self.flow_files():
            text = changes.get(rel, self.read(rel))
            try:
                yaml, data = _load(text)
            except YAMLError:
                continue
            intents = data.get("intents") if isinstance(data, CommentedMap) else None
            if not isinstance(intents, CommentedSeq):
                continue
            touched = False
            for node in intents:
                if not isinstance(node, CommentedMap):
                    continue
                if rel not in changes and str(node.get("id")) == old:
                    node["id"] = new
                    touched = True
                for b in node.get("buttons") or []:
                    if isinstance(b, CommentedMap) and b.get("goto") == old:
                        b["goto"] = new
                        touched = True
            if touched:
                changes[rel] = _dump(yaml, data)
                notes.setdefault(rel, f"renamed intent '{old}' to '{new}'")

    def draft_delete(self, rel: str, intent_id: str, revision: str | None) -> Draft:
        self.path(rel)
        yaml, data = self._parsed(rel)
        intents = data.get("intents") if isinstance(data, CommentedMap) else None
        for i, node in enumerate(intents or []):
            if isinstance(node, CommentedMap) and str(node.get("id")) == intent_id:
                if revision is not None and IntentForm.from_node(node).revision() != revision:
                    raise EditConflict(
                        f"someone else saved intent '{intent_id}' since you opened it; "
                        "look at their version before deleting it",
                        IntentForm.from_node(node),
                    )
                del data["intents"][i]
                return Draft({rel: _dump(yaml, data)}, {rel: f"deleted intent '{intent_id}'"})
        raise EditConflict(f"intent '{intent_id}' is no longer in {rel}", None)

    # -- settings ----------------------------------------------------------------------

    def settings(self) -> SettingsForm:
        data = self._settings_data()
        default, languages = self.languages()

        def texts(value: Any) -> dict[str, str]:
            if isinstance(value, dict):
                return {str(k): str(v or "").strip() for k, v in value.items()}
            return {default: str(value).strip()} if value else {}

        def get(path: tuple[str, ...]) -> Any:
            node: Any = data
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            return node

        form = SettingsForm()
        for name, path in _SETTINGS_KEYS.items():
            value = get(path)
            if name in ("greeting", "offline_message", "welcome"):
                setattr(form, name, texts(value))
            elif name.endswith("threshold"):
                setattr(form, name, "auto" if value is None else str(value))
            else:
                setattr(form, name, "" if value is None else str(value))
        return form

    def draft_settings(self, form: SettingsForm, revision: str | None) -> Draft:
        current = self.settings()
        if revision is not None and revision != current.revision():
            raise EditConflict(
                "someone else saved the settings while you were editing them. Their values are "
                "shown below; yours are still in the form. Save again to use yours.",
                current,
            )
        yaml, data = (
            self._parsed(SETTINGS_FILE) if (self.root / SETTINGS_FILE).exists() else (_yaml(), None)
        )
        if not isinstance(data, CommentedMap):
            data = CommentedMap()
        default, _ = self.languages()
        for name, path in _SETTINGS_KEYS.items():
            old, new = getattr(current, name), getattr(form, name)
            if old == new:
                continue
            parent = data
            for key in path[:-1]:
                if not isinstance(parent.get(key), CommentedMap):
                    parent[key] = CommentedMap()
                parent = parent[key]
            key = path[-1]
            if isinstance(new, dict):
                new = {k: v.strip() for k, v in new.items() if v.strip()}
                value: Any = (
                    new.get(default, "")
                    if set(new) <= {default} and not isinstance(parent.get(key), dict)
                    else CommentedMap(new)
                )
                if isinstance(parent.get(key), CommentedMap) and isinstance(value, CommentedMap):
                    for lang in list(parent[key]):
                        if lang not in value:
                            del parent[key][lang]
                    for lang, text in value.items():
                        if parent[key].get(lang) != text:
                            parent[key][lang] = _scalar(parent[key].get(lang), text)
                    continue
            elif name.endswith("threshold"):
                value = _number(new)
            else:
                value = new.strip()
            if value in ("", {}, None) or (
                name.endswith("threshold") and value == "auto" and key not in parent
            ):
                parent.pop(key, None)
            else:
                parent[key] = value
        return Draft({SETTINGS_FILE: _dump(yaml, data)}, {SETTINGS_FILE: "changed bot settings"})

    # -- checking and writing ---------------------------------------------------------

    @contextlib.contextmanager
    def scratch(self, draft: Draft) -> Iterator[Path]:
        """A temporary copy of the bot with the draft's changes, for the loader."""
        with tempfile.TemporaryDirectory(prefix="botbuilder-draft-") as tmp:
            root = Path(tmp) / "bot"
            root.mkdir()
            for rel in [SETTINGS_FILE, *self.flow_files(), *draft.changes]:
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if rel in draft.changes:
                    target.write_text(draft.changes[rel], encoding="utf-8")
                elif (self.root / rel).exists():
                    shutil.copyfile(self.root / rel, target)
            yield root

    def check(self, draft: Draft) -> tuple[Bot | None, list[FieldProblem]]:
        """Load the bot as the draft would leave it; problems the draft is responsible for."""
        before = self._problems_on_disk()
        known = {
            (self._rel_problem(p, self.root), p.message) for p in before if p.severity == "error"
        }
        with self.scratch(draft) as root:
            bot, after = inspect_bot(root)
        problems = []
        for p in sorted(after, key=lambda p: (p.path, p.line, p.column)):
            rel = self._rel_problem(p, root)
            field_name = self._field_of(draft, rel, p)
            pre_existing = (rel, p.message) in known and field_name is None
            severity = "known" if (p.severity == "error" and pre_existing) else p.severity
            text = f"{rel}:{p.line}:{p.column}: {p.message}"
            problems.append(FieldProblem(field_name, text, p.message, severity))
        return bot, problems

    def _problems_on_disk(self) -> list[FlowProblem]:
        """The loader's problems with the files as they are, cached until a file changes."""
        stamp = []
        for rel in [SETTINGS_FILE, *self.flow_files()]:
            with contextlib.suppress(OSError):
                st = (self.root / rel).stat()
                stamp.append((rel, st.st_mtime_ns, st.st_size))
        cached = self._cache.get("\0problems")
        if cached is not None and cached[0] == tuple(stamp):
            return cached[1]  # type: ignore[no-any-return]
        problems = inspect_bot(self.root)[1]
        self._cache["\0problems"] = (tuple(stamp), problems)  # type: ignore[assignment]
        return problems

    @staticmethod
    def _rel_problem(problem: FlowProblem, root: Path) -> str:
        try:
            return Path(problem.path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return problem.path

    def _field_of(self, draft: Draft, rel: str, problem: FlowProblem) -> str | None:
        """Which form field a problem in the draft's edited intent concerns."""
        if draft.focus is None:
            if rel == SETTINGS_FILE and SETTINGS_FILE in draft.changes:
                return _settings_field(draft.changes[SETTINGS_FILE], problem.line - 1)
            return None
        file, index = draft.focus
        if rel != file:
            return None
        try:
            data = _load(draft.changes[file])[1]
            intents = data["intents"]
            node = intents[index]
        except (YAMLError, KeyError, IndexError, TypeError):
            return None
        line = problem.line - 1
        start = node.lc.line
        end = intents[index + 1].lc.line if index + 1 < len(intents) else 10**9
        if not start <= line < end:
            return None
        if "has no questions" in problem.message:
            return "questions"
        if "has no 'answer'" in problem.message:
            return "answer"
        keys = sorted(((node.lc.key(k)[0], k) for k in node), key=lambda x: x[0])
        key = next((k for ln, k in reversed(keys) if ln <= line), "id")
        if key in ("questions", "buttons") and isinstance(node[key], CommentedSeq):
            items = [(node[key].lc.item(i)[0], i) for i in range(len(node[key]))]
            hit = next((i for ln, i in reversed(items) if ln <= line), None)
            if hit is not None and line > node.lc.key(key)[0]:
                return f"{key[:-1]}-{hit}"
        return str(key)

    def save(self, draft: Draft, author: str) -> list[VersionRecord]:
        """Check, then write the draft's files and record them; InvalidEdit if it has errors."""
        with self._locked():
            _, problems = self.check(draft)
            if any(p.severity == "error" for p in problems):
                raise InvalidEdit(problems)
            return self._write(draft, author)

    def _write(self, draft: Draft, author: str) -> list[VersionRecord]:
        versions = []
        for rel, text in draft.changes.items():
            path = self.root / rel
            on_disk = self.read(rel) if path.exists() else None
            latest = self.history.latest(rel)
            if on_disk is not None and (latest is None or latest.content != on_disk):
                self.history.record(rel, on_disk, None, "as found on disk before this edit")
            atomic_write(path, text)
            versions.append(self.history.record(rel, text, author, draft.notes.get(rel, "edited")))
        return versions

    def restore(self, version_id: int, author: str) -> VersionRecord:
        """Write an old version back (after the same checks as any save)."""
        version = self.history.version(version_id)
        if version.path != SETTINGS_FILE and not _NEW_FILE.match(version.path):
            raise BadRequest(f"version {version_id} is not of a flow file")
        when = version.created_at.strftime("%Y-%m-%d %H:%M")
        draft = Draft(
            {version.path: version.content},
            {version.path: f"restored version {version.id} ({when})"},
        )
        return self.save(draft, author)[0]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One save at a time: threads of this process, and other processes via a lock file."""
        with _LOCK:
            if self.lock_path is None:
                yield
                return
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.lock_path, "a") as fh:
                try:
                    import fcntl
                except ImportError:  # Windows: threads only
                    yield
                    return
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)


def _clean(form: IntentForm) -> IntentForm:
    """Drop empty rows a form always carries (the blank "add a question" field)."""
    return IntentForm(
        id=form.id.strip(),
        questions=[q.strip() for q in form.questions if q.strip()],
        answer=form.answer.replace("\r\n", "\n").strip(),
        buttons=[b for b in form.buttons if b.label.strip() or b.target.strip()],
        context_only=form.context_only,
        handoff=None if form.handoff is None else form.handoff.strip(),
    )


def _language_of(rel: str) -> str | None:
    m = re.search(r"(?:^|[/_.-])([a-z]{2})(?:/|\.ya?ml$)", rel)
    return m.group(1) if m else None


def _matches(needle: str, intent_id: str, cells: dict[str, dict[str, Any]]) -> bool:
    haystack = [intent_id]
    for cell in cells.values():
        haystack += [cell["answer"], *cell["all_questions"]]
    return any(needle in text.lower() for text in haystack)


def _number(text: str) -> Any:
    text = text.strip()
    if text in ("", "auto"):
        return "auto"
    try:
        return float(text)
    except ValueError:
        return text  # the loader explains what is expected


def _settings_field(text: str, line: int) -> str | None:
    try:
        data = _load(text)[1]
    except YAMLError:
        return None
    for name, path in _SETTINGS_KEYS.items():
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, CommentedMap) else None
        if not isinstance(node, CommentedMap) or path[-1] not in node:
            continue
        lines = {node.lc.key(path[-1])[0]}
        value = node[path[-1]]
        if isinstance(value, CommentedMap):
            lines.update(value.lc.key(k)[0] for k in value)
        if line in lines:
            return name
    return None
