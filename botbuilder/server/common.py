"""What every blueprint shares: the app's services, the JSON error shape, who is asking.

`create_app` (in `app.py`) builds one `Services` per app and the blueprints
reach it through `services()`. Blueprints import this module, never `app.py`:
`app.py` imports the blueprints, so the import graph has no circle.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from flask import current_app, g, jsonify, request, session

from botbuilder.accounts import Accounts, UserRecord
from botbuilder.content.model import Bot
from botbuilder.conversations.announcements import Announcements
from botbuilder.conversations.dialogue import Dialogue
from botbuilder.conversations.idempotency import IdempotencyKeys
from botbuilder.conversations.notify import Notifier
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.rate_limits import RateLimits
from botbuilder.conversations.store import Storage
from botbuilder.editing.service import FlowEditor
from botbuilder.insights.gaps import GapFinder
from botbuilder.integrations.followup_replies import FollowUpReplies
from botbuilder.integrations.mail import Mailer
from botbuilder.jobs.scheduler import Scheduler
from botbuilder.matching.runtime import BotRuntime

__all__ = [
    "Services",
    "current_author",
    "current_user",
    "error_response",
    "services",
    "team_names",
    "wants_json",
    "web_root",
]


@dataclass(frozen=True)
class Services:
    """Everything one app runs on, built once by `create_app`."""

    runtime: BotRuntime
    storage: Storage
    dialogue: Dialogue
    queue: HandoffQueue  # the dialogue's queue too: one per app
    notifier: Notifier
    accounts: Accounts
    editor: FlowEditor
    idempotency: IdempotencyKeys  # first answers to retried member requests
    rate_limits: RateLimits  # the public API's limits, counted in the shared database
    gaps: GapFinder  # the learning inbox: missed questions grouped into suggestions
    announcements: Announcements  # notices for busy moments, the dialogue's too
    # (fields with a default last)
    follow_up_replies: FollowUpReplies | None = None  # e-mailed replies; None without SMTP
    mailer: Mailer | None = None  # BOTBUILDER_SMTP_URL's mailer (password links); None: no mail
    scheduler: Scheduler | None = None  # the daily purge and weekly digest; `serve` starts it


def services() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions["botbuilder"]  # type: ignore[no-any-return]


def web_root() -> Path:
    """The web/ assets (templates, static files), shipped inside the package."""
    return Path(str(files("botbuilder.web")))


def error_response(message: str, status: int) -> Any:
    """The one JSON error shape: {"ok": false, "error": …, "status": …}."""
    response = jsonify(ok=False, error=message, status=status)
    response.status_code = status
    return response


def wants_json() -> bool:
    """True for a script's request (JSON body or JSON accepted), false for a page."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def current_user() -> UserRecord | None:
    """The signed-in user of this request, or None."""
    if "user" not in g:
        user = None
        user_id = session.get("user_id")
        if isinstance(user_id, int):
            user = services().accounts.user(user_id)
            if user is not None and not hmac.compare_digest(
                user.session_key, str(session.get("key", ""))
            ):
                user = None  # the password changed since this session began
        g.user = user
    return g.user  # type: ignore[no-any-return]


def current_author() -> str:
    """Who to name in the flow history for this request's edit."""
    user = current_user()
    return user.email if user else "unknown"


def team_names(bot: Bot) -> list[str]:
    """The bot's handoff teams, or its one default team when bot.yml lists none."""
    handoff = bot.settings.handoff
    return list(handoff.teams) or [handoff.default_team]
