"""People and teams in the browser, for admins: /admin/users and /admin/teams.

Users: the list (role, active, last sign-in), an invitation, a new role, a
password reset, deactivating and reactivating. The core is `people.People`,
which also keeps one active admin and records every change for History.

An invitation (without a password the admin chose) and a reset make a
one-time link to choose a password (`password_links.py` serves it). With
mail set up (BOTBUILDER_SMTP_URL) and BOTBUILDER_PUBLIC_URL, the link is
mailed to the person in plain text; otherwise, or when the mail fails, it is
shown once to the admin to pass on. The link is never put in a log, and only
its hash is stored. Teams live in
`admin_teams.py` on this blueprint; their changes are saved through
`FlowEditor.save` like every edit of bot.yml.

Every page is for admins only (`login_required`, which also checks the CSRF
token of every POST); a refused change is shown on the page with its 4xx
status and the reason.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.accounts import ROLES
from botbuilder.conversations.release import release_claims
from botbuilder.db.ids import row_id
from botbuilder.errors import MailError, RequestError
from botbuilder.people import People
from botbuilder.server import admin_teams
from botbuilder.server.admin_teams import ADMINS
from botbuilder.server.auth import STAFF_BLUEPRINTS, login_required
from botbuilder.server.common import current_user, error_response, services, wants_json
from botbuilder.server.i18n import localized
from botbuilder.server.localtime import local, viewer_timezone

__all__ = ["ADMINS", "blueprint"]

log = logging.getLogger(__name__)

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
STAFF_BLUEPRINTS.add("admin")  # strict CSP and no-store: pages show one-time passwords

blueprint.add_url_rule("/teams", view_func=admin_teams.teams)
blueprint.add_url_rule("/teams/default", view_func=admin_teams.default_team, methods=["POST"])
blueprint.add_url_rule("/teams/new", view_func=admin_teams.new_team, methods=["GET", "POST"])
blueprint.add_url_rule(
    "/teams/<name>/edit", view_func=admin_teams.edit_team, methods=["GET", "POST"]
)
blueprint.add_url_rule("/teams/<name>/delete", view_func=admin_teams.delete_team, methods=["POST"])


def _people() -> People:
    """The admin's view of the app's one `Accounts` (a stateless wrapper, not a new service);
    an agent who leaves gives their conversations back to the queue."""
    built = services()
    return People(built.accounts, release=functools.partial(release_claims, built.queue))


def _me() -> int:
    user = current_user()
    return user.id if user else 0


def _users_page(status: int = 200, **shown: Any) -> ResponseReturnValue:
    """The users page; `shown` may carry a one-time link, what was mailed, or an error."""
    if wants_json() and shown.get("error"):
        return error_response(shown["error"], status)
    page = render_template(
        "admin/users.html", people=_people().list(), roles=ROLES, me=_me(), **shown
    )
    return page, status


@blueprint.get("/")
@login_required(ADMINS)
def home() -> ResponseReturnValue:
    return redirect(url_for("admin.users"))


@blueprint.route("/users", methods=["GET", "POST"])
@login_required(ADMINS)
def users() -> ResponseReturnValue:
    if request.method == "GET":
        return _users_page()
    email = request.form.get("email", "").strip()
    role = request.form.get("role", "")
    try:
        user, token = _people().invite(email, role, request.form.get("password", ""), by=_me())
    except RequestError as exc:
        return _users_page(exc.status, error=localized(exc), invite={"email": email, "role": role})
    if token is None:  # the admin chose the password
        return _users_page(201, created=user.email)
    return _users_page(201, created=user.email, **_hand_over(user.id, user.email, token, role))


def _hand_over(user_id: int, email: str, token: str, role: str = "") -> dict[str, Any]:
    """Mail the one-time link when mail and a public URL are set up, else show it once."""
    link = _people().links.find(token)
    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    # Without a public URL the admin's own address for this server makes the link they see;
    # a mail never gets a link built from a request's Host header.
    url = public + url_for("password.open_link", token=token) if public else ""
    shown = url or url_for("password.open_link", token=token, _external=True)
    mailer = services().mailer
    if mailer is None or not public:
        why = (
            gettext("mail is not set up")
            if mailer is None
            else gettext("BOTBUILDER_PUBLIC_URL is not set")
        )
        return {"expires": link.expires_at, "link": shown, "not_mailed": why}
    subject = (
        gettext("You are invited to botbuilder")
        if link.purpose == "invite"
        else gettext("Choose a new botbuilder password")
    )
    until = f"{local(link.expires_at)} ({viewer_timezone()})"
    text = render_template(
        "people/password_mail.txt", purpose=link.purpose, link=url, until=until, role=role
    )
    try:
        mailer.send([email], subject, text)
    except MailError as exc:  # the message names the server, never the link
        log.warning("mail: the password link for user %d was not sent: %s", user_id, exc)
        failed = gettext("the mail failed: %(reason)s", reason=str(exc))
        return {"expires": link.expires_at, "link": url, "not_mailed": failed}
    log.info("mail: sent user %d a link to choose a password", user_id)
    return {"expires": link.expires_at, "mailed": email}


def _change(user_id: int, action: str) -> ResponseReturnValue:
    """Run one change on a user; a refusal is shown on the users page with its status."""
    people, me = _people(), _me()
    try:
        target = row_id(user_id, "a user id")
        person = people.person(target)
        if action == "role":
            people.set_role(target, request.form.get("role", ""), by=me)
            message = f"{person.email} is now {request.form.get('role')}."
        elif action == "deactivate":
            people.deactivate(target, by=me)
            message = f"Deactivated {person.email}: they are signed out and cannot sign in."
        else:
            people.reactivate(target, by=me)
            message = f"Reactivated {person.email}: they can sign in with their password."
    except RequestError as exc:
        return _users_page(exc.status, error=localized(exc))
    flash(message, "saved")
    if target == me:
        if action == "deactivate":
            session.clear()  # they signed themself out for good
            return redirect(url_for("auth.login"))
        _keep_signed_in(me)
        if request.form.get("role") != "admin":
            return redirect(url_for("editor.intents"))
    return redirect(url_for("admin.users"))


def _keep_signed_in(user_id: int) -> None:
    """An admin's change to their own account ends their other sessions, not this one."""
    user = services().accounts.user(user_id)
    if user is not None:
        session["key"] = user.session_key


@blueprint.post("/users/<int:user_id>/role")
@login_required(ADMINS)
def set_role(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "role")


@blueprint.post("/users/<int:user_id>/deactivate")
@login_required(ADMINS)
def deactivate(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "deactivate")


@blueprint.post("/users/<int:user_id>/reactivate")
@login_required(ADMINS)
def reactivate(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "reactivate")


@blueprint.post("/users/<int:user_id>/password")
@login_required(ADMINS)
def reset_password(user_id: int) -> ResponseReturnValue:
    """The old password stops working, the account's sessions end, and a one-time link is
    mailed or shown."""
    people = _people()
    try:
        target = row_id(user_id, "a user id")
        person = people.person(target)
        token = people.reset_password(target, by=_me())
    except RequestError as exc:
        return _users_page(exc.status, error=localized(exc))
    if target == _me():
        _keep_signed_in(target)
    return _users_page(200, reset=person.email, **_hand_over(target, person.email, token))
