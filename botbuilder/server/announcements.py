"""The manager's announcements page: post a notice for a busy moment, and end it.

Views only route; `conversations.announcements` keeps the notices in the
database, so every replica's widgets show a new one within a second and
stop showing it as soon as it is ended. Times are entered and shown in the
bot's timezone (its default team's).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.db.ids import row_id
from botbuilder.errors import BadRequest
from botbuilder.insights.figures import bot_timezone
from botbuilder.server import auth
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_author, services
from botbuilder.server.editor_shared import EDITORS
from botbuilder.server.i18n import localized

__all__ = ["blueprint"]

log = logging.getLogger(__name__)
blueprint = Blueprint("announcements", __name__, url_prefix="/editor/announcements")
auth.STAFF_BLUEPRINTS.add("announcements")


def _when(name: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local field in the bot's timezone, as an aware time; None when empty."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        if len(value) > 19:
            raise ValueError(value)
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date and time like 2026-11-29T08:00") from None


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    bot = services().runtime.current().bot
    zone = ZoneInfo(bot_timezone(bot))
    announcements = services().announcements
    now = announcements.clock()
    return (
        render_template(
            "editor/announcements.html",
            recent=announcements.recent(),
            now=now,
            zone=zone,
            languages=bot.languages,
            intent_ids=bot.intent_ids(),
            error=error,
            form=request.form if request.method == "POST" else {},
        ),
        status,
    )


@blueprint.get("/")
@login_required(EDITORS)
def home() -> ResponseReturnValue:
    return _page()


@blueprint.post("/")
@login_required(EDITORS)
def post() -> ResponseReturnValue:
    bot = services().runtime.current().bot
    zone = ZoneInfo(bot_timezone(bot))
    try:
        intents = request.form.getlist("intents")
        unknown = [i for i in intents if i not in bot.intent_ids()]
        if unknown:
            raise BadRequest(f"no intent '{unknown[0][:100]}' in this bot")
        posted = services().announcements.post(
            {lang: request.form.get(f"text_{lang}", "") for lang in bot.languages},
            current_author(),
            starts_at=_when("starts_at", zone),
            ends_at=_when("ends_at", zone),
            intents=intents,
        )
    except BadRequest as exc:
        return _page(400, localized(exc))
    log.info("announcement %d posted by a manager (%d intents)", posted.id, len(posted.intents))
    flash(gettext("Posted. Open chats show it within a second."), "saved")
    return redirect(url_for("announcements.home"))


@blueprint.post("/<int:announcement_id>/end")
@login_required(EDITORS)
def end(announcement_id: int) -> ResponseReturnValue:
    ended = services().announcements.end(row_id(announcement_id, "an announcement id"))
    log.info("announcement %d ended", ended.id)
    flash(gettext("Ended. Open chats stop showing it within a second."), "saved")
    return redirect(url_for("announcements.home"))
