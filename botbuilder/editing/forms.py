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

from botbuilder.errors import N_, BadRequest, Conflict

__all__ = [
    "INTENT_GONE",
    "INTENT_GONE_WHILE_EDITING",
    "INTENT_SAVED_BEFORE_DELETE",
    "INTENT_SAVED_BY_SOMEONE_ELSE",
    "SETTINGS_SAVED_BY_SOMEONE_ELSE",
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


# Why a save was refused because someone else saved first (EditConflict), marked
# for the catalogues: the editor shows them in the page's language.
INTENT_GONE = N_("intent '%(intent)s' is no longer in %(file)s")
INTENT_GONE_WHILE_EDITING = N_(
    "intent '%(intent)s' is no longer in %(file)s: someone renamed or deleted it while you "
    "were editing. Your text is still in the form; copy it, and open the intent list again."
)
INTENT_SAVED_BY_SOMEONE_ELSE = N_(
    "someone else saved intent '%(intent)s' while you were editing it. Their version is shown "
    "below; your changes are still in the form. Save again to replace their version with yours."
)
INTENT_SAVED_BEFORE_DELETE = N_(
    "someone else saved intent '%(intent)s' since you opened it; look at their version before "
    "deleting it"
)
SETTINGS_SAVED_BY_SOMEONE_ELSE = N_(
    "someone else saved the settings while you were editing them. Their values are shown "
    "below; yours are still in the form. Save again to use yours."
)


class EditConflict(Conflict):
    def __init__(
        self, message: str, current: IntentForm | SettingsForm | None, **params: object
    ) -> None:
        super().__init__(message, **params)
        self.current = current
