"""The conversations browser, `/conversations`: the list, one transcript, and teaching from it.

Managers, admins and agents read conversations; managers and admins also teach
the bot from a transcript: a member question "belongs to intent Y" becomes a
phrasing of Y through the editor's one writer (`FlowEditor.save`, with history
and the same checks as a form), and "no intent yet" puts it in the gap inbox.
The queries live in `botbuilder.insights.browse` and `.transcript`; this
blueprint parses, calls them and renders, in the layout of the reader's role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.conversations.states import STATES
from botbuilder.conversations.store import ConversationRecord
from botbuilder.editing.forms import EditConflict, FieldProblem, InvalidEdit
from botbuilder.errors import N_, BadRequest, NotFound, RequestError
from botbuilder.insights.browse import DECISIONS, FEEDBACK, browse, filters_from
from botbuilder.insights.figures import bot_timezone
from botbuilder.insights.transcript import transcript
from botbuilder.server.auth import STAFF_BLUEPRINTS, login_required
from botbuilder.server.common import (
    current_author,
    current_user,
    error_response,
    services,
    team_names,
    wants_json,
)
from botbuilder.server.editor_shared import EDITORS, flow_editor, reload_now, running_bot_problem
from botbuilder.server.i18n import localized
from botbuilder.server.inbox import intent_file

__all__ = ["add_phrasings", "blueprint"]

blueprint = Blueprint("browse", __name__, url_prefix="/conversations")
READERS = ("agent", "manager", "admin")
STAFF_BLUEPRINTS.add("browse")
# The admin's deletion of a member's data (its confirmation page), where the app has it.
DELETE_ENDPOINT = "console.confirm_delete"
INBOX_ENDPOINT = "browse.no_intent_yet"


@blueprint.errorhandler(RequestError)
def _refused(exc: RequestError) -> ResponseReturnValue:
    if wants_json():
        return error_response(localized(exc), exc.status)
    title = gettext("Not found") if exc.status == 404 else gettext("Not possible")
    page = render_template("auth/refused.html", message=localized(exc), title=title)
    return page, exc.status


@blueprint.context_processor
def _layout() -> dict[str, Any]:
    user = current_user()
    agent = user is not None and user.role == "agent"
    zone = ZoneInfo(bot_timezone(services().runtime.current().bot))

    def local(when: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return when.astimezone(zone).strftime(fmt) if when else ""

    return {
        "layout": "console/base.html" if agent else "editor/base.html",
        "local": local,
        "timezone": zone.key,
        "may_teach": user is not None and user.role in EDITORS,
        "flows_problem": None if agent else running_bot_problem(),
    }


@blueprint.get("")
@login_required(READERS)
def conversations() -> ResponseReturnValue:
    bot = services().runtime.current().bot
    filters = filters_from(request.args, bot_timezone(bot))
    cursor = request.args.get("older") or None
    if cursor is not None and len(cursor) > 64:
        raise BadRequest(N_("'older' is not a cursor of this list; open the first page again"))
    page = browse(services().storage, filters, cursor)
    older = None
    if page.older:
        args: dict[str, Any] = {**filters.query_args(), "older": page.older}
        older = url_for("browse.conversations", **args)
    return render_template(
        "browse/list.html",
        page=page,
        filters=filters,
        older=older,
        first_page=cursor is not None,
        languages=bot.languages,
        intents=bot.intent_ids(),
        teams=team_names(bot),
        states=STATES,
        decisions=DECISIONS,
        feedback_choices=FEEDBACK,
    )


@blueprint.get("/<conversation_id>")
@login_required(READERS)
def conversation(conversation_id: str) -> ResponseReturnValue:
    try:
        found = transcript(services().storage, conversation_id)
    except NotFound:
        gone = N_("no conversation '%(conversation)s'; it may have been deleted")
        raise NotFound(gone, conversation=conversation_id[:64]) from None
    bot = services().runtime.current().bot
    language = found.conversation.language
    choices = sorted(i.id for i in bot.matchable() if i.language == language)
    user = current_user()
    can_delete = (
        user is not None and user.role == "admin" and DELETE_ENDPOINT in current_app.view_functions
    )
    return render_template(
        "browse/transcript.html",
        transcript=found,
        conversation=found.conversation,
        intent_choices=choices,
        delete_endpoint=DELETE_ENDPOINT if can_delete else None,
        inbox_endpoint=INBOX_ENDPOINT if INBOX_ENDPOINT in current_app.view_functions else None,
    )


@blueprint.post("/<conversation_id>/messages/<int:message_id>/intent")
@login_required(EDITORS)
def belongs_to_intent(conversation_id: str, message_id: int) -> ResponseReturnValue:
    """ "This question belongs to intent Y": the member's text becomes a phrasing of Y."""
    storage = services().storage
    conversation = _still_there(conversation_id)
    question = storage.message(conversation_id, message_id)
    if question.role != "member":
        raise BadRequest(N_("only a member's question can become a phrasing of an intent"))
    intent_id = (request.form.get("intent") or "").strip()
    if not intent_id:
        raise BadRequest(N_("choose the intent this question belongs to"))
    try:
        added = add_phrasings(intent_id, conversation.language, [question.text], current_author())
    except (InvalidEdit, EditConflict) as exc:
        errors = [p for p in getattr(exc, "problems", []) if p.severity == "error"]
        detail = "; ".join(_problem_text(p) for p in errors) or localized(exc)
        flash(
            gettext("Not added to '%(intent)s': %(detail)s", intent=intent_id, detail=detail),
            "error",
        )
    else:
        if added:
            flash(
                gettext(
                    "Added the question to '%(intent)s'. The bot answers it from now on.",
                    intent=intent_id,
                ),
                "saved",
            )
        else:
            flash(gettext("'%(intent)s' already has this question.", intent=intent_id), "saved")
    anchor = f"m{message_id}"
    return redirect(url_for("browse.conversation", conversation_id=conversation_id) + "#" + anchor)


@blueprint.post("/<conversation_id>/messages/<int:message_id>/inbox")
@login_required(EDITORS)
def no_intent_yet(conversation_id: str, message_id: int) -> ResponseReturnValue:
    """ "No intent yet": the member's question goes to the gap inbox."""
    _still_there(conversation_id)
    question = services().storage.message(conversation_id, message_id)
    if question.role != "member":
        raise BadRequest(N_("only a member's question can go to the inbox"))
    services().gaps.add_to_inbox(message_id, current_author())
    flash(
        gettext(
            "In the inbox: it joins a suggestion once three alike questions are there, "
            "and is listed under loose questions until then."
        ),
        "saved",
    )
    anchor = f"m{message_id}"
    return redirect(url_for("browse.conversation", conversation_id=conversation_id) + "#" + anchor)


def _still_there(conversation_id: str) -> ConversationRecord:
    """The conversation a teach form names; NotFound saying it may have been deleted since."""
    try:
        return services().storage.conversation(conversation_id)
    except NotFound:  # the store's own message advises the API, wrong for a page
        gone = N_("no conversation '%(conversation)s'; it may have been deleted")
        raise NotFound(gone, conversation=conversation_id[:64]) from None


def _problem_text(problem: FieldProblem) -> str:
    """Why the editor refused, in the page's language; the fix too when the text lacks it."""
    text = localized(problem.text)
    if problem.message and not problem.text.endswith(problem.message):
        text = f"{text} {localized(problem.message)}"
    return text


def add_phrasings(intent_id: str, language: str, questions: list[str], author: str) -> int:
    """Append `questions` to the intent in `language` and save through the editor's one
    writer; how many were new. NotFound if the intent has no file in that language."""
    rel = intent_file(intent_id, language)
    if rel is None:
        raise NotFound(
            N_("no intent '%(intent)s' in %(language)s; choose one from the list"),
            intent=intent_id,
            language=language.upper(),
        )
    editor = flow_editor()
    form, _ = editor.intent(rel, intent_id)
    known = {q.casefold() for q in form.questions}
    new = [q for q in dict.fromkeys(questions) if q.strip() and q.casefold() not in known]
    if not new:
        return 0
    revision = form.revision()
    form.questions.extend(new)
    editor.save(editor.draft_intent(rel, intent_id, form, revision), author)
    reload_now()
    return len(new)
