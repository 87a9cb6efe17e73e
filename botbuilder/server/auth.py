"""Signing in and out, sessions, CSRF, and `login_required` for the staff pages.

The widget API (`/api/v1`) has neither login nor CSRF: it is public and its
requests carry no cookies that grant anything. Everything behind
`login_required` (editor, agent console) gets both: a state-changing request
(POST, PUT, PATCH, DELETE) must carry the session's CSRF token, as the form
field `csrf_token` or the header `X-CSRF-Token`.

The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the request
came over HTTPS (behind a proxy, wrap the app in werkzeug's ProxyFix so that
Flask sees the scheme), and lasts 12 hours from login; `create_app` sets it up.
The session holds the user's session key (`accounts.UserRecord.session_key`),
which `common.current_user` compares on every request: logging out, a new
password or removing the user changes it, so every copy of the cookie ends.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from werkzeug.exceptions import HTTPException

from botbuilder.accounts import LoginFailed, TooManyAttempts
from botbuilder.server.common import current_user, error_response, services, wants_json
from botbuilder.server.i18n import SESSION_KEY

__all__ = [
    "STAFF_BLUEPRINTS",
    "blueprint",
    "csrf_protect",
    "csrf_token",
    "login_required",
    "safe_next",
]

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Blueprints whose pages get the strict headers of headers.py; the console adds its name.
STAFF_BLUEPRINTS = {"auth", "editor"}


# -- CSRF --------------------------------------------------------------------------------


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_protect() -> None:
    """Refuse (403) a state-changing request without this session's CSRF token."""
    if request.method not in _UNSAFE_METHODS:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise _Refused(
            403,
            gettext(
                "This form has expired or did not come from this site. "
                "Reload the page and try again."
            ),
        )


class _Refused(HTTPException):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@blueprint.app_errorhandler(_Refused)
def _refused(exc: _Refused) -> ResponseReturnValue:
    code = exc.code or 403
    if wants_json():
        return error_response(exc.message, code)
    return render_template("auth/refused.html", message=exc.message), code


def login_required(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """Only for signed-in users (with one of `roles`, if given); CSRF-checked when unsafe.

    Pages redirect to the login page; JSON requests get 401. A signed-in user
    without the role gets 403.
    """
    allowed = tuple(roles) if roles else None

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if wants_json() or request.method in _UNSAFE_METHODS:
                    raise _Refused(401, gettext("Your session has ended; sign in again."))
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if allowed and user.role not in allowed:
                raise _Refused(
                    403,
                    gettext(
                        "Your account (%(role)s) may not use this page; it is for %(roles)s. "
                        "Ask an admin if you need access.",
                        role=user.role,
                        roles=gettext(" or ").join(allowed),
                    ),
                )
            csrf_protect()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@blueprint.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": current_user}


# -- pages -------------------------------------------------------------------------------


def safe_next(target: str | None, role: str | None = None) -> str:
    """Only a path on this site, so the login form cannot send people elsewhere.

    Without one, each role lands where its work is: agents in the console.
    """
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    if role == "agent" and "console" in current_app.blueprints:
        return url_for("console.home")
    return url_for("editor.intents")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if current_user():
            return redirect(safe_next(next_url))
        return render_template(
            "auth/login.html",
            next=next_url,
            email="",
            error=None,
            no_users=services().accounts.count() == 0,
        )
    csrf_protect()
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    try:
        user = services().accounts.authenticate(email, password, request.remote_addr or "")
    except (LoginFailed, TooManyAttempts) as exc:
        page = render_template(
            "auth/login.html", next=next_url, email=email, error=_login_error(exc), no_users=False
        )
        return page, exc.status
    language = session.get(SESSION_KEY)  # the sign-in page's switch outlives the sign-in
    session.clear()
    if language:
        session[SESSION_KEY] = language
    session.permanent = True
    session["user_id"] = user.id
    session["key"] = user.session_key
    csrf_token()  # a fresh token for the new session
    log.info("user %d signed in", user.id)  # the id, not the address: logs hold no e-mail
    return redirect(safe_next(next_url, user.role))


def _login_error(exc: LoginFailed | TooManyAttempts) -> str:
    """The refusal in the page's language (the core's message is English, for logs and scripts)."""
    if isinstance(exc, TooManyAttempts):
        return ngettext(
            "There were too many failed logins. Try again in %(num)d minute, or ask an admin "
            "to reset your password with 'botbuilder user set-password'.",
            "There were too many failed logins. Try again in %(num)d minutes, or ask an admin "
            "to reset your password with 'botbuilder user set-password'.",
            exc.minutes,
        )
    return gettext("That e-mail address and password do not match an account.")


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    csrf_protect()
    user = current_user()
    if user is not None:
        # The cookie is signed, not stored: a copy of it would still work. A new
        # session version ends every copy, on this device and any other.
        services().accounts.end_sessions(user.id)
    session.clear()
    return redirect(url_for("auth.login"))
