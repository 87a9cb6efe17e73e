"""The no-code editor for managers, `/editor`: intents, "try it", and the editor's blueprint.

Views are thin: they turn forms into `botbuilder.editing.service` calls and render
the result. The settings and history pages live in `editor_history` and are
routed on this blueprint below. Every page needs role manager or admin; every
POST is CSRF-checked by `login_required`. After a save the running bot in this
process reloads at once; other processes pick the files up within their
reload interval.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.content.loader import SETTINGS_FILE
from botbuilder.content.rendering import render_markdown
from botbuilder.conversations.turns import Outcome, reply
from botbuilder.editing.forms import (
    ButtonForm,
    EditConflict,
    FieldProblem,
    IntentForm,
    InvalidEdit,
    UnheededAdvice,
)
from botbuilder.editing.topics import topic_files
from botbuilder.errors import BadRequest, NotFound

# The runtime's matcher cache: a draft tried here and then saved is indexed only once.
from botbuilder.matching.runtime import shared_matcher
from botbuilder.matching.understanding import understand
from botbuilder.server import editor_history
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_author, error_response, services, wants_json
from botbuilder.server.editor_shared import (
    EDITORS,
    by_field,
    flow_editor,
    reload_now,
    running_bot_problem,
)
from botbuilder.server.i18n import localized
from botbuilder.server.inbox import inbox_phrasings

__all__ = ["blueprint"]

log = logging.getLogger(__name__)
blueprint = Blueprint("editor", __name__, url_prefix="/editor")
MAX_PREVIEW_CHARS = 20_000
TOPIC_FILE_NEEDED = (
    "choose the topic file this intent belongs in (e.g. nl/lidmaatschap.yml), "
    "or type a new file name"
)

blueprint.add_url_rule("/settings", view_func=editor_history.settings, methods=["GET", "POST"])
blueprint.add_url_rule("/history", view_func=editor_history.history)
blueprint.add_url_rule("/history/<int:version_id>", view_func=editor_history.version)
blueprint.add_url_rule(
    "/history/<int:version_id>/restore", view_func=editor_history.restore, methods=["POST"]
)
blueprint.add_url_rule(
    "/history/<int:version_id>/restore-intent",
    view_func=editor_history.restore_one_intent,
    methods=["POST"],
)


@blueprint.context_processor
def _common() -> dict[str, Any]:
    return {"flows_problem": running_bot_problem()}


# -- forms ---------------------------------------------------------------------------------


def _intent_form() -> IntentForm:
    f = request.form
    labels, kinds = f.getlist("button_label"), f.getlist("button_kind")
    gotos, urls = f.getlist("button_goto"), f.getlist("button_url")
    buttons = []
    for i, label in enumerate(labels):
        kind = kinds[i] if i < len(kinds) else "goto"
        if kind not in ("goto", "url", "handoff"):
            kind = "goto"
        target = {"goto": gotos, "url": urls}.get(kind, [])
        buttons.append(ButtonForm(label, kind, target[i] if i < len(target) else ""))
    mode = f.get("handoff_mode", "none")
    handoff = None if mode == "none" else ("" if mode == "default" else f.get("handoff_team", ""))
    return IntentForm(
        id=f.get("id", ""),
        questions=f.getlist("questions"),
        answer=f.get("answer", ""),
        buttons=buttons,
        context_only=f.get("context_only") == "on",
        handoff=handoff,
    ).cleaned()


def _render_intent(
    file: str,
    original_id: str | None,
    form: IntentForm,
    revision: str,
    *,
    problems: list[FieldProblem] | None = None,
    conflict: EditConflict | None = None,
    advice: list[FieldProblem] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    editor = flow_editor()
    language = editor.overview().files.get(file) or editor.languages()[0]
    reference = None
    source = request.values.get("from", "")
    if original_id is None and ":" in source:
        # A translation: show the intent in the language it is translated from.
        source_file, source_id = source.split(":", 1)
        try:
            reference = (source_file, editor.intent(source_file, source_id)[0])
        except (NotFound, InvalidEdit):
            reference = None
    page = render_template(
        "editor/intent.html",
        file=file,
        language=language,
        original_id=original_id,
        form=form,
        revision=revision,
        problems=by_field(problems or []),
        conflict=conflict,
        advice=advice or [],
        intent_ids=[i for i in editor.intent_ids() if i != original_id],
        teams=editor.teams(),
        reference=reference,
        files=editor.flow_files(),
        source=source,
    )
    return page, status


# -- intents ---------------------------------------------------------------------------


@blueprint.get("/")
@login_required(EDITORS)
def intents() -> ResponseReturnValue:
    query = request.args.get("q", "")[:200]
    overview = flow_editor().overview(query)
    return render_template("editor/intents.html", overview=overview, query=query)


@blueprint.get("/intent")
@login_required(EDITORS)
def edit_intent() -> ResponseReturnValue:
    file, intent_id = request.args.get("file", ""), request.args.get("id", "")
    form, _ = flow_editor().intent(file, intent_id)
    revision = form.revision()  # of the saved intent: the inbox's questions are not saved yet
    form.questions.extend(inbox_phrasings(form.questions))
    return _render_intent(file, intent_id, form, revision)


@blueprint.get("/intent/new")
@login_required(EDITORS)
def new_intent() -> ResponseReturnValue:
    editor = flow_editor()
    language = request.args.get("lang")
    language = language or editor.languages()[0]
    form = IntentForm(id=request.args.get("id", ""), questions=inbox_phrasings([]))
    # The file the manager came from: a group's "New intent here", a translation's
    # file, or the topic file the inbox's questions read most like; else they choose.
    file = request.args.get("file") or ""
    near = (request.args.get("from") or "").split(":", 1)[0] or None
    if not file and near:
        file = editor.file_for(language, near)
    elif not file and form.questions:
        bot = services().runtime.current().bot
        text = " ".join(form.questions)
        file = topic_files(bot, editor.root, [(language, form.id, text)])[(language, form.id)]
    return _render_intent(file, None, form, "")


@blueprint.post("/intent")
@login_required(EDITORS)
def save_intent() -> ResponseReturnValue:
    editor = flow_editor()
    file = request.form.get("file", "")
    original_id = request.form.get("original_id") or None
    revision = request.form.get("revision", "")
    form = _intent_form()
    if original_id is None and not file.strip():
        problem = FieldProblem("file", TOPIC_FILE_NEEDED, TOPIC_FILE_NEEDED)
        return _render_intent(file, None, form, revision, problems=[problem], status=422)
    heed_advice = request.form.get("save_anyway") != "1"
    try:
        draft = editor.draft_intent(file, original_id, form, revision if original_id else None)
        editor.save(draft, current_author(), heed_advice=heed_advice)
    except UnheededAdvice as exc:
        return _render_intent(file, original_id, form, revision, advice=exc.problems, status=422)
    except InvalidEdit as exc:
        return _render_intent(file, original_id, form, revision, problems=exc.problems, status=422)
    except EditConflict as exc:
        current = exc.current
        new_revision = current.revision() if isinstance(current, IntentForm) else revision
        return _render_intent(file, original_id, form, new_revision, conflict=exc, status=409)
    reload_now()
    flash(
        gettext("Saved '%(intent)s'. The bot answers with it within 2 seconds.", intent=form.id),
        "saved",
    )
    return redirect(url_for("editor.edit_intent", file=file, id=form.id))


@blueprint.post("/intent/delete")
@login_required(EDITORS)
def delete_intent() -> ResponseReturnValue:
    editor = flow_editor()
    file, intent_id = request.form.get("file", ""), request.form.get("original_id", "")
    revision = request.form.get("revision") or None
    try:
        editor.save(editor.draft_delete(file, intent_id, revision), current_author())
    except (InvalidEdit, EditConflict) as exc:
        problems = exc.problems if isinstance(exc, InvalidEdit) else []
        form, _ = editor.intent(file, intent_id)
        conflict = exc if isinstance(exc, EditConflict) else None
        if problems:
            problems = [
                FieldProblem(None, p.text, p.message, p.severity)
                for p in problems
                if p.severity == "error"
            ]
            problems.insert(
                0,
                FieldProblem(
                    None, gettext("'%(intent)s' was not deleted:", intent=intent_id), "", "error"
                ),
            )
        return _render_intent(
            file, intent_id, form, form.revision(), problems=problems, conflict=conflict, status=409
        )
    reload_now()
    flash(gettext("Deleted '%(intent)s' from %(file)s.", intent=intent_id, file=file), "saved")
    return redirect(url_for("editor.intents"))


# -- preview and try it --------------------------------------------------------------------


@blueprint.post("/preview")
@login_required(EDITORS)
def preview() -> ResponseReturnValue:
    data = request.get_json(silent=True) or {}
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return error_response('send {"text": "…"}', 400)
    return jsonify(html=render_markdown(text[:MAX_PREVIEW_CHARS]))


@blueprint.post("/try")
@login_required(EDITORS)
def try_it() -> ResponseReturnValue:
    """Ask the bot as it would be with the form saved: decision, top intents, the answer."""
    editor = flow_editor()
    question = request.form.get("question", "").strip()
    if not question:
        return error_response("type a question to try", 400)
    file = request.form.get("file", "")
    original_id = request.form.get("original_id") or None
    form = _intent_form()
    if file == SETTINGS_FILE or not file:
        raise BadRequest("try it works from an intent's page")
    try:
        draft = editor.draft_intent(file, original_id, form, None)
        bot, problems = editor.check(draft)
    except InvalidEdit as exc:
        bot, problems = None, exc.problems
    errors = [p for p in problems if p.severity == "error"]
    if bot is None:
        return jsonify(
            ok=False,
            error="fix these first, then try again",
            problems=[{"field": p.field, "text": p.text} for p in errors],
        )
    running = services().runtime.current()
    matcher = shared_matcher(bot, running.matcher.encoder)
    match = understand(matcher, question[:2000])
    language = editor.overview().files.get(file) or bot.settings.language
    said = reply(bot, match, language, datetime.now(UTC))
    answer = None
    if said.outcome != Outcome.CLARIFY and said.text:
        answer = {
            "intent": said.intent,
            "html": said.html,
            "buttons": [b.label for b in said.buttons],
            "handoff_team": said.handoff.team if said.handoff else None,
        }
    return jsonify(
        ok=True,
        decision=match.decision,
        intent=match.intent,
        confidence=round(match.confidence, 3),
        thresholds={"answer": matcher.thresholds.answer, "clarify": matcher.thresholds.clarify},
        candidates=[{"intent": c.intent, "score": c.score} for c in match.candidates[:5]],
        options=list(match.options),
        answer=answer,
        edited=form.id,
    )


@blueprint.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_template(
        "auth/refused.html", message=localized(exc), title=gettext("Not found")
    ), 404


@blueprint.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> ResponseReturnValue:
    if wants_json():
        return error_response(localized(exc), exc.status)
    return render_template(
        "auth/refused.html", message=localized(exc), title=gettext("Not possible")
    ), exc.status
