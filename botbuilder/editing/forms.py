"""What the editor passes around: forms in, drafts and problems out.

A form is what a manager filled in (one intent, or the bot's settings); a
draft is the bot's files as a change would leave them, in memory only; a
problem is the loader's message tied to the form field it belongs to.

    BadRequest
    └── InvalidEdit     422: the change has errors; `problems` says where, per field
    Conflict
    └── EditConflict    409: someone else changed the intent since it was opened
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from botbuilder.errors import BadRequest, Conflict

__all__ = [
    "ButtonForm",
    "Draft",
    "EditConflict",
    "FieldProblem",
    "IntentForm",
    "InvalidEdit",
    "SettingsForm",
    "UnheededAdvice",
]


@dataclass
class ButtonForm:
    label: str
    kind: str  # goto | url | handoff
    target: str = ""  # intent id for goto, the URL for url

    def key(self) -> tuple[str, str, str]:
        """What makes two buttons the same, whatever the spacing around them."""
        return (
            self.label.strip(),
            self.kind,
            "" if self.kind == "handoff" else self.target.strip(),
        )


@dataclass
class IntentForm:
    id: str
    questions: list[str] = field(default_factory=list)
    answer: str = ""
    buttons: list[ButtonForm] = field(default_factory=list)
    context_only: bool = False
    handoff: str | None = None  # None: no handoff; "": the default team; else a team

    def cleaned(self) -> IntentForm:
        """Without the empty rows a form always carries (the blank "add a question" field)."""
        return IntentForm(
            id=self.id.strip(),
            questions=[q.strip() for q in self.questions if q.strip()],
            answer=self.answer.replace("\r\n", "\n").strip(),
            buttons=[b for b in self.buttons if b.label.strip() or b.target.strip()],
            context_only=self.context_only,
            handoff=None if self.handoff is None else self.handoff.strip(),
        )

    def revision(self) -> str:
        """A token of this content; a save names the one it started from."""
        return digest(asdict(self))

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> IntentForm:
        """The form for an intent as YAML has it (a ruamel mapping, or any dict)."""
        handoff = node.get("handoff")
        return cls(
            id=str(node.get("id") or ""),
            questions=[str(q) for q in node.get("questions") or [] if q is not None],
            answer=str(node.get("answer") or "").strip(),
            buttons=[button_form(b) for b in node.get("buttons") or [] if isinstance(b, dict)],
            context_only=node.get("context_only") is True,
            handoff="" if handoff is True else (str(handoff) if handoff else None),
        )


def button_form(node: dict[str, Any]) -> ButtonForm:
    """A button as YAML has it (`{label, goto | url | handoff}`) as a form row."""
    kind = next((k for k in ("goto", "url", "handoff") if node.get(k) not in (None, False)), "goto")
    target = "" if kind == "handoff" else str(node.get(kind) or "")
    return ButtonForm(str(node.get("label") or ""), kind, target)


@dataclass
class SettingsForm:
    greeting: dict[str, str] = field(default_factory=dict)
    offline_message: dict[str, str] = field(default_factory=dict)
    welcome: dict[str, str] = field(default_factory=dict)
    answer_threshold: str = "auto"
    clarify_threshold: str = "auto"
    widget_title: str = ""
    widget_color: str = ""

    def revision(self) -> str:
        return digest(asdict(self))


def digest(content: Any) -> str:
    """A short, stable token of JSON-able content."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Draft:
    """A bot directory with some files changed in memory only."""

    changes: dict[str, str]  # relative path -> new text
    notes: dict[str, str]  # relative path -> what changed, for the history
    focus: tuple[str, int] | None = None  # (file, index of the edited intent)


@dataclass(frozen=True)
class FieldProblem:
    """A problem from the loader, and the form field it belongs to (None: elsewhere)."""

    field: str | None
    text: str  # file:line:col: message, as `botbuilder check` prints it
    message: str
    severity: str = "error"


class InvalidEdit(BadRequest):
    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("the change was not saved: " + "; ".join(p.text for p in errors))


class UnheededAdvice(InvalidEdit):
    """A change `check` would warn about (a thin intent, overlap, tone), not yet confirmed."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        BadRequest.__init__(
            self, "not saved yet: " + "; ".join(p.message for p in problems) + "; save anyway?"
        )


class EditConflict(Conflict):
    def __init__(self, message: str, current: IntentForm | SettingsForm | None) -> None:
        super().__init__(message)
        self.current = current
