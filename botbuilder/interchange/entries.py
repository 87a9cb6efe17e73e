"""Import and export of intents, whatever the outside format.

Every format (Rasa, spreadsheets, QnA Maker TSV) reads into and writes from
the same plain `Entry` list; this module turns entries into flow files and
flow files into entries. Imports are all-or-nothing: the result is written
to a scratch copy of the bot first and loaded with the normal checks; only a
bot that loads replaces the files, each with an atomic rename.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from botbuilder.content.languages import normalise
from botbuilder.content.loader import SETTINGS_FILE, load_bot
from botbuilder.content.model import Bot
from botbuilder.errors import FlowError, ImportFileError

__all__ = ["Entry", "ImportReport", "bot_entries", "slug", "write_entries", "atomic_write"]


@dataclass
class Entry:
    """One intent in one language, as formats exchange it; no questions = context_only."""

    intent: str
    language: str
    questions: list[str] = field(default_factory=list)
    answer: str = ""


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)  # "lang/id"
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} intents added, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged; {len(self.files)} files written"
        )


def slug(text: str, taken: set[str] | None = None, limit: int = 40) -> str:
    """An intent id from free text: "Hoe zeg ik op?" -> "hoe_zeg_ik_op"; unique within `taken`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:limit].rstrip("_") or "intent"
    candidate, n = base, 2
    while taken is not None and candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    if taken is not None:
        taken.add(candidate)
    return candidate


def bot_entries(bot: Bot, language: str | None = None) -> list[Entry]:
    """The bot's intents as entries, in a stable order; one language or all."""
    return [
        Entry(i.id, i.language, list(i.questions), i.answer)
        for (lang, _), i in sorted(bot.intents.items())
        if language is None or lang == language
    ]


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that a crash leaves the old or the new version, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _dump(data: object) -> str:
    from io import StringIO

    out = StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _answer_scalar(answer: str) -> str:
    return LiteralScalarString(answer.strip() + "\n") if "\n" in answer.strip() else answer.strip()


def write_entries(
    entries: list[Entry], directory: Path, default_language: str = "nl", dry_run: bool = False
) -> ImportReport:
    """Merge entries into the bot at `directory` (created if new); all or nothing.

    An existing intent gets the new questions added and its answer replaced,
    in its own file, with comments and formatting elsewhere kept. A new intent
    goes to `<language>/imported.yml`. Raises ImportFileError, writing nothing,
    if the result would not load. With `dry_run`, only reports what would change.
    """
    directory = Path(directory)
    existing: Bot | None = None
    if directory.exists() and any(directory.iterdir()):
        try:
            existing = load_bot(directory)
        except FlowError as exc:
            raise ImportFileError(
                [f"the bot at {directory} has errors; fix them first:", *map(str, exc.problems)]
            ) from exc
    report = ImportReport()
    pending: dict[Path, object] = {}  # file -> ruamel document

    def document(path: Path) -> object:
        if path not in pending:
            pending[path] = (
                _yaml().load(path.read_text(encoding="utf-8")) if path.exists() else None
            )
        return pending[path]

    languages = sorted({e.language for e in entries} | set(existing.languages if existing else ()))
    for entry in entries:
        key = f"{entry.language}/{entry.intent}"
        current = existing.intents.get((entry.language, entry.intent)) if existing else None
        if current is not None:
            path = Path(current.source)
            doc = document(path)
            node = next(n for n in doc["intents"] if str(n.get("id")) == entry.intent)  # type: ignore[index]
            known = {normalise(q) for q in current.questions}
            new_questions = [q for q in entry.questions if normalise(q) not in known]
            changed = False
            if new_questions and not current.context_only:
                if "questions" not in node:
                    node["questions"] = CommentedSeq()
                node["questions"].extend(new_questions)
                changed = True
            if entry.answer.strip() and entry.answer.strip() != current.answer.strip():
                node["answer"] = _answer_scalar(entry.answer)
                changed = True
            (report.changed if changed else report.unchanged).append(key)
            if not changed:
                continue
        else:
            path = directory / entry.language / "imported.yml"
            doc = document(path)
            if doc is None:
                doc = CommentedMap(language=entry.language, intents=CommentedSeq())
                pending[path] = doc
            node = CommentedMap(id=entry.intent)
            if entry.questions:
                node["questions"] = CommentedSeq(entry.questions)
            else:
                node["context_only"] = True
            node["answer"] = _answer_scalar(entry.answer)
            doc["intents"].append(node)  # type: ignore[index]
            report.added.append(key)
        report.files.append(path) if path not in report.files else None

    settings_path = directory / SETTINGS_FILE
    texts = {path: _dump(doc) for path, doc in pending.items() if path in report.files}
    if not settings_path.exists() and existing is None:
        language = default_language if default_language in languages else (languages or ["nl"])[0]
        texts[settings_path] = _dump(
            CommentedMap(
                name=directory.resolve().name, language=language, languages=languages or [language]
            )
        )
        report.files.append(settings_path)

    # Check the whole result on a scratch copy before touching the real files.
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / "bot"
        if directory.exists():
            shutil.copytree(directory, trial)
        for path, text in texts.items():
            target = trial / path.resolve().relative_to(directory.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            load_bot(trial)
        except FlowError as exc:
            raise ImportFileError(
                [str(p).replace(str(trial), str(directory)) for p in exc.problems]
            ) from exc
    if dry_run:  # a preview: checked like a real import, nothing written
        return report
    for path, text in texts.items():
        atomic_write(path, text)
    return report
