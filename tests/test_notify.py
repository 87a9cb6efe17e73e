"""Team webhooks on a real HTTP server on 127.0.0.1: the body, retry with backoff,
failures recorded and shown in the console, and the member never waiting for it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from botbuilder.conversations.notify import Notifier, handoff_payload
from botbuilder.conversations.store import Storage


class Receiver:
    """A webhook endpoint that answers with the next status in `statuses` (then 200)."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.got = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.bodies.append(body)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")
                if status == 200:
                    receiver.got.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = Storage(f"sqlite:///{tmp_path / 'n.sqlite'}")
    yield store
    store.close()


PAYLOAD = handoff_payload(
    conversation_id="abc",
    conversation_url="http://bot.example/console/conversations/abc",
    team="leden",
    question="Mijn fiets is gestolen",
    language="nl",
    waiting_since=datetime(2025, 3, 3, 9, 30, tzinfo=UTC),
)


def test_the_body_suits_slack_teams_and_generic_receivers() -> None:
    assert PAYLOAD["text"].startswith("New chat waiting for team leden (nl)")
    assert "http://bot.example/console/conversations/abc" in PAYLOAD["text"]
    assert PAYLOAD["waiting_since"] == "2025-03-03T09:30:00Z"
    assert {"conversation_url", "team", "question", "language", "waiting_since"} <= set(PAYLOAD)


def test_a_failed_delivery_is_retried_with_backoff(storage: Storage) -> None:
    receiver = Receiver([500, 503])
    notifier = Notifier(storage, retry_delays=(0.05, 0.1, 0.2))
    notifier.send(receiver.url, PAYLOAD, conversation_id="abc", team="leden")
    notifier.wait()
    (delivery,) = notifier.deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert receiver.bodies[-1] == PAYLOAD and len(receiver.bodies) == 3
    receiver.close()


def test_giving_up_is_recorded_with_the_reason(storage: Storage) -> None:
    receiver = Receiver([500, 500, 500])
    notifier = Notifier(storage, retry_delays=(0.01, 0.01))
    notifier.send(receiver.url, PAYLOAD, conversation_id="abc", team="leden")
    notifier.send("http://127.0.0.1:9/nothing-listens", PAYLOAD, conversation_id="abc", team="x")
    notifier.wait()
    failed = {d.team: d for d in notifier.deliveries("failed")}
    assert (
        failed["leden"].attempts == 3
        and failed["leden"].last_error == "HTTP 500 Internal Server Error"
    )
    assert failed["x"].last_error and "cannot reach" in failed["x"].last_error
    receiver.close()


def _with_webhook(bot_dir: Path, url: str) -> Path:
    settings = yaml.safe_load((bot_dir / "bot.yml").read_text(encoding="utf-8"))
    settings["handoff"]["teams"]["leden"] = {"webhook": url}
    (bot_dir / "bot.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return bot_dir


def test_a_handoff_calls_the_teams_webhook_without_making_the_member_wait(
    app_factory, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver(delay=1.5)  # a slow receiver
    app = app_factory(_with_webhook(bot_dir, receiver.url))
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    started = time.monotonic()
    data = member.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"}
    ).json
    assert time.monotonic() - started < 1.0, "the member's request waited for the webhook"
    assert data["state"] == "waiting"
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    assert body["team"] == "leden" and body["question"] == "medewerker"
    assert body["language"] == "nl" and body["conversation_id"] == conversation
    assert body["conversation_url"].endswith(f"/console/conversations/{conversation}")
    assert body["text"] and body["waiting_since"].endswith("Z")
    app.extensions["botbuilder"].notifier.wait()
    app.extensions["botbuilder"].storage.close()
    receiver.close()


def test_failed_webhooks_are_visible_in_the_console(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(
        _with_webhook(bot_dir, "http://127.0.0.1:9/hook"), WEBHOOK_RETRY_DELAYS=(0.01,)
    )
    app.extensions["botbuilder"].accounts.add("ann@example.org", "correct horse battery", "agent")
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"})
    app.extensions["botbuilder"].notifier.wait()
    from tests.test_console import sign_in

    page = sign_in(app, "ann@example.org").get("/console").text
    assert "could not be delivered" in page and "cannot reach the webhook" in page
    app.extensions["botbuilder"].storage.close()
