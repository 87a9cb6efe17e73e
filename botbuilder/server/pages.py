"""Public pages: the demo site at `/`, the widget's script and settings, and the API's description.

All of them answer any origin: the script and its settings are as public as a
CDN file. The settings endpoint, `GET /api/v1/widget-config`, lives here and
not in `api.py` on purpose: the conversation endpoints refuse an origin that
is not in `widget.allowed_origins`, and a browser hides that 403 from the page
behind a CORS failure that looks like a network error. The settings tell the
widget whether its page may chat, so it can say so in plain words. The API's
OpenAPI document, `GET /api/v1/openapi.json`, is `web/openapi.yaml` as JSON;
a test keeps it in step with the routes.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from flask import Blueprint, jsonify, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue

# api.py owns the origin rule; both blueprints apply the same one.
from botbuilder.server.api import allowed_origin
from botbuilder.server.common import services, web_root
from botbuilder.server.compression import compress_files

__all__ = ["blueprint", "openapi_document", "widget_config"]

blueprint = Blueprint("pages", __name__)
blueprint.after_app_request(compress_files)  # /widget.js and /static/: gzip, ETag, caching


@blueprint.get("/")
def demo() -> ResponseReturnValue:
    """A plausible community site with the widget on it: the product at a glance."""
    bot = services().runtime.current().bot
    # ?lang=en shows the same page with the widget in another of the bot's languages.
    language = request.args.get("lang")
    if language not in bot.languages:
        language = None
    return render_template("demo.html", bot=bot.settings, language=language)


@blueprint.get("/widget.js")
def widget_script() -> ResponseReturnValue:
    response = send_from_directory(web_root() / "static", "widget.js", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, like any CDN file
    return response


def widget_config(origin: str | None) -> dict[str, Any]:
    """The bot.yml `widget:` settings a page may see, and whether `origin` may chat."""
    settings = services().runtime.current().bot.settings
    widget = settings.widget
    return {
        "name": settings.name,
        "language": settings.language,
        "languages": list(settings.languages),
        "title": widget.title,
        "titles": dict(widget.titles),  # per language; the widget shows the member's
        "color": widget.color,
        "position": widget.position,
        "logo": widget.logo,
        "welcome": dict(widget.welcome),
        "greeting": dict(settings.greeting),
        "offline": dict(settings.handoff.offline_message),
        "privacy_url": widget.privacy_url,
        "origin_allowed": origin is None or allowed_origin(origin),
    }


@blueprint.get("/api/v1/widget-config")
def widget_settings() -> ResponseReturnValue:
    response = jsonify(widget_config(request.headers.get("Origin")))
    response.headers["Access-Control-Allow-Origin"] = "*"
    # The answer depends on Origin; a minute of caching keeps bot.yml edits quick to show.
    response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The HTTP API's OpenAPI document, shipped as web/openapi.yaml; read once per process."""
    text = (web_root() / "openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


@blueprint.get("/api/v1/openapi.json")
def openapi() -> ResponseReturnValue:
    response = jsonify(openapi_document())
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public description, like the script
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
