"""The one-time link with which an invited person (or one whose password was reset)
chooses their password: /password/<token>, then the form at /password.

Opening the link checks it and moves the token into this browser's session,
redirecting to /password, so the token is in the address bar (and in a Referer
or a screenshot) only for that one redirect; the form posts the password with
the CSRF token. Using the link sets the password, ends the link and every
session of the account, and records the change for History. The token is
never logged. The admin's side (making and mailing the links) is in
`admin.py`; the core in `people/links.py`.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.errors import RequestError
from botbuilder.people import People
from botbuilder.people.links import LinkRecord
from botbuilder.server.auth import STAFF_BLUEPRINTS, csrf_protect
from botbuilder.server.common import services
from botbuilder.server.i18n import localized

__all__ = ["blueprint"]

blueprint = Blueprint("password", __name__)
STAFF_BLUEPRINTS.add("password")  # strict CSP and no-store
_SESSION_KEY = "password_link"


def _people() -> People:
    return People(services().accounts)


def _page(link: LinkRecord | None, status: int = 200, error: str = "") -> ResponseReturnValue:
    return render_template("people/choose_password.html", link=link, error=error), status


@blueprint.get("/password/<token>")
def open_link(token: str) -> ResponseReturnValue:
    """Check the link, keep its token in the session, and show the form at a clean address."""
    try:
        _people().links.find(token)
    except RequestError as exc:
        session.pop(_SESSION_KEY, None)
        return _page(None, exc.status, localized(exc))
    session[_SESSION_KEY] = token
    return redirect(url_for("password.choose"), 303)


@blueprint.route("/password", methods=["GET", "POST"])
def choose() -> ResponseReturnValue:
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        return _page(None, 404, gettext("Open the link from your invitation or reset mail first."))
    people = _people()
    try:
        link = people.links.find(token)
    except RequestError as exc:
        session.pop(_SESSION_KEY, None)
        return _page(None, exc.status, localized(exc))
    if request.method == "GET":
        return _page(link)
    csrf_protect()
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return _page(link, 400, gettext("The two passwords are not the same; type them again."))
    try:
        user = people.choose_password(token, password)
    except RequestError as exc:
        return _page(link, exc.status, localized(exc))
    session.pop(_SESSION_KEY, None)
    return render_template("people/choose_password.html", link=None, done=user.email)
