"""`create_app` is the one composition root: it builds every service once, and the
blueprints only route, so the team webhooks fire whichever blueprints are there."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from botbuilder.server.common import Services

from .conftest import ROOT
from .test_notify import Receiver, _with_webhook

SERVER = ROOT / "botbuilder" / "server"
SERVICE_CLASSES = {
    "Accounts",
    "BotRuntime",
    "Dialogue",
    "FlowEditor",
    "FlowHistory",
    "HandoffQueue",
    "Notifier",
    "Storage",
}


def test_an_app_fires_the_team_webhook_on_a_handoff_via_the_api(
    app_factory: Any, bot_dir: Path
) -> None:
    receiver = Receiver()
    app = app_factory(_with_webhook(bot_dir, receiver.url))
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"})
    built: Services = app.extensions["botbuilder"]
    built.notifier.wait()
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    assert body["conversation_id"] == conversation and body["team"] == "leden"
    (delivery,) = built.notifier.deliveries()
    assert delivery.status == "delivered"
    built.storage.close()
    receiver.close()


def test_the_dialogue_and_the_console_share_one_queue(app: Any) -> None:
    built: Services = app.extensions["botbuilder"]
    assert built.dialogue.queue is built.queue
    assert built.queue.teams is not None and built.queue.teams() == ["leden", "nacht"]


def _built_in(path: Path) -> list[str]:
    """Service classes constructed, and blueprint setup hooks used, in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in SERVICE_CLASSES:
                found.append(f"builds {node.func.id}")
        if isinstance(node, ast.Attribute) and node.attr in ("record", "record_once"):
            found.append(f"uses blueprint.{node.attr}")
    return found


def test_blueprints_only_route_and_build_no_services() -> None:
    wrong = {
        path.name: found
        for path in sorted(SERVER.glob("*.py"))
        if path.name != "app.py" and (found := _built_in(path))
    }
    assert wrong == {}
