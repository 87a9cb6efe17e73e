"""The application factory and what every request shares."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from botbuilder import __version__
from botbuilder.config import server_settings
from botbuilder.conversations.dialogue import Dialogue
from botbuilder.conversations.store import Storage, database_url
from botbuilder.errors import BotbuilderError, RequestError
from botbuilder.matching.runtime import BotRuntime

__all__ = ["Services", "create_app", "services"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    runtime: BotRuntime
    storage: Storage
    dialogue: Dialogue


def services() -> Services:
    return current_app.extensions["botbuilder"]  # type: ignore[no-any-return]


def web_root() -> Path:
    """The web/ assets (templates, static files), shipped inside the package."""
    return Path(str(files("botbuilder.web")))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the server for one bot: settings → storage → bot runtime → blueprints."""
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
    app.json.sort_keys = False  # type: ignore[attr-defined]

    storage = Storage(database_url(settings["DATABASE_URL"], settings["INSTANCE_PATH"]))
    runtime = BotRuntime(
        settings["FLOWS_DIR"],
        cache_path=Path(settings["INSTANCE_PATH"]) / "embeddings.sqlite",
        check_interval=settings["RELOAD_INTERVAL"],
    )
    app.extensions["botbuilder"] = Services(runtime, storage, Dialogue(runtime, storage))

    from botbuilder.server import api, pages

    app.register_blueprint(api.blueprint)
    app.register_blueprint(pages.blueprint)
    from botbuilder.server import auth, console, editor, transfer

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(editor.blueprint)
    app.register_blueprint(console.blueprint)
    app.register_blueprint(transfer.blueprint)
    _register_errors(app)

    @app.get("/health")
    def health() -> Any:
        loaded = runtime.current()
        return jsonify(
            status="ok",
            version=__version__,
            bot=loaded.bot.settings.name,
            languages=list(loaded.bot.languages),
            intents=len(loaded.bot.intent_ids()),
            thresholds={
                "answer": loaded.matcher.thresholds.answer,
                "clarify": loaded.matcher.thresholds.clarify,
            },
            flows_error=str(runtime.last_error) if runtime.last_error else None,
        )

    return app


def error_response(message: str, status: int) -> Any:
    """The one JSON error shape: {"ok": false, "error": …, "status": …}."""
    response = jsonify(ok=False, error=message, status=status)
    response.status_code = status
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def request_error(exc: RequestError) -> Any:
        return error_response(exc.message, exc.status)

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
