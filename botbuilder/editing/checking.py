"""Checking a draft the way `botbuilder check` checks a bot, before anything is written.

The draft's files are laid over a scratch copy of the bot and loaded with the
normal loader. Each problem is tied to the form field it concerns, so the
editor shows it next to that field; an error that was already in the files
before the draft (a broken hand edit elsewhere) is "known" and does not block
the save. A problem's text is a `Message` (errors.py), so the editor shows the
loader's and `check`'s marked messages in the page's language.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.error import YAMLError

from botbuilder.content.advice import advise
from botbuilder.content.loader import SETTINGS_FILE, inspect_bot
from botbuilder.content.model import Bot
from botbuilder.editing.forms import Draft, FieldProblem
from botbuilder.editing.round_trip import load_round_trip
from botbuilder.editing.settings import settings_field
from botbuilder.errors import N_, FlowProblem, Message

__all__ = ["check_draft", "scratch_copy"]

# TRANSLATORS: where in which flow file (faq.yml:12:5), then what is wrong there.
_PLACED = N_("%(place)s: %(message)s")


@contextlib.contextmanager
def scratch_copy(root: Path, flow_files: list[str], draft: Draft) -> Iterator[Path]:
    """A temporary copy of the bot at `root` with the draft's changes, for the loader."""
    with tempfile.TemporaryDirectory(prefix="botbuilder-draft-") as tmp:
        copy = Path(tmp) / "bot"
        copy.mkdir()
        for rel in [SETTINGS_FILE, *flow_files, *draft.changes]:
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in draft.changes:
                target.write_text(draft.changes[rel], encoding="utf-8")
            elif (root / rel).exists():
                shutil.copyfile(root / rel, target)
        yield copy


def check_draft(
    root: Path,
    flow_files: list[str],
    draft: Draft,
    before: list[FlowProblem],
    advice: bool = False,
) -> tuple[Bot | None, list[FieldProblem]]:
    """Load the bot as the draft would leave it; `before`: the problems of the files as they are.

    With `advice`, `check`'s warnings (thin, alike or overlapping intents, tone) come too.
    """
    known = {(_relative(p, root), p.message) for p in before if p.severity == "error"}
    with scratch_copy(root, flow_files, draft) as copy:
        bot, after = inspect_bot(copy)
        if advice and bot is not None:
            after = [*after, *advise(bot)]
    problems = []
    for p in sorted(after, key=lambda p: (p.path, p.line, p.column)):
        rel = _relative(p, copy)
        field_name = _field_of(draft, rel, p)
        pre_existing = (rel, p.message) in known and field_name is None
        severity = "known" if (p.severity == "error" and pre_existing) else p.severity
        text = Message(_PLACED, place=f"{rel}:{p.line}:{p.column}", message=p.message)
        problems.append(FieldProblem(field_name, text, p.message, severity))
    return bot, problems


def _relative(problem: FlowProblem, root: Path) -> str:
    try:
        return Path(problem.path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return problem.path


def _field_of(draft: Draft, rel: str, problem: FlowProblem) -> str | None:
    """Which form field a problem in the draft's edited intent (or settings) concerns."""
    if draft.focus is None:
        if rel == SETTINGS_FILE and SETTINGS_FILE in draft.changes:
            return settings_field(draft.changes[SETTINGS_FILE], problem.line - 1)
        return None
    file, index = draft.focus
    if rel != file:
        return None
    try:
        intents = load_round_trip(draft.changes[file])[1]["intents"]
        node = intents[index]
    except (YAMLError, KeyError, IndexError, TypeError):
        return None
    line = problem.line - 1
    end = intents[index + 1].lc.line if index + 1 < len(intents) else 10**9
    if not node.lc.line <= line < end:
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
