"""What the editor's pages share: who may edit, the flow editor, and the reload after a save.

Used by the intent pages (`editor`), the settings and history pages
(`editor_history`) and import/export (`transfer`).
"""

from __future__ import annotations

from botbuilder.editing.forms import FieldProblem
from botbuilder.editing.service import FlowEditor
from botbuilder.errors import FlowError
from botbuilder.server.common import services
from botbuilder.server.i18n import localized

__all__ = ["EDITORS", "by_field", "flow_editor", "reload_now", "running_bot_problem"]

EDITORS = ("manager", "admin")


def flow_editor() -> FlowEditor:
    """The app's flow editor: the one writer of the bot's files."""
    return services().editor


def running_bot_problem() -> str | None:
    """The last load error of the running bot: a broken hand edit, for example."""
    runtime = services().runtime
    runtime.current()
    error = runtime.last_error
    if isinstance(error, FlowError):  # each problem in the page's language, where it is
        return "\n".join(
            f"{p.path}:{p.line}:{p.column}: {localized(p.message)}" for p in error.problems
        )
    return str(error) if error else None


def reload_now() -> None:
    """Let this process answer with the saved files at once (others follow within a second)."""
    try:
        services().runtime.reload()
    except FlowError:
        pass  # shown on the next page as the running bot's problem


def by_field(problems: list[FieldProblem]) -> dict[str | None, list[FieldProblem]]:
    """Problems grouped by the form field they belong to (None: the whole form)."""
    grouped: dict[str | None, list[FieldProblem]] = {}
    for p in problems:
        grouped.setdefault(p.field, []).append(p)
    return grouped
