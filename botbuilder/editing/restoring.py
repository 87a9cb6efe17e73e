"""Going back: a whole file from its history, or one intent of it.

A version of a flow file is read intent by intent, so the history page can
say in words what a save changed ("added 2 questions to 'contributie',
changed its answer") and a manager can bring back one intent without
undoing what colleagues changed elsewhere in the file. Both go through
`FlowEditor.save`, so a restore is checked like any save and is itself a
new version.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ruamel.yaml.error import YAMLError

from botbuilder.content.loader import SETTINGS_FILE
from botbuilder.editing.forms import Draft, IntentForm
from botbuilder.editing.history import VersionRecord
from botbuilder.editing.round_trip import load_round_trip
from botbuilder.editing.service import NEW_FILE, FlowEditor
from botbuilder.errors import BadRequest, NotFound

__all__ = ["IntentChange", "intent_changes", "intents_of", "restore_intent", "restore_version"]


@dataclass(frozen=True)
class IntentChange:
    """What one save did to one intent, in words a manager reads."""

    intent_id: str
    kind: str  # "added", "removed" or "changed"
    questions_added: tuple[str, ...] = ()
    questions_removed: tuple[str, ...] = ()
    answer_before: str = ""
    answer_after: str = ""
    other: tuple[str, ...] = ()  # "buttons", "handoff", "context_only" when those changed

    @property
    def answer_changed(self) -> bool:
        return self.answer_before != self.answer_after

    def answer_words(self) -> list[tuple[str, str]]:
        """The answer's change word by word: (kind, text) with kind same, add or remove."""
        before, after = self.answer_before.split(" "), self.answer_after.split(" ")
        out: list[tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                out.append(("same", " ".join(before[a1:a2])))
                continue
            if a2 > a1:
                out.append(("remove", " ".join(before[a1:a2])))
            if b2 > b1:
                out.append(("add", " ".join(after[b1:b2])))
        return out


def intents_of(content: str) -> dict[str, IntentForm]:
    """The intents in a flow file's text by id; empty when it is not a flow file."""
    try:
        data = load_round_trip(content)[1]
    except YAMLError:
        return {}
    nodes = data.get("intents") if isinstance(data, dict) else None
    if not isinstance(nodes, list):
        return {}
    forms = (IntentForm.from_node(n) for n in nodes if isinstance(n, dict) and n.get("id"))
    return {form.id: form for form in forms}


def intent_changes(before: str, after: str) -> list[IntentChange]:
    """Intent by intent, what changed from `before` to `after` (file order of `after`)."""
    old, new = intents_of(before), intents_of(after)
    changes = []
    for intent_id in [*new, *(i for i in old if i not in new)]:
        a, b = old.get(intent_id), new.get(intent_id)
        if a == b:
            continue
        if a is None or b is None:
            form = b or a
            assert form is not None
            kind = "added" if a is None else "removed"
            answer = form.answer
            changes.append(
                IntentChange(
                    intent_id,
                    kind,
                    tuple(form.questions) if kind == "added" else (),
                    tuple(form.questions) if kind == "removed" else (),
                    answer if kind == "removed" else "",
                    answer if kind == "added" else "",
                )
            )
            continue
        changes.append(_changed(intent_id, a, b))
    return changes


def _changed(intent_id: str, a: IntentForm, b: IntentForm) -> IntentChange:
    other = tuple(
        name
        for name, x, y in (
            ("buttons", a.buttons, b.buttons),
            ("handoff", a.handoff, b.handoff),
            ("context_only", a.context_only, b.context_only),
        )
        if x != y
    )
    return IntentChange(
        intent_id,
        "changed",
        tuple(q for q in b.questions if q not in a.questions),
        tuple(q for q in a.questions if q not in b.questions),
        a.answer,
        b.answer,
        other,
    )


def restore_version(editor: FlowEditor, version_id: int, author: str) -> VersionRecord:
    """Write an old version of a whole file back (after the same checks as any save)."""
    version = editor.history.version(version_id)
    known = version.path == SETTINGS_FILE or version.path in editor.flow_files()
    if not known and not NEW_FILE.fullmatch(version.path):
        raise BadRequest(f"version {version_id} is not of a flow file")
    when = version.created_at.strftime("%Y-%m-%d %H:%M")
    draft = Draft(
        {version.path: version.content},
        {version.path: f"restored version {version.id} ({when})"},
    )
    return editor.save(draft, author)[0]


def restore_intent(
    editor: FlowEditor, version_id: int, intent_id: str, author: str
) -> VersionRecord:
    """Bring back one intent as this version had it; the rest of the file stays as it is."""
    version = editor.history.version(version_id)
    form = intents_of(version.content).get(intent_id)
    if form is None:
        raise NotFound(f"version {version_id} has no intent '{intent_id}'")
    exists = version.path in editor.flow_files() and intent_id in intents_of(
        editor.read(version.path)
    )
    draft = editor.draft_intent(
        version.path,
        intent_id if exists else None,
        form,
        editor.intent(version.path, intent_id)[0].revision() if exists else None,
    )
    when = version.created_at.strftime("%Y-%m-%d %H:%M")
    draft.notes[version.path] = f"restored intent '{intent_id}' from version {version.id} ({when})"
    return editor.save(draft, author)[0]
