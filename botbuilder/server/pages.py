"""Public pages: the demo site at `/` and the widget's script."""

from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from botbuilder.server.app import services, web_root

__all__ = ["blueprint"]

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
def demo() -> ResponseReturnValue:
    """A plausible community site with the widget on it: the product at a glance."""
    bot = services().runtime.current().bot
    return render_template("demo.html", bot=bot.settings)


@blueprint.get("/widget.js")
def widget_script() -> ResponseReturnValue:
    response = send_from_directory(web_root() / "static", "widget.js", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, like any CDN file
    return response
