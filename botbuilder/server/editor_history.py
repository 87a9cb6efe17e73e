"""The editor's settings page and the flow history: what bot.yml says, and every saved version.

Views on the editor's blueprint (`editor.py` registers them), for managers
and admins; every POST is CSRF-checked by `login_required`. History has every
saved version of the flow files (teams, hours and the default team an admin
changes are bot.yml saves, so they are there too) and, for admins only, the
account changes: who invited, reset, changed the role of, deactivated or
reactivated whom. Managers do not see those: they do not manage people, and
who holds which account is the staff's personal data, shown to whoever needs
it only.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.db.ids import row_id
from botbuilder.editing.forms import EditConflict, FieldProblem, InvalidEdit, SettingsForm
from botbuilder.editing.history import diff_lines
from botbuilder.editing.restoring import intent_changes, restore_intent, restore_version
from botbuilder.errors import N_, BadRequest
from botbuilder.people import AccountChanges
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_author, current_user, services
from botbuilder.server.editor_shared import EDITORS, by_field, flow_editor, reload_now

__all__ = ["history", "restore", "restore_one_intent", "settings", "version"]


def _settings_form(languages: tuple[str, ...]) -> SettingsForm:
    f = request.form

    def texts(name: str) -> dict[str, str]:
        return {lang: f.get(f"{name}_{lang}", "") for lang in languages}

    return SettingsForm(
        greeting=texts("greeting"),
        offline_message=texts("offline_message"),
        welcome=texts("welcome"),
        answer_threshold=f.get("answer_threshold", "auto"),
        clarify_threshold=f.get("clarify_threshold", "auto"),
        widget_title=f.get("widget_title", ""),
        widget_color=f.get("widget_color", ""),
    )


@login_required(EDITORS)
def settings() -> ResponseReturnValue:
    editor = flow_editor()
    _, languages = editor.languages()
    current = editor.settings()
    form, revision, status = current, current.revision(), 200
    problems: list[FieldProblem] = []
    conflict: EditConflict | None = None
    if request.method == "POST":
        form = _settings_form(languages)
        # Languages the form does not show keep their texts.
        for name in ("greeting", "offline_message", "welcome"):
            kept = {k: v for k, v in getattr(current, name).items() if k not in languages}
            getattr(form, name).update(kept)
        revision = request.form.get("revision", "")
        try:
            editor.save(editor.draft_settings(form, revision), current_author())
        except InvalidEdit as exc:
            problems, status = exc.problems, 422
        except EditConflict as exc:
            conflict, revision, status = exc, current.revision(), 409
        else:
            reload_now()
            flash(gettext("Saved the settings. The bot uses them within 2 seconds."), "saved")
            return redirect(url_for("editor.settings"))
    running = services().runtime.current().matcher.thresholds
    page = render_template(
        "editor/settings.html",
        form=form,
        revision=revision,
        languages=languages,
        problems=by_field(problems),
        conflict=conflict,
        running=running,
    )
    return page, status


@login_required(EDITORS)
def history() -> ResponseReturnValue:
    editor = flow_editor()
    file = request.args.get("file") or None
    versions = editor.history.versions(file)
    user = current_user()
    changes = AccountChanges(services().storage).recent() if user and user.role == "admin" else None
    return render_template(
        "editor/history.html",
        versions=versions,
        file=file,
        paths=editor.history.paths(),
        account_changes=changes,
    )


@login_required(EDITORS)
def version(version_id: int) -> ResponseReturnValue:
    editor = flow_editor()
    record = editor.history.version(row_id(version_id, "a version id"))
    previous = editor.history.previous(record)
    try:
        current = editor.read(record.path)
    except InvalidEdit as exc:  # a folder by that name, not UTF-8: named, not a 500
        unreadable = N_("%(problem)s; fix it on the server by hand, then compare this version")
        raise BadRequest(unreadable, problem=exc.problems[0].text) from exc
    return render_template(
        "editor/version.html",
        version=record,
        previous=previous,
        changes=diff_lines(previous.content if previous else "", record.content),
        intents=intent_changes(previous.content if previous else "", record.content),
        restorable=intent_changes(current, record.content),
        against_disk=diff_lines(current, record.content),
        is_current=current == record.content,
    )


@login_required(EDITORS)
def restore(version_id: int) -> ResponseReturnValue:
    editor = flow_editor()
    try:
        restored = restore_version(editor, row_id(version_id, "a version id"), current_author())
    except InvalidEdit as exc:
        for p in exc.problems:
            if p.severity == "error":
                flash(p.text, "error")
        flash(
            gettext(
                "Version %(number)s was not restored: it has errors with today's flows.",
                number=version_id,
            ),
            "error",
        )
        return redirect(url_for("editor.version", version_id=version_id))
    reload_now()
    flash(
        gettext("Restored version %(number)s of %(file)s.", number=version_id, file=restored.path),
        "saved",
    )
    return redirect(url_for("editor.history"))


@login_required(EDITORS)
def restore_one_intent(version_id: int) -> ResponseReturnValue:
    """One intent back as this version had it; the rest of its file stays as it is now."""
    editor = flow_editor()
    intent_id = request.form.get("intent", "")[:200]
    try:
        restore_intent(editor, row_id(version_id, "a version id"), intent_id, current_author())
    except (InvalidEdit, EditConflict) as exc:
        for p in getattr(exc, "problems", []):
            if p.severity == "error":
                flash(p.text, "error")
        flash(
            gettext("'%(intent)s' was not restored: %(error)s", intent=intent_id, error=exc),
            "error",
        )
        return redirect(url_for("editor.version", version_id=version_id))
    reload_now()
    flash(
        gettext(
            "Restored '%(intent)s' as version %(number)s had it.",
            intent=intent_id,
            number=version_id,
        ),
        "saved",
    )
    return redirect(url_for("editor.version", version_id=version_id))
