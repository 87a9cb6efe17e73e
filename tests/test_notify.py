"""Team webhooks on a real HTTP server on 127.0.0.1: the body, retry with backoff,
failures recorded and shown in the console, and the member never waiting for it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from botbuilder.conversations.notify import Notifier, handoff_payload
from botbuilder.conversations.store import Storage


class Receiver:
    """A webhook endpoint that answers with the next status in `statuses` (then 200).

    With `hold=True` it answers only once `release` is set: a request that waited
    for it could not have come back before the release."""

    def __init__(self, statuses: list[int] | None = None, hold: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.bodies: list[dict[str, Any]] = []
        self.got = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.release.wait(30)
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
    receiver = Receiver(hold=True)  # answers only when the test says so
    app = app_factory(_with_webhook(bot_dir, receiver.url))
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    data = member.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"}
    ).json
    # The member has the reply while the webhook is still unanswered: no waiting on it.
    assert not receiver.got.is_set(), "the member's request waited for the webhook"
    assert data["state"] == "waiting"
    receiver.release.set()
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    assert body["team"] == "leden" and body["question"] == "medewerker"
    assert body["language"] == "nl" and body["conversation_id"] == conversation
    assert body["conversation_url"].endswith(f"/console/conversations/{conversation}")
    assert body["text"] and body["waiting_since"].endswith("Z")
    notifier = app.extensions["botbuilder"].notifier
    notifier.wait()
    assert not notifier.deliveries(status="failed"), "the held webhook call timed out"
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


# -- what a member cannot put in the team's channel ------------------------------------------


def _hand_off(app: Any, text: str = "medewerker", **headers: str) -> str:
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}, headers=headers).json[
        "conversation_id"
    ]
    said = member.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers
    ).json
    assert said["state"] == "waiting"
    return str(conversation)


def test_without_a_public_url_the_link_never_takes_the_members_host_header(
    app_factory, bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    with caplog.at_level("WARNING", logger="botbuilder.server.app"):
        app = app_factory(_with_webhook(bot_dir, receiver.url))
    assert "BOTBUILDER_PUBLIC_URL is not set" in caplog.text
    conversation = _hand_off(app, Host="evil.example")
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    assert "evil.example" not in json.dumps(body) and "localhost" not in json.dumps(body)
    assert body["conversation_url"] == f"/console/conversations/{conversation}"
    assert body["text"].endswith(f" /console/conversations/{conversation}")
    app.extensions["botbuilder"].notifier.wait()
    app.extensions["botbuilder"].storage.close()
    receiver.close()


def test_with_a_public_url_the_link_is_on_it_whatever_the_host_header(
    app_factory, bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    with caplog.at_level("WARNING", logger="botbuilder.server.app"):
        app = app_factory(
            _with_webhook(bot_dir, receiver.url), PUBLIC_URL="https://bot.example.org/"
        )
    assert "BOTBUILDER_PUBLIC_URL" not in caplog.text
    conversation = _hand_off(app, Host="evil.example")
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    link = f"https://bot.example.org/console/conversations/{conversation}"
    assert body["conversation_url"] == link and body["text"].endswith(f" {link}")
    assert "evil.example" not in json.dumps(body)
    app.extensions["botbuilder"].notifier.wait()
    app.extensions["botbuilder"].storage.close()
    receiver.close()


ATTACK = "medewerker <!channel> <https://evil.test|Open in the console> & [hier](https://evil.test) ![x](https://evil.test/p.png)"


def test_the_members_text_is_escaped_for_slack_and_teams_markup(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    app = app_factory(_with_webhook(bot_dir, receiver.url), PUBLIC_URL="https://bot.example.org")
    _hand_off(app, ATTACK)
    assert receiver.got.wait(10)
    (body,) = receiver.bodies
    text = body["text"]
    assert "<" not in text and ">" not in text  # no Slack link, mention or special command
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.test|Open in the console&gt;" in text
    assert " &amp; " in text and "&amp;lt;" not in text  # & first, so nothing twice
    assert "](" not in text  # no Markdown link or image for Teams
    assert "[hier]\u200b(https://evil.test)" in text
    assert text.replace("\u200b", "").count("](") == 2  # the same words when shown
    assert body["question"] == ATTACK  # generic receivers get what the member typed
    app.extensions["botbuilder"].notifier.wait()
    app.extensions["botbuilder"].storage.close()
    receiver.close()


def test_webhook_failures_are_logged_with_the_team_never_the_url(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "http://127.0.0.1:9/services/T000/B000/s3cr3t"
    bad_scheme = "htp://127.0.0.1:9/services/T111/s3cr3t"
    control = "http://127.0.0.1:9/services/T222/s3 cr3t"
    notifier = Notifier(storage, retry_delays=(0.01,))
    with caplog.at_level("WARNING", logger="botbuilder.conversations.notify"):
        notifier.send(secret, PAYLOAD, conversation_id="abc", team="leden")
        notifier.send(bad_scheme, PAYLOAD, conversation_id="abc", team="nacht")
        notifier.send(control, PAYLOAD, conversation_id="abc", team="dag")
        notifier.wait()
    assert "webhook of team leden: attempt 1 of 2 failed: cannot reach the webhook" in caplog.text
    assert "webhook of team nacht" in caplog.text and "webhook of team dag" in caplog.text
    recorded = " ".join(d.last_error or "" for d in notifier.deliveries())
    for shown in (caplog.text, recorded):
        assert "s3cr3t" not in shown and "s3 cr3t" not in shown and "T000" not in shown
        assert "127.0.0.1" not in shown
    assert {d.status for d in notifier.deliveries()} == {"failed"}


# -- bounded: one notification per handoff, a per-team limit, a few threads --------------------


def _hand_off_from(app: Any, address: str, text: str = "medewerker") -> str:
    member = app.test_client()
    member.environ_base["REMOTE_ADDR"] = address  # one member each, as in a real flood
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    said = member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text})
    assert said.json["state"] == "waiting"
    return str(conversation)


def test_a_hundred_handoffs_send_at_most_the_team_limit_on_a_few_threads(
    app_factory, bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    app = app_factory(_with_webhook(bot_dir, receiver.url))
    notifier = app.extensions["botbuilder"].notifier
    before = threading.active_count()
    counts: list[int] = []
    done = threading.Event()

    def sample() -> None:  # the most threads alive at any moment of the flood
        while not done.wait(0.002):
            counts.append(threading.active_count())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with caplog.at_level("WARNING", logger="botbuilder.conversations.notify"):
        for n in range(100):
            _hand_off_from(app, f"10.0.0.{n + 1}")
    notifier.wait()
    done.set()
    sampler.join()
    # 4 workers, a receiver thread per request under way, the sampler, whatever the app starts.
    assert max(counts) - before <= 20, f"{max(counts) - before} threads for 100 handoffs"
    assert len(receiver.bodies) == notifier.per_minute == 20
    assert len({b["conversation_id"] for b in receiver.bodies}) == 20
    assert "webhook of team leden: over 20 notifications a minute, 80 dropped so far" in caplog.text
    assert len(notifier.deliveries(limit=1000)) == 20
    app.extensions["botbuilder"].storage.close()
    receiver.close()


def test_a_conversation_handed_off_twice_notifies_its_team_once(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    app = app_factory(_with_webhook(bot_dir, receiver.url))
    built = app.extensions["botbuilder"]
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    url = f"/api/v1/conversations/{conversation}/messages"
    assert member.post(url, json={"text": "medewerker"}).json["state"] == "waiting"
    built.notifier.wait()
    # An agent takes it and hands it back; the member asks for a person again at once.
    built.queue.claim(conversation, "ann@example.org")
    built.queue.hand_back(conversation, "ann@example.org")
    assert member.post(url, json={"text": "medewerker"}).json["state"] == "waiting"
    built.notifier.wait()
    assert [e.conversation.id for e in built.queue.waiting()] == [conversation]
    assert len(receiver.bodies) == 1 and receiver.bodies[0]["conversation_id"] == conversation
    assert len(built.notifier.deliveries()) == 1
    built.storage.close()
    receiver.close()


def test_the_deliveries_table_holds_no_webhook_url(storage: Storage) -> None:
    secret = "http://127.0.0.1:9/services/T000/B000/s3cr3t"
    notifier = Notifier(storage, retry_delays=(0.01,))
    notifier.send(secret, PAYLOAD, conversation_id="abc", team="leden")
    notifier.wait()
    with storage.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM webhook_deliveries").all()
    assert len(rows) == 1 and "leden" in rows[0]
    stored = " ".join(str(value) for value in rows[0])
    assert "s3cr3t" not in stored and "127.0.0.1" not in stored and "T000" not in stored
