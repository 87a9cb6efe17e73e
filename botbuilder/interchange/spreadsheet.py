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
from collections.abc import Iterable, Sequence
from pathlib import Path

from botbuilder.content.files import atomic_write
from botbuilder.content.languages import ISO_639_1
from botbuilder.errors import N_, ImportFileError, Message
from botbuilder.interchange.entries import Entry
from botbuilder.interchange.limits import MAX_COLUMNS, MAX_ROWS, check_xlsx_zip, csv_rows
from botbuilder.interchange.problems import at, not_xlsx, unreadable

__all__ = [
    "COLUMNS",
    "csv_text",
    "export_rows",
    "neutralise",
    "read_rows",
    "rows_to_entries",
    "unquote",
    "write_csv",
    "write_xlsx",
]

COLUMNS = ("intent", "question", "answer", "language")
# A text starting with one of these is a formula to a spreadsheet program (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a .csv (comma or semicolon, UTF-8) or .xlsx file as dicts with lower-case keys."""
    table = _xlsx_table(path) if path.suffix.lower() == ".xlsx" else _csv_table(path)
    if not table:
        raise ImportFileError([at(path, N_("the file is empty"))])
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in ("intent", "question") if c not in header]
    if missing:
        some = N_("row 1: missing columns %(missing)s; the header must name %(columns)s")
        one = N_("row 1: missing column %(missing)s; the header must name %(columns)s")
        template = some if len(missing) > 1 else one
        problem = at(path, template, missing=", ".join(missing), columns=", ".join(COLUMNS))
        raise ImportFileError([problem])
    return [dict(zip(header, (c.strip() for c in row), strict=False)) for row in table[1:]]


def _csv_table(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = csv_rows(path, io.StringIO(text), delimiter=delimiter)
    return [[unquote(cell) for cell in row] for row in rows]


def _xlsx_table(path: Path) -> list[list[str]]:
    """The first sheet's rows, within our own bounds: the size a sheet claims is never used."""
    check_xlsx_zip(path)
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            header = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
            # Only as many columns as it takes to reach the last one we read.
            named = [n for n, v in enumerate(header) if str(v).strip().lower() in COLUMNS]
            width = max(named, default=len(header) - 1) + 1
            rows = sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=max(width, 1), values_only=True)
            table = [["" if v is None else str(v) for v in row] for row in rows]
        finally:
            book.close()
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise not_xlsx(path, exc) from exc
    if len(table) > MAX_ROWS:
        raise ImportFileError([at(path, N_("the sheet reaches past row %(row)s"), row=MAX_ROWS)])
    return table


def neutralise(text: str) -> str:
    """`text` as a CSV cell no spreadsheet program runs as a formula: "=1+1" becomes "'=1+1".

    Text that already starts with quotes before such a character gets one more,
    so `unquote` gives back exactly what was exported.
    """
    return "'" + text if text.lstrip("'").startswith(_FORMULA_STARTS) else text


def unquote(text: str) -> str:
    """The text `neutralise` was given: one leading quote off, only where it added one."""
    return text[1:] if text.startswith("'") and neutralise(text[1:]) != text[1:] else text


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
            problems.append(Message(N_("row %(row)s: no intent id"), row=number))
            continue
        if language not in ISO_639_1:
            unknown = N_("row %(row)s: unknown language '%(language)s'")
            problems.append(Message(unknown, row=number, language=language))
            continue
        key = (language, intent)
        entry = entries.setdefault(key, Entry(intent, language))
        if not question and not answer:
            empty = N_("row %(row)s: empty question for intent '%(intent)s'")
            problems.append(Message(empty, row=number, intent=intent))
            continue
        if question:
            entry.questions.append(question)
        if answer:
            if entry.answer and entry.answer != answer:
                differs = N_(
                    "row %(row)s: answer for '%(intent)s' (%(language)s) differs from the one "
                    "on row %(first)s; give the answer once per intent"
                )
                first = answer_row[key]
                problems.append(
                    Message(differs, row=number, intent=intent, language=language, first=first)
                )
            elif not entry.answer:
                entry.answer, answer_row[key] = answer, number
    for key, entry in entries.items():
        if not entry.answer and key not in known:
            no_answer = N_("intent '%(intent)s' (%(language)s): no row has its answer")
            problems.append(Message(no_answer, intent=entry.intent, language=entry.language))
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
    atomic_write(path, csv_text(export_rows(entries)))


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """`rows` as CSV text that no spreadsheet program runs: every cell through `neutralise`.

    None is an empty cell; other values are written as `str` gives them.
    """
    out = io.StringIO()
    cells = ([neutralise(_line_breaks("" if c is None else str(c))) for c in row] for row in rows)
    csv.writer(out, lineterminator="\n").writerows(cells)
    return out.getvalue()


def _line_breaks(text: str) -> str:
    # csv quotes a field holding "\n" but not one holding a lone "\r", which readers take as a row end.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def write_xlsx(entries: list[Entry], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "intents"
    for number, row in enumerate(export_rows(entries), start=1):
        for column, text in enumerate(row, start=1):
            cell = sheet.cell(number, column)
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters XML cannot hold
            cell.data_type = "s"  # text, never a formula, whatever it starts with
    out = io.BytesIO()
    book.save(out)
    atomic_write(path, out.getvalue())
