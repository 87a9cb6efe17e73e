"""QnA Maker's TSV export (Question, Answer, Source, Metadata, …) as intents.

Rows with the same QnaId (or, without that column, the same answer) are one
intent: the first question names it, the others are its alternate phrasings.
Lost in translation: Source, Metadata, SuggestedQuestions and Prompts are
not kept; follow-up prompts would need to become buttons by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from botbuilder.errors import ImportFileError
from botbuilder.interchange.entries import Entry, slug
from botbuilder.interchange.limits import csv_rows

__all__ = ["import_qna"]


def import_qna(path: Path, language: str, taken: set[str] | None = None) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError([f"{path}: cannot read as UTF-8 text ({exc})"]) from exc
    rows = csv_rows(path, io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if not rows:
        raise ImportFileError([f"{path}: the file is empty"])
    header = [h.strip().lower() for h in rows[0]]
    if "question" not in header or "answer" not in header:
        raise ImportFileError(
            [f"{path}: row 1: expected a header with Question and Answer columns"]
        )
    q, a = header.index("question"), header.index("answer")
    qid = header.index("qnaid") if "qnaid" in header else None
    groups: dict[str, Entry] = {}
    problems = []
    ids = set(taken or ())
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(q, a):
            problems.append(f"row {number}: fewer columns than the header")
            continue
        question = row[q].strip()
        # QnA Maker escapes line breaks in answers as "\n".
        answer = row[a].strip().replace("\\n", "\n")
        if not question or not answer:
            problems.append(f"row {number}: empty {'question' if not question else 'answer'}")
            continue
        key = (
            row[qid].strip() if qid is not None and len(row) > qid and row[qid].strip() else answer
        )
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = Entry(slug(question, ids), language, [], answer)
        elif entry.answer != answer:
            problems.append(f"row {number}: QnaId {key} has two different answers")
            continue
        entry.questions.append(question)
    if problems:
        raise ImportFileError(problems)
    return list(groups.values())
