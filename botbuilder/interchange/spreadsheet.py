"""Spreadsheets (CSV and Excel .xlsx): one row per question.

Columns: `intent`, `question`, `answer`, `language`. The answer is given once
per intent (on any of its rows; repeating the same answer is fine). Bad rows
are reported by row number and nothing is imported until all are right.

Lost in translation: buttons, `context_only` and handoff teams are not in a
spreadsheet; exporting and importing again keeps intents, questions and
answers, and leaves those settings of existing intents as they are.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from botbuilder.content.files import atomic_write
from botbuilder.content.languages import ISO_639_1
from botbuilder.errors import ImportFileError
from botbuilder.interchange.entries import Entry

__all__ = ["COLUMNS", "export_rows", "read_rows", "rows_to_entries", "write_csv", "write_xlsx"]

COLUMNS = ("intent", "question", "answer", "language")
MAX_ROWS = 50_000


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a .csv (comma or semicolon, UTF-8) or .xlsx file as dicts with lower-case keys."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ImportFileError([f"{path}: not a readable .xlsx file ({exc})"]) from exc
        table = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImportFileError([f"{path}: cannot read as UTF-8 text ({exc})"]) from exc
        delimiter = (
            ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        )
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not table:
        raise ImportFileError([f"{path}: the file is empty"])
    if len(table) > MAX_ROWS:
        raise ImportFileError([f"{path}: {len(table)} rows is more than {MAX_ROWS}"])
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in ("intent", "question") if c not in header]
    if missing:
        raise ImportFileError(
            [
                f"{path}: row 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                f"the header must name {', '.join(COLUMNS)}"
            ]
        )
    return [dict(zip(header, (c.strip() for c in row), strict=False)) for row in table[1:]]


def rows_to_entries(
    rows: list[dict[str, str]],
    default_language: str,
    known: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> list[Entry]:
    """Group rows into entries; every problem is collected with its row number (header = row 1)."""
    problems: list[str] = []
    entries: dict[tuple[str, str], Entry] = {}
    answer_row: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue  # blank line
        intent = row.get("intent", "")
        question = row.get("question", "")
        answer = row.get("answer", "")
        language = (row.get("language") or default_language).lower()
        if not intent:
            problems.append(f"row {number}: no intent id")
            continue
        if language not in ISO_639_1:
            problems.append(f"row {number}: unknown language '{language}'")
            continue
        key = (language, intent)
        entry = entries.setdefault(key, Entry(intent, language))
        if not question and not answer:
            problems.append(f"row {number}: empty question for intent '{intent}'")
            continue
        if question:
            entry.questions.append(question)
        if answer:
            if entry.answer and entry.answer != answer:
                problems.append(
                    f"row {number}: answer for '{intent}' ({language}) differs from the one on row "
                    f"{answer_row[key]}; give the answer once per intent"
                )
            elif not entry.answer:
                entry.answer, answer_row[key] = answer, number
    for key, entry in entries.items():
        if not entry.answer and key not in known:
            problems.append(f"intent '{entry.intent}' ({entry.language}): no row has its answer")
    if problems:
        raise ImportFileError(problems)
    return list(entries.values())


def export_rows(entries: list[Entry]) -> list[list[str]]:
    rows = [list(COLUMNS)]
    for entry in entries:
        questions = entry.questions or [""]
        for n, question in enumerate(questions):
            rows.append([entry.intent, question, entry.answer if n == 0 else "", entry.language])
    return rows


def write_csv(entries: list[Entry], path: Path) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(export_rows(entries))
    atomic_write(path, out.getvalue())


def write_xlsx(entries: list[Entry], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "intents"  # type: ignore[union-attr]
    for row in export_rows(entries):
        sheet.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    atomic_write(path, out.getvalue())
