"""Times as the viewer reads them: in their timezone, never bare UTC, and how long ago.

Stored times are UTC. Pages show them in the viewer's timezone: the signed-in
user's saved one (the preferences page), else the bot's (its default team's,
the one office hours and insights count in), e.g. "12:24" for an agent in
Amsterdam where the database says 11:24, and waiting times as "3 min ago" or,
for a Dutch page, "3 min geleden". The console's script gets the same zone
from `data-timezone`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context
from flask_babel import gettext, ngettext

from botbuilder.db.base import utcnow
from botbuilder.insights.figures import bot_timezone
from botbuilder.server.common import current_user, services

__all__ = ["ago", "init_app", "local", "viewer_timezone"]


def viewer_timezone() -> str:
    """The timezone this request's pages are shown in: the user's, else the bot's."""
    user = current_user() if has_request_context() else None
    if user is not None and user.timezone:
        return user.timezone
    return bot_timezone(services().runtime.current().bot)


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` in the viewer's timezone; "—" for none."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(viewer_timezone())).strftime(pattern)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, roughly, in the page's language: "just now", "3 min ago", "4 days ago"."""
    if moment is None:
        return "—"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return gettext("just now")
    if seconds < 3600:
        return gettext("%(num)d min ago", num=seconds // 60)
    if seconds < 86400:
        return gettext("%(num)d h ago", num=seconds // 3600)
    days = seconds // 86400
    return ngettext("%(num)d day ago", "%(num)d days ago", days)


def init_app(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(ago, "ago")
    app.add_template_global(viewer_timezone, "viewer_timezone")
