"""Imports as drafts: entries from any format merged into a bot's flow files.

`interchange` reads a file into entries; this module turns the entries into
a `Draft` of the flow files, so an import is saved like any other change:
by `FlowEditor.save`, under its lock, checked on a scratch copy of the whole
bot (all or nothing), and with one version per written file when the bot has
a history. An existing intent gets the new questions added and its answer
replaced, in its own file, with comments and formatting elsewhere kept; a
new intent goes to the topic file it reads most alike (`topics.py`), or to
the file the manager picked in the preview, else `<language>/imported.yml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from botbuilder.content.files import dump_yaml, round_trip_yaml
from botbuilder.content.languages import normalise
from botbuilder.content.loader import SETTINGS_FILE
from botbuilder.content.model import Bot, Intent
from botbuilder.editing.forms import Draft, IntentForm, InvalidEdit
from botbuilder.editing.history import VersionRecord
from botbuilder.editing.round_trip import apply_intent, new_intent
from botbuilder.editing.service import FlowEditor
from botbuilder.editing.topics import fallback_file, topic_files
from botbuilder.errors import ImportFileError
from botbuilder.interchange.entries import Entry

__all__ = ["ImportReport", "check_import", "draft_import", "save_import"]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)  # "lang/id"
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # relative to the bot folder
    targets: dict[str, str] = field(default_factory=dict)  # added "lang/id" -> its file
    choices: dict[str, list[str]] = field(default_factory=dict)  # language -> files to pick from

    def summary(self) -> str:
        return (
            f"{len(self.added)} intents added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged; {len(self.files)} files written"
        )


def draft_import(
    editor: FlowEditor,
    entries: list[Entry],
    bot: Bot | None,
    default_language: str = "nl",
    note: str = "imported",
    picks: Mapping[str, str] | None = None,
) -> tuple[Draft, ImportReport]:
    """The draft that merges `entries` into the bot (`bot`: as loaded now; None: a new bot).

    `picks`: the manager's choice of file per new intent ("lang/id" -> file), from the
    preview; a pick that is not a flow file of that language is ignored.
    """
    report = _targets(editor, entries, bot, picks or {})
    documents: dict[str, tuple[YAML, Any]] = {}

    def document(rel: str, language: str) -> CommentedMap:
        if rel not in documents:
            documents[rel] = (
                editor.parsed(rel)
                if (editor.root / rel).exists()
                else (round_trip_yaml(), CommentedMap(language=language, intents=CommentedSeq()))
            )
        return documents[rel][1]  # type: ignore[no-any-return]

    for entry in entries:
        key = f"{entry.language}/{entry.intent}"
        current = bot.intents.get((entry.language, entry.intent)) if bot else None
        if current is None:
            rel = report.targets[key]
            document(rel, entry.language)["intents"].append(_new_node(entry))
            report.added.append(key)
        else:
            rel = editor.rel(Path(current.source))
            if not _merge(document(rel, entry.language), entry, current):
                report.unchanged.append(key)
                continue
            report.changed.append(key)
        if rel not in report.files:
            report.files.append(rel)
    changes = {rel: dump_yaml(documents[rel][1], documents[rel][0]) for rel in report.files}
    if bot is None and not (editor.root / SETTINGS_FILE).exists():
        changes[SETTINGS_FILE] = _new_settings(editor.root.name, entries, default_language)
        report.files.append(SETTINGS_FILE)
    return Draft(changes, dict.fromkeys(changes, note)), report


def _targets(
    editor: FlowEditor, entries: list[Entry], bot: Bot | None, picks: Mapping[str, str]
) -> ImportReport:
    """A report with the file each new intent goes to, and the files a manager may pick."""
    report = ImportReport()
    new = [e for e in entries if bot is None or (e.language, e.intent) not in bot.intents]
    suggested = topic_files(
        bot,
        editor.root,
        ((e.language, e.intent, f"{' '.join(e.questions)} {e.answer}") for e in new),
    )
    files = editor.overview().files if bot is not None else {}
    for entry in new:
        language, key = entry.language, f"{entry.language}/{entry.intent}"
        options = report.choices.setdefault(
            language,
            sorted(
                {*(f for f, lang in files.items() if lang == language), fallback_file(language)}
            ),
        )
        pick = picks.get(key)
        report.targets[key] = pick if pick in options else suggested[(language, entry.intent)]
    return report


def _new_node(entry: Entry) -> CommentedMap:
    """A new intent; one without questions is reached through buttons only."""
    form = IntentForm(
        entry.intent, list(entry.questions), entry.answer.strip(), context_only=not entry.questions
    )
    return new_intent(form)


def _merge(data: CommentedMap, entry: Entry, current: Intent) -> bool:
    """Add the entry's new questions and answer to its intent's node; False if nothing is new."""
    node = next(
        n
        for n in data["intents"]
        if isinstance(n, CommentedMap) and str(n.get("id")) == entry.intent
    )
    form = IntentForm.from_node(node)
    known = {normalise(q) for q in current.questions}
    new_questions = [q for q in entry.questions if normalise(q) not in known]
    changed = False
    if new_questions and not current.context_only:
        form.questions = [*form.questions, *new_questions]
        changed = True
    if entry.answer.strip() and entry.answer.strip() != current.answer.strip():
        form.answer = entry.answer.strip()
        changed = True
    if changed:
        apply_intent(node, form)
    return changed


def _new_settings(name: str, entries: list[Entry], default_language: str) -> str:
    """bot.yml for a bot made by the import: the languages of its entries."""
    languages = sorted({e.language for e in entries})
    language = default_language if default_language in languages else (languages or ["nl"])[0]
    return dump_yaml(CommentedMap(name=name, language=language, languages=languages or [language]))


def check_import(editor: FlowEditor, draft: Draft) -> None:
    """A preview: ImportFileError naming each error the import would leave; nothing written."""
    _, problems = editor.check(draft)
    errors = [p.text for p in problems if p.severity == "error"]
    if errors:
        raise ImportFileError(errors)


def save_import(editor: FlowEditor, draft: Draft, author: str) -> list[VersionRecord]:
    """Save the import through the editor; ImportFileError (nothing written) if it has errors."""
    try:
        return editor.save(draft, author)
    except InvalidEdit as exc:
        raise ImportFileError([p.text for p in exc.problems if p.severity == "error"]) from exc
