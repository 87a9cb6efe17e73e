"""The handoff teams page for admins: office hours, time zone, closed days, webhook, e-mail.

Views on the admin blueprint (`admin.py` registers them). Each change is a
draft of bot.yml saved by `FlowEditor.save` (through `editing.teams.Teams`):
checked like `botbuilder check`, with the problems next to the fields and
nothing written on an error, and kept in the history under the admin's name.
The running bot uses the new hours at once in this process (others within 2 s).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.editing.forms import EditConflict, FieldProblem, InvalidEdit
from botbuilder.editing.teams import DAYS, TeamForm, Teams, hours_summary, timezone_choices
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_author
from botbuilder.server.editor_shared import by_field, flow_editor, reload_now
from botbuilder.server.i18n import localized

__all__ = ["ADMINS", "default_team", "delete_team", "edit_team", "new_team", "teams"]

ADMINS = ("admin",)  # who may manage people and teams


def _teams() -> Teams:
    """The teams of the app's one flow editor (a stateless wrapper, not a new service)."""
    return Teams(flow_editor())


def _list_page(
    problems: list[FieldProblem] | None = None, status: int = 200
) -> ResponseReturnValue:
    forms, default = _teams().current()
    page = render_template(
        "admin/teams.html",
        teams=forms,
        default=default,
        summary=hours_summary,
        problems=by_field(problems or []),
    )
    return page, status


@login_required(ADMINS)
def teams() -> ResponseReturnValue:
    return _list_page()


@login_required(ADMINS)
def default_team() -> ResponseReturnValue:
    name = request.form.get("default_team", "")
    editor = _teams()
    try:
        editor.save(editor.draft_default(name), current_author())
    except InvalidEdit as exc:
        return _list_page(exc.problems, 422)
    reload_now()
    flash(gettext("Handoffs without a team of their own now go to '%(team)s'.", team=name), "saved")
    return redirect(url_for("admin.teams"))


@login_required(ADMINS)
def delete_team(name: str) -> ResponseReturnValue:
    editor = _teams()
    try:
        editor.save(editor.draft_delete(name), current_author())
    except InvalidEdit as exc:
        return _list_page(exc.problems, 422)
    reload_now()
    flash(gettext("Deleted team '%(team)s'.", team=name), "saved")
    return redirect(url_for("admin.teams"))


def _form(name: str) -> TeamForm:
    """The team form as posted: hours per weekday from from-to inputs (to 00:00 = midnight)."""
    f = request.form
    hours = {}
    for day, key in enumerate(DAYS):
        start, end = f.get(f"{key}_from", "").strip(), f.get(f"{key}_to", "").strip()
        ranges = [] if not (start or end) else [f"{start}-{'24:00' if end == '00:00' else end}"]
        more = f.get(f"{key}_more", "").strip()
        hours[day] = ", ".join([*ranges, *([more] if more else [])])
    return TeamForm(
        name=name.strip(),
        hours=hours,
        timezone=f.get("timezone", "").strip(),
        closed_days=[d.strip() for d in f.getlist("closed_days") if d.strip()],
        webhook=f.get("webhook", "").strip(),
        remove_webhook=f.get("remove_webhook") == "on",
        email=f.get("email", "").strip(),
        revision=f.get("revision", ""),
    )


def _team_page(
    form: TeamForm, new: bool, problems: list[FieldProblem], status: int, conflict: str = ""
) -> ResponseReturnValue:
    page = render_template(
        "admin/team.html",
        form=form,
        new=new,
        days=DAYS,
        timezones=timezone_choices(),
        problems=by_field(problems),
        conflict=conflict,
    )
    return page, status


def _save(form: TeamForm, new: bool) -> ResponseReturnValue:
    editor = _teams()
    try:
        editor.save(editor.draft_team(form, new), current_author(), focus=form.name)
    except InvalidEdit as exc:
        if not new:  # the page shows the webhook as it is in bot.yml, masked
            form.webhook_masked = editor.form(form.name).webhook_masked
        form.webhook = ""  # never sent back to the browser
        return _team_page(form, new, exc.problems, 422)
    except EditConflict as exc:
        return _team_page(editor.form(form.name), new, [], 409, conflict=localized(exc))
    reload_now()
    flash(
        gettext("Saved team '%(team)s'. The bot uses its hours within 2 seconds.", team=form.name),
        "saved",
    )
    return redirect(url_for("admin.teams"))


@login_required(ADMINS)
def new_team() -> ResponseReturnValue:
    if request.method == "POST":
        return _save(_form(request.form.get("name", "")), new=True)
    return _team_page(TeamForm(name=""), True, [], 200)


@login_required(ADMINS)
def edit_team(name: str) -> ResponseReturnValue:
    editor = _teams()
    try:
        current = editor.form(name)
    except InvalidEdit as exc:
        return _list_page(exc.problems, 404)
    if request.method == "POST":
        form = _form(name)
        form.webhook_masked = current.webhook_masked
        return _save(form, new=False)
    return _team_page(current, False, [], 200)
