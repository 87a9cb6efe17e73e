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

from botbuilder.errors import N_, ImportFileError, Message
from botbuilder.interchange.entries import Entry, slug
from botbuilder.interchange.limits import csv_rows
from botbuilder.interchange.problems import at, unreadable

__all__ = ["import_qna"]


def import_qna(path: Path, language: str, taken: set[str] | None = None) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc
    rows = csv_rows(path, io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    if not rows:
        raise ImportFileError([at(path, N_("the file is empty"))])
    header = [h.strip().lower() for h in rows[0]]
    if "question" not in header or "answer" not in header:
        header_needed = N_("row 1: expected a header with Question and Answer columns")
        raise ImportFileError([at(path, header_needed)])
    q, a = header.index("question"), header.index("answer")
    qid = header.index("qnaid") if "qnaid" in header else None
    groups: dict[str, Entry] = {}
    problems: list[str] = []
    ids = set(taken or ())
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(q, a):
            problems.append(Message(N_("row %(row)s: fewer columns than the header"), row=number))
            continue
        question = row[q].strip()
        # QnA Maker escapes line breaks in answers as "\n".
        answer = row[a].strip().replace("\\n", "\n")
        if not question or not answer:
            empty = (
                N_("row %(row)s: empty question")
                if not question
                else N_("row %(row)s: empty answer")
            )
            problems.append(Message(empty, row=number))
            continue
        key = (
            row[qid].strip() if qid is not None and len(row) > qid and row[qid].strip() else answer
        )
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = Entry(slug(question, ids), language, [], answer)
        elif entry.answer != answer:
            two = N_("row %(row)s: QnaId %(id)s has two different answers")
            problems.append(Message(two, row=number, id=key))
            continue
        entry.questions.append(question)
    if problems:
        raise ImportFileError(problems)
    return list(groups.values())
