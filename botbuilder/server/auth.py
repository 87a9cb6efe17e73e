"""Signing in and out, sessions, CSRF, and `login_required` for the staff pages.

The widget API (`/api/v1`) has neither login nor CSRF: it is public and its
requests carry no cookies that grant anything. Everything behind
`login_required` (editor, agent console) gets both: a state-changing request
(POST, PUT, PATCH, DELETE) must carry the session's CSRF token, as the form
field `csrf_token` or the header `X-CSRF-Token`.

The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the request
came over HTTPS (behind a proxy, wrap the app in werkzeug's ProxyFix so that
Flask sees the scheme). A session ends when the user is removed or their
password changes.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from botbuilder.accounts import Accounts, LoginFailed, TooManyAttempts, UserRecord
from botbuilder.server.app import error_response

__all__ = [
    "STAFF_BLUEPRINTS",
    "accounts",
    "blueprint",
    "csrf_protect",
    "csrf_token",
    "current_user",
    "login_required",
]

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Blueprints whose pages get the strict headers below; the agent console can add its name.
STAFF_BLUEPRINTS = {"auth", "editor"}


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies over HTTPS, and still usable on http://127.0.0.1 in development."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


@blueprint.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    app.session_interface = _SessionInterface()
    app.config.setdefault("SESSION_COOKIE_NAME", "botbuilder_session")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))
    storage = app.extensions["botbuilder"].storage
    app.extensions["botbuilder.accounts"] = Accounts(storage)
    if app.extensions["botbuilder.accounts"].count() == 0:
        if app.config.get("DATABASE_URL"):
            how = "BOTBUILDER_DATABASE_URL=<this server's database URL> botbuilder user add"
            where = ""
        else:
            how, where = "botbuilder user add", f" --instance {app.instance_path}"
        log.warning(
            "No accounts yet, so nobody can sign in to the editor. Create the first admin with:\n"
            "  %s you@example.org --role admin%s\nthen sign in at /login.",
            how,
            where,
        )


def accounts() -> Accounts:
    return current_app.extensions["botbuilder.accounts"]  # type: ignore[no-any-return]


# -- who is signed in --------------------------------------------------------------------


def current_user() -> UserRecord | None:
    """The signed-in user of this request, or None."""
    if "user" not in g:
        user = None
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            user = accounts().user(user_id)
            if user is not None and not hmac.compare_digest(
                user.session_key, str(session.get("key", ""))
            ):
                user = None  # the password changed since this session began
        g.user = user
    return g.user  # type: ignore[no-any-return]


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
            "This form has expired or did not come from this site. Reload the page and try again.",
        )


class _Refused(HTTPException):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@blueprint.app_errorhandler(_Refused)
def _refused(exc: _Refused) -> ResponseReturnValue:
    code = exc.code or 403
    if _wants_json():
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
                if _wants_json() or request.method in _UNSAFE_METHODS:
                    raise _Refused(401, "Your session has ended; sign in again.")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if allowed and user.role not in allowed:
                raise _Refused(
                    403,
                    f"Your account ({user.role}) may not use this page; it is for "
                    f"{' or '.join(allowed)}. Ask an admin if you need access.",
                )
            csrf_protect()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@blueprint.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": current_user}


@blueprint.after_app_request
def _staff_headers(response: Any) -> Any:
    """Pages behind a login: never cached, never framed, scripts only from this site."""
    if request.blueprint in STAFF_BLUEPRINTS:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            )
    return response


# -- pages -------------------------------------------------------------------------------


def _safe_next(target: str | None, role: str | None = None) -> str:
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
            return redirect(_safe_next(next_url))
        return render_template(
            "auth/login.html", next=next_url, email="", error=None, no_users=accounts().count() == 0
        )
    csrf_protect()
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    try:
        user = accounts().authenticate(email, password, request.remote_addr or "")
    except (LoginFailed, TooManyAttempts) as exc:
        page = render_template(
            "auth/login.html", next=next_url, email=email, error=exc.message, no_users=False
        )
        return page, exc.status
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["key"] = user.session_key
    csrf_token()  # a fresh token for the new session
    log.info("%s signed in", user.email)
    return redirect(_safe_next(next_url, user.role))


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    csrf_protect()
    session.clear()
    return redirect(url_for("auth.login"))
