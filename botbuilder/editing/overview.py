"""The editor's list of intents: grouped by flow file, languages side by side.

An intent with the same id in several languages is one row; it is listed
under the file that holds it in the default language, and that group says
which other files the row's translations live in. A pure function of what
the flow files hold, so the editor service only reads files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.editing.forms import IntentForm

__all__ = ["FileGroup", "IntentRow", "Overview", "build_overview"]


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


@dataclass(frozen=True)
class FlowFile:
    """What the overview needs of one readable flow file."""

    path: str
    language: str
    intents: list[IntentForm]


def build_overview(
    default: str,
    languages: tuple[str, ...],
    files: list[FlowFile],
    unreadable: list[str],
    teams: tuple[str, ...],
    query: str = "",
) -> Overview:
    """Every intent of `files`, grouped by flow file; only those matching `query` if given."""
    order, by_id = _cells(files)
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
    languages_of = {f.path: f.language for f in files}
    return Overview(
        languages=tuple(dict.fromkeys([*languages, *languages_of.values()])),
        default_language=default,
        groups=tuple(
            FileGroup(f, languages_of[f], tuple(sorted(members[f] - {f})), tuple(rows))
            for f, rows in sorted(groups.items())
        ),
        files=languages_of,
        teams=teams,
        unreadable=tuple(unreadable),
    )


def _cells(files: list[FlowFile]) -> tuple[list[str], dict[str, dict[str, dict[str, Any]]]]:
    """Intent ids in the order first seen, and per id the cell of each language."""
    by_id: dict[str, dict[str, dict[str, Any]]] = {}
    order: list[str] = []
    for f in files:
        for form in f.intents:
            if not form.id:
                continue
            if form.id not in by_id:
                order.append(form.id)
            by_id.setdefault(form.id, {}).setdefault(
                f.language,
                {
                    "file": f.path,
                    "question": form.questions[0] if form.questions else "",
                    "all_questions": form.questions,
                    "questions": len(form.questions),
                    "answer": form.answer,
                    "context_only": form.context_only,
                    "handoff": form.handoff,
                },
            )
    return order, by_id


def _matches(needle: str, intent_id: str, cells: dict[str, dict[str, Any]]) -> bool:
    haystack = [intent_id]
    for cell in cells.values():
        haystack += [cell["answer"], *cell["all_questions"]]
    return any(needle in text.lower() for text in haystack)
