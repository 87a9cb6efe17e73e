"""Edits on ruamel.yaml's round-trip tree that change only what the form changed.

The flow files stay pleasant to edit by hand: a file is read with the
indentation that writes it back unchanged, and a form is written into its
node key by key and list item by list item, so comments, key order, quoting
and indentation elsewhere in the file survive, and only the edited lines
change.
"""

from __future__ import annotations

import difflib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from botbuilder.content.files import dump_yaml, round_trip_yaml
from botbuilder.editing.forms import ButtonForm, IntentForm, button_form

__all__ = [
    "apply_intent",
    "load_round_trip",
    "new_intent",
    "rename_intent",
    "scalar_like",
    "set_key",
]

INTENT_ORDER = ("id", "questions", "answer", "buttons", "context_only", "handoff")
# Indentations seen in hand-written YAML: (mapping, sequence, offset), the project's own first.
_INDENTS = [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 3, 1)]
# Texts parsed lately, as pickled trees by text: the files of the intents a manager is editing.
_PARSED_KEPT = 8
_parsed: OrderedDict[str, tuple[tuple[int, int, int], bytes]] = OrderedDict()
_parsed_lock = threading.Lock()


def load_round_trip(text: str) -> tuple[YAML, Any]:
    """Parse a file with the indentation settings that write it back unchanged.

    The tree is the caller's to change: a text parsed before is copied from memory
    (a copy costs ~5 ms where parsing a 150-intent file costs ~0.5 s, and the
    editor reads a file for its page and again for the save that follows).
    Raises ruamel's YAMLError on a syntax error.
    """
    with _parsed_lock:
        kept = _parsed.get(text)
        if kept is not None:
            _parsed.move_to_end(text)
    if kept is not None:
        indents, tree = kept
        return round_trip_yaml(*indents), pickle.loads(tree)
    data = round_trip_yaml().load(text)  # indentation matters only for writing
    indents = _indentation(data, text)
    with _parsed_lock:
        _parsed[text] = (indents, pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
        while len(_parsed) > _PARSED_KEPT:
            _parsed.popitem(last=False)
    return round_trip_yaml(*indents), data


def _indentation(data: Any, text: str) -> tuple[int, int, int]:
    """The first of `_INDENTS` that writes `data` back as `text`; the project's own if none does
    (the file was wrapped or indented by hand some other way: a save rewrites it in that)."""
    if data is not None:
        for indents in _INDENTS:
            if dump_yaml(data, round_trip_yaml(*indents)) == text:
                return indents
    return _INDENTS[0]


def scalar_like(old: Any, text: str) -> Any:
    """The new text in a style like the old one: block style for answers with lines."""
    if isinstance(old, LiteralScalarString) or "\n" in text:
        return LiteralScalarString(text.rstrip("\n") + "\n")
    return text


def update_list(
    seq: CommentedSeq, new: list[Any], same: Callable[[Any], Any] | None = None
) -> None:
    """Make `seq` equal `new` with the fewest insertions and deletions (comments on kept items stay)."""
    old_keys = [same(x) if same else x for x in seq]
    new_keys = [same(x) if same else x for x in new]
    ops = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                seq[i1 + k] = new[j1 + k]
            continue
        for i in reversed(range(i1, i2)):
            del seq[i]
        for k, item in enumerate(new[j1:j2]):
            seq.insert(i1 + k, item)


def set_key(
    node: CommentedMap, key: str, value: Any, order: tuple[str, ...] = INTENT_ORDER
) -> None:
    """Set `key`; a new key goes before the first key that `order` puts after it."""
    if key in node:
        node[key] = value
        return
    later = order[order.index(key) + 1 :]
    position = next((i for i, k in enumerate(node) if k in later), len(node))
    node.insert(position, key, value)


def _button_node(button: ButtonForm) -> CommentedMap:
    node = CommentedMap()
    node["label"] = button.label
    node[button.kind] = True if button.kind == "handoff" else button.target.strip()
    return node


def _button_key(b: Any) -> tuple[str, str, str]:
    if isinstance(b, ButtonForm):
        return b.key()
    return button_form(b).key() if isinstance(b, dict) else ("", "", "")


def apply_intent(node: CommentedMap, form: IntentForm) -> None:
    """Write `form` into an intent's YAML node, touching only what differs."""
    before = IntentForm.from_node(node)
    if before.id != form.id:
        set_key(node, "id", form.id)
    if before.questions != form.questions:
        _apply_questions(node, form.questions)
    if before.answer != form.answer.strip():
        set_key(node, "answer", scalar_like(node.get("answer"), form.answer.strip()))
    if [_button_key(b) for b in before.buttons] != [_button_key(b) for b in form.buttons]:
        _apply_buttons(node, form.buttons)
    if before.context_only != form.context_only:
        if form.context_only:
            set_key(node, "context_only", True)
        else:
            node.pop("context_only", None)
    if before.handoff != form.handoff:
        if form.handoff is None:
            node.pop("handoff", None)
        else:
            set_key(node, "handoff", form.handoff or True)


def _apply_questions(node: CommentedMap, questions: list[str]) -> None:
    if isinstance(node.get("questions"), CommentedSeq):
        update_list(node["questions"], list(questions))
    elif questions:
        set_key(node, "questions", CommentedSeq(questions))
    if not questions and "questions" in node:
        del node["questions"]


def _apply_buttons(node: CommentedMap, buttons: list[ButtonForm]) -> None:
    if buttons and isinstance(node.get("buttons"), CommentedSeq):
        update_list(node["buttons"], [_button_node(b) for b in buttons], _button_key)
    elif buttons:
        set_key(node, "buttons", CommentedSeq(_button_node(b) for b in buttons))
    else:
        node.pop("buttons", None)


def new_intent(form: IntentForm) -> CommentedMap:
    """A new intent's YAML node, keys in the usual order."""
    node = CommentedMap()
    node["id"] = form.id
    apply_intent(node, form)
    return node


def rename_intent(text: str, old: str, new: str, ids: bool = True) -> str | None:
    """A flow file with intent `old` renamed (its id if `ids`, and every goto button to it).

    None if the file has nothing to rename, or cannot be read.
    """
    try:
        yaml, data = load_round_trip(text)
    except YAMLError:
        return None
    intents = data.get("intents") if isinstance(data, CommentedMap) else None
    if not isinstance(intents, CommentedSeq):
        return None
    touched = False
    for node in intents:
        if not isinstance(node, CommentedMap):
            continue
        if ids and str(node.get("id")) == old:
            node["id"] = new
            touched = True
        for b in node.get("buttons") or []:
            if isinstance(b, CommentedMap) and b.get("goto") == old:
                b["goto"] = new
                touched = True
    return dump_yaml(data, yaml) if touched else None
