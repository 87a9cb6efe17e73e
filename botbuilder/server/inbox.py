"""The gap inbox, `/editor/inbox`: what the bot missed, grouped, and one click to teach it.

For managers and admins. Each suggestion of the app's `GapFinder` shows its
kind (a new intent, or phrasings for an existing one), the proposed id and
title, its language, how many members it affects and their questions; the
questions no other question resembles yet are listed below. "Accept" marks the
suggestion accepted and opens the editor with the questions filled in (as the
address's `phrasing` values, read by `inbox_phrasings`): nothing is saved until
the manager writes the answer and saves, after which the questions leave the
inbox because the running bot has them. "Ignore" puts the suggestion away.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext

from botbuilder.conversations.dialogue import MAX_MESSAGE_CHARS
from botbuilder.errors import N_, BadRequest, NotFound, RequestError
from botbuilder.insights.figures import bot_timezone
from botbuilder.insights.gaps import Suggestion
from botbuilder.insights.inbox_store import STATES
from botbuilder.server.auth import STAFF_BLUEPRINTS, login_required
from botbuilder.server.common import current_author, error_response, services, wants_json
from botbuilder.server.editor_shared import EDITORS, flow_editor, running_bot_problem
from botbuilder.server.i18n import localized

__all__ = ["blueprint", "inbox_phrasings", "intent_file"]

blueprint = Blueprint("inbox", __name__, url_prefix="/editor/inbox")
STAFF_BLUEPRINTS.add("inbox")
REASONS = {
    "low_confidence": lazy_gettext("handed off: the bot was unsure"),
    "clarify": lazy_gettext("asked “did you mean…?”, no pick"),
    "not_helpful": lazy_gettext("answered, marked 👎"),
    "person": lazy_gettext("answered, then asked for a person"),
    "manual": lazy_gettext("put here from a conversation"),
}
# The same words as the conversations browser's filters (insights/browse.py).
NOT_A_CHOICE = N_("'%(name)s' must be one of %(choices)s; not %(value)r")
MAX_PHRASINGS = 50  # handed to the editor in the address; a larger group is cut, most typical kept


@blueprint.errorhandler(RequestError)
def _refused(exc: RequestError) -> ResponseReturnValue:
    if wants_json():
        return error_response(exc.message, exc.status)
    title = gettext("Not found") if exc.status == 404 else gettext("Not possible")
    return render_template("auth/refused.html", message=localized(exc), title=title), exc.status


@blueprint.context_processor
def _common() -> dict[str, Any]:
    return {"flows_problem": running_bot_problem()}


@blueprint.get("")
@login_required(EDITORS)
def home() -> ResponseReturnValue:
    state = request.args.get("state") or "new"
    language = request.args.get("language") or None
    bot = services().runtime.current().bot
    if language is not None and language not in bot.languages:
        choices = ", ".join(bot.languages)
        raise BadRequest(NOT_A_CHOICE, name="language", choices=choices, value=language)
    if state not in STATES:
        raise BadRequest(NOT_A_CHOICE, name="state", choices=", ".join(STATES), value=state)
    gaps = services().gaps
    suggestions = gaps.suggestions(language=language, state=state)
    loose = gaps.loose_questions(language=language) if state == "new" else []
    return render_template(
        "editor/inbox.html",
        suggestions=suggestions,
        loose=loose,
        unread=gaps.unread(language=language) if state == "new" else 0,
        state=state,
        states=STATES,
        language=language,
        languages=bot.languages,
        zone=ZoneInfo(bot_timezone(bot)),
        reasons=REASONS,
    )


@blueprint.post("/<suggestion_id>/accept")
@login_required(EDITORS)
def accept(suggestion_id: str) -> ResponseReturnValue:
    suggestion = services().gaps.accept(suggestion_id, current_author())
    return redirect(editor_address(suggestion))


@blueprint.post("/<suggestion_id>/ignore")
@login_required(EDITORS)
def ignore(suggestion_id: str) -> ResponseReturnValue:
    gaps = services().gaps
    suggestion = gaps.get(suggestion_id)
    gaps.ignore(suggestion_id, current_author())
    flash(
        gettext(
            "Ignored “%(title)s” (%(count)s questions).",
            title=suggestion.title,
            count=suggestion.count,
        ),
        "saved",
    )
    return redirect(url_for("inbox.home"))


def editor_address(suggestion: Suggestion) -> str:
    """The editor's form for the suggestion, with its questions filled in but not saved."""
    phrasings = list(suggestion.questions[:MAX_PHRASINGS])
    file = intent_file(suggestion.intent, suggestion.language) if suggestion.intent else None
    if suggestion.kind == "add_phrasings" and file is not None:
        return url_for(
            "editor.edit_intent",
            file=file,
            id=suggestion.intent,
            phrasing=phrasings,
            title=suggestion.title,
        )
    return url_for(
        "editor.new_intent",
        lang=suggestion.language,
        id=suggestion.intent or "",
        phrasing=phrasings,
        title=suggestion.title,
    )


def intent_file(intent_id: str, language: str) -> str | None:
    """The flow file that holds `intent_id` in `language`, or None."""
    editor = flow_editor()
    for rel, file_language in editor.overview().files.items():
        if file_language != language:
            continue
        try:
            editor.intent(rel, intent_id)
        except NotFound:
            continue
        return rel
    return None


def inbox_phrasings(known: list[str]) -> list[str]:
    """The questions an accepted suggestion hands the editor (`phrasing` in the address),
    without those the form has already; for the form only, never saved from here."""
    seen = {q.strip().casefold() for q in known}
    extra = []
    for raw in request.args.getlist("phrasing")[:MAX_PHRASINGS]:
        question = raw.strip()[:MAX_MESSAGE_CHARS]
        if question and question.casefold() not in seen:
            seen.add(question.casefold())
            extra.append(question)
    return extra
