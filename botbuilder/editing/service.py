"""The editor service: change a bot's YAML files the way a manager means it.

One `FlowEditor` per bot directory reads the files as forms and the overview,
and turns a change (one intent, the settings, a restored version, an import)
into a `Draft`. `save` is the only way flow files are written: under one lock
it checks the draft with the same loader and messages as `botbuilder check`
on a scratch copy of the whole bot, writes each file atomically, and keeps
every write as a version in `FlowHistory` (when the bot has a database).
Other replicas' saves come in through `publishing.py`, under the same lock.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from botbuilder.content.files import atomic_write, dump_yaml, exclusive, round_trip_yaml
from botbuilder.content.loader import SETTINGS_FILE, flow_files, inspect_bot
from botbuilder.content.model import Bot
from botbuilder.content.os_reasons import os_reason
from botbuilder.editing.checking import check_draft
from botbuilder.editing.forms import (
    INTENT_GONE,
    INTENT_GONE_WHILE_EDITING,
    INTENT_SAVED_BEFORE_DELETE,
    INTENT_SAVED_BY_SOMEONE_ELSE,
    SETTINGS_SAVED_BY_SOMEONE_ELSE,
    Draft,
    EditConflict,
    FieldProblem,
    IntentForm,
    InvalidEdit,
    SettingsForm,
    UnheededAdvice,
)
from botbuilder.editing.history import FlowHistory, VersionRecord
from botbuilder.editing.overview import FlowFile, Overview, build_overview
from botbuilder.editing.publishing import FlowSync, shared_save
from botbuilder.editing.round_trip import (
    apply_intent,
    load_round_trip,
    new_intent,
    rename_intent,
)
from botbuilder.editing.settings import apply_settings, settings_form
from botbuilder.errors import N_, FlowProblem, Message, NotFound, Phrase

__all__ = ["FlowEditor"]

# A flow file the editor may create: ASCII names, so every file system takes them as
# they are, each part well under the 255-byte limit of a file name, a few folders
# deep at most. Matched with fullmatch: `$` would also match before a final newline.
NEW_FILE = re.compile(r"(?:[A-Za-z0-9_-]{1,64}/){0,3}[A-Za-z0-9_-]{1,64}\.ya?ml")
NEW_FILE_RULE = (
    "a new file name may have only letters, digits, - and _ (at most 64, in up to "
    "3 folders separated by /) and must end in .yml"
)


class FlowEditor:
    """Reads and changes the flow files of one bot directory.

    `history` None: a bot without a database (`botbuilder import` into a folder);
    saves are checked, locked and atomic all the same, but keep no versions.
    """

    def __init__(
        self,
        flows_dir: str | os.PathLike[str],
        history: FlowHistory | None,
        lock_path: Path | None = None,
        sync: FlowSync | None = None,
    ) -> None:
        self.root = Path(flows_dir).resolve()
        self._history = history
        self.lock_path = lock_path
        self.sync = sync  # None: no database shares this folder with other replicas
        self._cache: dict[str, tuple[Any, Any]] = {}

    @property
    def history(self) -> FlowHistory:
        if self._history is None:
            raise NotFound(N_("this bot keeps no history: it has no database"))
        return self._history

    # -- paths ------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        """`path`'s name in the folder; a symlink keeps it (only its folder is resolved)."""
        absolute = Path(os.path.abspath(path))
        return (absolute.parent.resolve() / absolute.name).relative_to(self.root).as_posix()

    def flow_files(self) -> list[str]:
        return [self.rel(p) for p in flow_files(self.root)]

    def path(self, rel: str, new: bool = False) -> Path:
        """A flow file of this bot by its exact relative name; refuses anything outside it.

        The name is not trimmed or otherwise repaired: the caller writes to the name it
        gave, so a name accepted here in a cleaned-up form would be written as another file.
        """
        if rel == SETTINGS_FILE or rel in self.flow_files():
            return self.root / rel
        if new and NEW_FILE.fullmatch(rel):
            return self.root / rel
        rule = f"; {NEW_FILE_RULE}" if new else ""
        raise NotFound(f"no flow file {rel!r} in this bot{rule}")

    def read(self, rel: str) -> str:
        """A file's text ("" if none); InvalidEdit if a folder, no permission, not UTF-8."""
        path = self.root / rel
        try:
            return path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            reason = os_reason(exc) if isinstance(exc, OSError) else Phrase(N_("not UTF-8 text"))
            unreadable = Message(N_("%(file)s cannot be read: %(reason)s"), file=rel, reason=reason)
            fix = Phrase(N_("fix the file on the server by hand first"))
            raise InvalidEdit([FieldProblem(None, unreadable, fix)]) from exc

    # -- reading ----------------------------------------------------------------------

    def parsed(self, rel: str, text: str | None = None) -> tuple[YAML, Any]:
        """A file (or `text`) parsed for a round trip; InvalidEdit on a syntax error or `read`'s."""
        text = self.read(rel) if text is None else text
        try:
            return load_round_trip(text)
        except YAMLError as exc:
            problem = FieldProblem(
                None, f"{rel}: {exc}", "the file has a YAML syntax error; fix it by hand first"
            )
            raise InvalidEdit([problem]) from exc

    def _read_only(self, rel: str) -> Any:
        """A file's parsed content for reading, cached until the file changes. Never mutate it."""
        try:
            st = (self.root / rel).stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._cache.get(rel)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = self.parsed(rel)[1] if stamp else None
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
        files, unreadable = [], []
        for rel in self.flow_files():
            try:
                language, nodes = self._intents(rel)
            except InvalidEdit:
                unreadable.append(rel)
                continue
            files.append(FlowFile(rel, language, [IntentForm.from_node(n) for n in nodes]))
        return build_overview(default, languages, files, unreadable, self.teams(), query)

    def intent(self, rel: str, intent_id: str) -> tuple[IntentForm, str]:
        """An intent as a form, and its language."""
        self.path(rel)
        language, nodes = self._intents(rel)
        for node in nodes:
            if str(node.get("id")) == intent_id:
                return IntentForm.from_node(node), language
        raise NotFound(
            N_("no intent '%(intent)s' in %(file)s; it may have been renamed or deleted"),
            intent=intent_id,
            file=rel,
        )

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
        form = form.cleaned()
        yaml, data = self._intents_document(rel, new=original_id is None)
        intents: CommentedSeq = data["intents"]
        if original_id is None:
            intents.append(new_intent(form))
            index, note = len(intents) - 1, f"added intent '{form.id}'"
        else:
            index = self._edited_index(rel, intents, original_id, revision)
            apply_intent(intents[index], form)
            note = f"edited intent '{original_id}'"
        changes = {rel: dump_yaml(data, yaml)}
        notes = {rel: note}
        if original_id is not None and form.id != original_id:
            notes[rel] = f"renamed intent '{original_id}' to '{form.id}'"
            self._rename_everywhere(original_id, form.id, changes, notes)
        return Draft(changes, notes, (rel, index))

    def _intents_document(self, rel: str, new: bool) -> tuple[YAML, CommentedMap]:
        """A flow file parsed for editing; a new one starts empty in the language its name says."""
        path = self.path(rel, new=new)
        if path.exists():
            yaml, data = self.parsed(rel)
        else:
            default, _ = self.languages()
            language = _language_of(rel) or default
            yaml = round_trip_yaml()
            data = CommentedMap([("language", language), ("intents", CommentedSeq())])
        if data is None:
            data = CommentedMap([("intents", CommentedSeq())])
        if not isinstance(data, CommentedMap) or not isinstance(data.get("intents"), CommentedSeq):
            raise InvalidEdit(
                [FieldProblem(None, f"{rel}: no 'intents:' list", "fix the file by hand first")]
            )
        return yaml, data

    @staticmethod
    def _edited_index(
        rel: str, intents: CommentedSeq, original_id: str, revision: str | None
    ) -> int:
        """Where the intent being edited is now; EditConflict if it is gone or changed."""
        index = next(
            (
                i
                for i, n in enumerate(intents)
                if isinstance(n, CommentedMap) and str(n.get("id")) == original_id
            ),
            None,
        )
        if index is None:
            raise EditConflict(INTENT_GONE_WHILE_EDITING, None, intent=original_id, file=rel)
        current = IntentForm.from_node(intents[index])
        if revision is not None and revision != current.revision():
            raise EditConflict(INTENT_SAVED_BY_SOMEONE_ELSE, current, intent=original_id)
        return index

    def _rename_everywhere(
        self, old: str, new: str, changes: dict[str, str], notes: dict[str, str]
    ) -> None:
        """The same intent in the other languages, and every button that goes to it."""
        for rel in self.flow_files():
            renamed = rename_intent(changes.get(rel, self.read(rel)), old, new, rel not in changes)
            if renamed is not None:
                changes[rel] = renamed
                notes.setdefault(rel, f"renamed intent '{old}' to '{new}'")

    def draft_delete(self, rel: str, intent_id: str, revision: str | None) -> Draft:
        self.path(rel)
        yaml, data = self.parsed(rel)
        intents = data.get("intents") if isinstance(data, CommentedMap) else None
        for i, node in enumerate(intents or []):
            if isinstance(node, CommentedMap) and str(node.get("id")) == intent_id:
                if revision is not None and IntentForm.from_node(node).revision() != revision:
                    current = IntentForm.from_node(node)
                    raise EditConflict(INTENT_SAVED_BEFORE_DELETE, current, intent=intent_id)
                del data["intents"][i]
                return Draft({rel: dump_yaml(data, yaml)}, {rel: f"deleted intent '{intent_id}'"})
        raise EditConflict(INTENT_GONE, None, intent=intent_id, file=rel)

    # -- settings ----------------------------------------------------------------------

    def settings(self) -> SettingsForm:
        default, _ = self.languages()
        return settings_form(self._settings_data(), default)

    def draft_settings(self, form: SettingsForm, revision: str | None) -> Draft:
        current = self.settings()
        if revision is not None and revision != current.revision():
            raise EditConflict(SETTINGS_SAVED_BY_SOMEONE_ELSE, current)
        yaml, data = (
            self.parsed(SETTINGS_FILE)
            if (self.root / SETTINGS_FILE).exists()
            else (round_trip_yaml(), None)
        )
        if not isinstance(data, CommentedMap):
            data = CommentedMap()
        default, _ = self.languages()
        apply_settings(data, current, form, default)
        return Draft(
            {SETTINGS_FILE: dump_yaml(data, yaml)}, {SETTINGS_FILE: "changed bot settings"}
        )

    # -- checking and writing ---------------------------------------------------------

    def check(self, draft: Draft, advice: bool = False) -> tuple[Bot | None, list[FieldProblem]]:
        """Load the bot as the draft would leave it; problems the draft is responsible for."""
        return check_draft(self.root, self.flow_files(), draft, self._problems_on_disk(), advice)

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
        self._cache["\0problems"] = (tuple(stamp), problems)
        return problems

    def save(self, draft: Draft, author: str, heed_advice: bool = False) -> list[VersionRecord]:
        """Check, then write the draft's files and record them; InvalidEdit if it has errors.

        The one path by which flow files reach the disk: editor forms, restores and
        imports (the editor's and `botbuilder import`) all end here; with replicas,
        `shared_save` publishes the result (editing/publishing.py). With
        `heed_advice`, `check`'s warnings about the draft's own intent stop the
        save too (UnheededAdvice), so the manager sees them and can save anyway.
        """
        with exclusive(self.lock_path), shared_save(self.sync, draft, author):
            _, problems = self.check(draft, advice=heed_advice)
            if any(p.severity == "error" for p in problems):
                raise InvalidEdit(problems)
            advice = [p for p in problems if p.severity == "warning" and p.field is not None]
            if heed_advice and advice:
                raise UnheededAdvice(advice)
            return self._write(draft, author)

    def _write(self, draft: Draft, author: str) -> list[VersionRecord]:
        history = self._history
        versions = []
        for rel, text in draft.changes.items():
            path = self.root / rel
            if history is not None:
                on_disk = self.read(rel) if path.exists() else None
                latest = history.latest(rel)
                if on_disk is not None and (latest is None or latest.content != on_disk):
                    history.record(rel, on_disk, None, "as found on disk before this edit")
            atomic_write(path, text)
            if history is not None:
                versions.append(history.record(rel, text, author, draft.notes.get(rel, "edited")))
        return versions


def _language_of(rel: str) -> str | None:
    m = re.search(r"(?:^|[/_.-])([a-z]{2})(?:/|\.ya?ml$)", rel)
    return m.group(1) if m else None
