"""Your preferences, `/account/preferences`: the language and timezone of your pages.

For every signed-in user (agent, manager, admin), saved on the account
(`Accounts.set_preferences`): a language among the catalogues present
(`i18n.available_languages`) or the browser's, a timezone by its IANA name or
the bot's. A value that is neither is refused with the form shown again (400).
`GET /language/<code>` is the sign-in page's switch: it keeps the choice in the
session, for someone not signed in yet (a saved language wins after sign-in).
"""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, refresh

from botbuilder.db.base import utcnow
from botbuilder.errors import BadRequest
from botbuilder.insights.figures import bot_timezone
from botbuilder.server.auth import STAFF_BLUEPRINTS, login_required, safe_next
from botbuilder.server.common import current_user, services
from botbuilder.server.i18n import SESSION_KEY, available_languages, localized

__all__ = ["blueprint"]

blueprint = Blueprint("preferences", __name__)
STAFF_BLUEPRINTS.add("preferences")


def _page(error: str | None = None, language: str = "", timezone: str = "") -> str:
    user = current_user()
    assert user is not None  # behind login_required
    bot = services().runtime.current().bot
    return render_template(
        "account/preferences.html",
        error=error,
        language=language if error else (user.language or ""),
        timezone=timezone if error else (user.timezone or ""),
        timezones=sorted(available_timezones()),
        bot_timezone=bot_timezone(bot),
        now=utcnow(),
    )


@blueprint.get("/account/preferences")
@login_required()
def preferences() -> ResponseReturnValue:
    return _page()


@blueprint.post("/account/preferences")
@login_required()
def save_preferences() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    language = request.form.get("language", "").strip()
    timezone = request.form.get("timezone", "").strip()
    if language and language not in available_languages():
        error = gettext("Choose one of the languages in the list.")
        return _page(error, language, timezone), 400
    if timezone and timezone not in available_timezones():
        error = gettext(
            "“%(timezone)s” is not a timezone. Choose one from the list, such as Europe/Amsterdam.",
            timezone=timezone,
        )
        return _page(error, language, timezone), 400
    try:
        services().accounts.set_preferences(
            user.id, language or None, timezone or None, available_languages()
        )
    except BadRequest as exc:  # checked above; the core checks again
        return _page(localized(exc), language, timezone), 400
    refresh()  # this request's pages in the new language already
    return redirect(url_for("preferences.preferences", saved=1))


@blueprint.get("/language/<language>")
def switch_language(language: str) -> ResponseReturnValue:
    """The sign-in page's switch: this browser's language until someone signs in.

    A link (GET), not a form: it changes only how this browser's pages read, and
    the sign-in form stays the page's one submit button.
    """
    if language not in available_languages():
        raise BadRequest(gettext("Choose one of the languages in the list."))
    session[SESSION_KEY] = language
    return redirect(safe_next(request.args.get("next")))
