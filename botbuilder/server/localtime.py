"""Times as the viewer reads them: in the bot's timezone, never bare UTC.

Stored times are UTC. Pages show them in the bot's timezone (its default
team's, the one office hours and insights count in), e.g. "12:24" for an
agent in Amsterdam where the database says 11:24, and waiting times as
"3 min ago". The console's script gets the same zone from `data-timezone`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from botbuilder.db.base import utcnow
from botbuilder.insights.figures import bot_timezone
from botbuilder.server.common import services

__all__ = ["ago", "init_app", "local", "viewer_timezone"]


def viewer_timezone() -> str:
    """The timezone this request's pages are shown in: the bot's."""
    return bot_timezone(services().runtime.current().bot)


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` in the viewer's timezone; "—" for none."""
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(viewer_timezone())).strftime(pattern)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, roughly: "just now", "3 min ago", "2 h ago", "4 days ago"."""
    if moment is None:
        return "—"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def init_app(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(ago, "ago")
    app.add_template_global(viewer_timezone, "viewer_timezone")
