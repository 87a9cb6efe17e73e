"""The application factory: the one place where a server's services are built and wired.

`create_app` reads the settings, builds every service once (storage, bot
runtime, handoff queue, dialogue, webhook notifier, accounts, flow editor),
wires the team webhooks to the dialogue's handoffs, and registers the
blueprints, which only route. Nothing here depends on which blueprints are
registered: the webhooks fire from the dialogue, whoever calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from botbuilder import __version__
from botbuilder.accounts import Accounts
from botbuilder.config import server_settings
from botbuilder.content.yaml_source import keep_parsed_in
from botbuilder.conversations.announcements import Announcements
from botbuilder.conversations.dialogue import Dialogue
from botbuilder.conversations.idempotency import IdempotencyKeys
from botbuilder.conversations.notify import Notifier, conversation_link, handoff_payload
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.rate_limits import DatabaseCounters, RateLimited, RateLimits
from botbuilder.conversations.store import ConversationRecord, HandoffRecord, Storage
from botbuilder.db.engine import database_url, private_file, private_folder
from botbuilder.editing.history import FlowHistory
from botbuilder.editing.publications import Publications
from botbuilder.editing.publishing import FlowSync
from botbuilder.editing.service import FlowEditor
from botbuilder.errors import BotbuilderError, RequestError, Unavailable
from botbuilder.insights.gaps import READ_PER_LOOK, GapFinder
from botbuilder.integrations.followup_replies import FollowUpReplies
from botbuilder.integrations.mail import Mailer, mailer_from_url
from botbuilder.jobs.schedule import JobServices, server_jobs
from botbuilder.jobs.scheduler import Scheduler
from botbuilder.matching.runtime import BotRuntime
from botbuilder.server import (
    admin,
    announcements,
    api,
    auth,
    browse,
    console,
    editor,
    headers,
    i18n,
    inbox,
    insights,
    localtime,
    logs,
    metrics,
    outage,
    pages,
    password_links,
    preferences,
    transfer,
)
from botbuilder.server.common import Services, error_response, services, team_names, web_root
from botbuilder.server.limits import refused
from botbuilder.server.proxies import TrustedProxies, parse_networks

__all__ = ["create_app", "follow_published_flows", "start_scheduler"]

log = logging.getLogger(__name__)
BLUEPRINTS = (
    api.blueprint,
    pages.blueprint,
    auth.blueprint,
    editor.blueprint,
    console.blueprint,
    transfer.blueprint,
    browse.blueprint,
    inbox.blueprint,
    insights.blueprint,
    admin.blueprint,
    password_links.blueprint,
    announcements.blueprint,
    preferences.blueprint,
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the server for one bot: settings → services → webhooks → blueprints."""
    settings = server_settings(config)
    web = web_root()
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(web / "templates"),
        static_folder=str(web / "static"),
        static_url_path="/static",
    )
    app.config.update(settings)
    logs.init_app(app)  # first: with BOTBUILDER_LOG_FORMAT=json even start-up logs are JSON
    app.json.sort_keys = False  # type: ignore[attr-defined]
    _configure_sessions(app, settings)
    # Only X-Forwarded-For from these proxies names the client (rate and login limits).
    trusted = parse_networks(settings["TRUSTED_PROXIES"])
    app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)  # type: ignore[method-assign]

    built = build_services(settings)
    app.extensions["botbuilder"] = built
    built.dialogue.handoff_listeners.append(_team_webhook(app, built))
    _warn_without_accounts(app, built.accounts)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_url_rule("/health", view_func=health)
    app.add_url_rule("/ready", view_func=ready)
    _register_errors(app)
    outage.init_app(app)  # database down: 503 JSON with Retry-After, not a 500
    headers.init_app(app)
    localtime.init_app(app)
    i18n.init_app(app)  # pages in the user's language (web/translations/)
    metrics.init_app(app)  # /metrics for BOTBUILDER_METRICS_TOKEN
    return app


def build_services(settings: Mapping[str, Any]) -> Services:
    """Every service of one server, each built once; the dialogue uses the same queue."""
    instance = private_folder(settings["INSTANCE_PATH"])  # holds the database and secrets
    keep_parsed_in(instance / "parsed")  # a restart reads flow files parsed before
    storage = Storage(
        database_url(settings["DATABASE_URL"], settings["INSTANCE_PATH"]),
        timeout=settings["DATABASE_TIMEOUT"],  # no request hangs on a lock (db/engine.py)
    )
    # The newest flows published in the database, or this folder published (docs/replicas.md).
    flow_sync = FlowSync(
        Publications(storage),
        settings["FLOWS_DIR"],
        instance,
        lock_path=instance / "flows.lock",
        history=FlowHistory(storage),
    )
    log.info("flows: %s", flow_sync.start())
    runtime = BotRuntime(
        settings["FLOWS_DIR"],
        cache_path=private_file(instance / "embeddings.sqlite"),
        check_interval=settings["RELOAD_INTERVAL"],
        quick=bool(settings.get("QUICK_START")),  # `serve`: a first start answers early
    )
    queue = HandoffQueue(storage, teams=lambda: team_names(runtime.current().bot))
    announcements = Announcements(storage)
    dialogue = Dialogue(runtime, storage, queue=queue, announcements=announcements)
    unclaimed = float(settings["HANDOFF_UNCLAIMED_AFTER"])
    dialogue.unclaimed_after = timedelta(seconds=unclaimed) if unclaimed > 0 else None
    mailer = mailer_from_url(settings["SMTP_URL"], settings["MAIL_FROM"])
    built = Services(
        runtime=runtime,
        storage=storage,
        dialogue=dialogue,
        queue=queue,
        notifier=Notifier(
            storage,
            retry_delays=settings["WEBHOOK_RETRY_DELAYS"],
            webhooks=lambda team: _webhook_of(runtime, team),  # as bot.yml has it at each try
        ),
        accounts=Accounts(storage),
        editor=FlowEditor(
            settings["FLOWS_DIR"],
            FlowHistory(storage),
            lock_path=instance / "flows.lock",
            sync=flow_sync,
        ),
        idempotency=IdempotencyKeys(storage),
        rate_limits=RateLimits(
            DatabaseCounters(storage),
            secret=settings["SECRET_KEY"],
            settings=lambda: runtime.current().bot.settings.limits,
        ),
        gaps=GapFinder(storage, runtime, read_per_look=READ_PER_LOOK),  # the rest read behind
        announcements=announcements,
        follow_up_replies=(
            FollowUpReplies(mailer, queue, lambda: runtime.current().bot) if mailer else None
        ),
        mailer=mailer,
    )
    return replace(built, scheduler=_scheduler(built, mailer, settings))


def _scheduler(built: Services, mailer: Mailer | None, settings: Mapping[str, Any]) -> Scheduler:
    """The daily purge and the weekly digest, once per period across replicas (not started)."""
    jobs = JobServices(
        database=built.storage,
        bot=lambda: built.runtime.current().bot,
        mailer=mailer,
        notifier=built.notifier,
        gaps=lambda: built.gaps.suggestions(),  # the inbox's own finder: one per app
        public_url=settings.get("PUBLIC_URL") or None,
    )
    return Scheduler(built.storage, server_jobs(jobs))


def start_scheduler(app: Flask) -> bool:
    """Start the app's scheduled jobs unless BOTBUILDER_SCHEDULER is off; `serve` calls it."""
    scheduler = app.extensions["botbuilder"].scheduler
    if scheduler is None or str(app.config.get("SCHEDULER", "on")).lower() in ("off", "0", "no"):
        return False
    scheduler.start()
    return True


def follow_published_flows(app: Flask) -> None:
    """Take in flows other replicas publish, within a second, and reload; `serve` calls it."""
    built = app.extensions["botbuilder"]
    if built.editor.sync is not None:
        built.editor.sync.follow(on_change=built.runtime.reload)


# -- team webhooks -------------------------------------------------------------------------


def _webhook_of(runtime: BotRuntime, team: str) -> str | None:
    config = runtime.current().bot.settings.handoff.teams.get(team)
    return config.webhook if config is not None and config.webhook else None


def _team_webhook(
    app: Flask, built: Services
) -> Callable[[HandoffRecord, ConversationRecord], None]:
    """The handoff listener that posts to the team's webhook from bot.yml, if it has one.

    Links go only on the configured public URL: the request's Host header is the
    member's to choose, so without BOTBUILDER_PUBLIC_URL the body has the path alone.
    """
    public_url = app.config.get("PUBLIC_URL") or None
    teams = built.runtime.current().bot.settings.handoff.teams.values()
    if public_url is None and any(team.webhook for team in teams):
        log.warning(
            "BOTBUILDER_PUBLIC_URL is not set, so team webhooks carry the console path of a "
            "conversation (/console/conversations/<id>) but no link. Set it to the address "
            "agents open this server on, e.g. BOTBUILDER_PUBLIC_URL=https://bot.example.org"
        )

    def notify(handoff: HandoffRecord, conversation: ConversationRecord) -> None:
        team = built.runtime.current().bot.settings.handoff.teams.get(handoff.team)
        if team is None or not team.webhook:
            return
        built.notifier.send(
            team.webhook,
            handoff_payload(
                conversation_id=conversation.id,
                conversation_url=conversation_link(public_url, conversation.id),
                team=handoff.team,
                question=handoff.question,
                language=conversation.language,
                waiting_since=handoff.created_at,
            ),
            conversation_id=conversation.id,
            team=handoff.team,
        )

    return notify


# -- sessions ------------------------------------------------------------------------------


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies over HTTPS, and still usable on http://127.0.0.1 in development."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def open_session(self, app: Flask, request: Any) -> Any:
        # Without a cookie (the API's callers) there is nothing to verify: skip building
        # the signing serializer, a fifth of a cached /api/v1/match request's CPU.
        # No Cookie header at all (the usual API call): not even the cookie parser runs.
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)


def _configure_sessions(app: Flask, settings: Mapping[str, Any]) -> None:
    """HttpOnly, SameSite=Lax session cookies that last a working day (see `auth`).

    Flask has its own defaults for the name ("session") and the lifetime (31 days),
    so `setdefault` would never apply ours: only the explicit settings win.
    The cookie is not re-signed on every request, so its signature's age (which
    Flask checks against the lifetime) counts from the login: 12 hours at most.
    """
    app.session_interface = _SessionInterface()
    app.config["SESSION_COOKIE_NAME"] = settings.get("SESSION_COOKIE_NAME") or "botbuilder_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.config["PERMANENT_SESSION_LIFETIME"] = settings.get(
        "PERMANENT_SESSION_LIFETIME"
    ) or timedelta(hours=12)


def _warn_without_accounts(app: Flask, accounts: Accounts) -> None:
    if accounts.count():
        return
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


# -- health and errors ---------------------------------------------------------------------


def health() -> Any:
    """`GET /health`: liveness for load balancers; nothing about paths or flow errors."""
    return jsonify(
        status="ok", version=__version__, bot=services().runtime.current().bot.settings.name
    )


def ready() -> Any:
    """`GET /ready`: 200 once the database answers and a bot is loaded, else a 503 JSON error."""
    built = services()
    try:
        with built.storage.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        matcher = built.runtime.current().matcher
    except Exception:  # any cause means "not ready"; the log has it, the public doesn't
        log.warning("not ready", exc_info=True)
        return error_response("not ready: the database or the bot is unavailable", 503)
    # "provisional": answering from a first index still being finished (matching/matcher.py).
    return jsonify(status="ready", index="provisional" if matcher.provisional else "complete")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def request_error(exc: RequestError) -> Any:
        if isinstance(exc, RateLimited):
            return refused(exc)
        response = error_response(exc.message, exc.status)
        if isinstance(exc, Unavailable):  # e.g. the matcher's queue is full
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            404: f"nothing at {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: "the request is too large",
        }
        return error_response(
            messages.get(exc.code or 500, exc.description or "error"), exc.code or 500
        )

    @app.errorhandler(BotbuilderError)
    def botbuilder_error(exc: BotbuilderError) -> Any:
        log.error("request failed: %s", exc)
        return error_response(exc.message, 503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response("something went wrong on our side; please try again", 500)
