"""The webhook outbox on a real database (SQLite, and PostgreSQL when set) with real HTTP
receivers on 127.0.0.1: deliveries survive a restart, a delivery held by a process that
died is taken over when its lease runs out, two processes deliver each row exactly once,
and a receiver that hangs holds a worker no longer than the timeout."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from botbuilder.conversations.notify import Notifier
from botbuilder.conversations.outbox import Outbox, WebhookDelivery
from botbuilder.conversations.store import Storage


class Receiver:
    """A webhook endpoint on 127.0.0.1: fails the first `failures` posts with 500, takes
    `delay` seconds over each, or with `hang=True` never answers until closed."""

    def __init__(self, failures: int = 0, delay: float = 0.0, hang: bool = False) -> None:
        self.failures, self.delay, self.hang = failures, delay, hang
        self.posts = 0
        self.bodies: list[dict[str, Any]] = []  # the accepted ones
        self.keys: list[tuple[str | None, str | None]] = []  # every post's delivery headers
        self.closing = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver.lock:
                    receiver.keys.append(
                        (
                            self.headers.get("Idempotency-Key"),
                            self.headers.get("X-Botbuilder-Delivery"),
                        )
                    )
                if receiver.hang:
                    receiver.closing.wait(30)
                    return
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.posts += 1
                    ok = receiver.posts > receiver.failures
                    if ok:
                        receiver.bodies.append(body)
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


def _payload(conversation_id: str) -> dict[str, Any]:
    return {"text": "New chat waiting", "conversation_id": conversation_id}


def _eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_delivery_pending_when_its_process_stops_is_delivered_by_the_next_one(
    database_url: str,
) -> None:
    hook = Receiver(failures=1)
    first = Storage(database_url)
    before = Notifier(first, retry_delays=(0.3, 0.3))
    before.send(hook.url, _payload("abc"), conversation_id="abc", team="leden")
    _eventually(lambda: before.deliveries()[0].attempts == 1 and before.deliveries()[0].last_error)
    before.close()  # the process stops with its retry still to come
    first.close()
    look = Storage(database_url)
    (left,) = Notifier(look).deliveries()
    look.close()
    assert left.status == "pending" and left.last_error == "HTTP 500 Internal Server Error"

    second = Storage(database_url)  # the restarted process: new engine, no memory of the URL
    after = Notifier(second, retry_delays=(0.3, 0.3), webhooks={"leden": hook.url}.get)
    after.start()
    assert after.wait(10)
    (delivery,) = after.deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert hook.bodies == [_payload("abc")] and hook.posts == 2
    after.close()
    second.close()
    hook.close()


def test_a_delivery_held_by_a_process_that_died_is_taken_over_when_its_lease_ends(
    database_url: str, receiver: Receiver
) -> None:
    storage = Storage(database_url)
    outbox = Outbox(storage)
    queued = outbox.add("abc", "leden", json.dumps(_payload("abc")), **_bounds())
    assert isinstance(queued, int)
    (held,) = outbox.claim(1, timedelta(seconds=0.5))  # a worker that then died
    assert held.attempt == 1
    assert outbox.claim(1, timedelta(seconds=30)) == [], "a held delivery was claimed twice"
    notifier = Notifier(storage, retry_delays=(0.1, 0.1), webhooks={"leden": receiver.url}.get)
    notifier.start()
    assert notifier.wait(10)
    (delivery,) = notifier.deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert receiver.bodies == [_payload("abc")]
    # The dead worker comes back too late: its lease is gone, and its result is not recorded.
    assert not outbox.finish(held, "HTTP 500", retry_in=1.0)
    assert notifier.deliveries()[0].status == "delivered"
    notifier.close()
    storage.close()


def test_every_attempt_of_a_delivery_carries_one_key_so_a_receiver_can_drop_a_repeat(
    database_url: str,
) -> None:
    hook = Receiver(failures=1)  # the first post fails, the retry is accepted
    storage = Storage(database_url)
    outbox = Outbox(storage)
    first = outbox.add("abc", "leden", json.dumps(_payload("abc")), **_bounds())
    second = outbox.add("def", "leden", json.dumps(_payload("def")), **_bounds())
    assert isinstance(first, int) and isinstance(second, int)
    # A replica posted the first delivery, the receiver took it, and the replica died
    # before recording it: its lease runs out and another replica posts it again.
    (held,) = outbox.claim(1, timedelta(seconds=0.3))
    assert held.id == first and len(held.key) == 32
    notifier = Notifier(storage, retry_delays=(0.1, 0.1), webhooks={"leden": hook.url}.get)
    notifier.start()
    _eventually(lambda: {d.status for d in notifier.deliveries()} == {"delivered"})
    posted = Counter(key for key, _ in hook.keys)
    assert all(key == repeated for key, repeated in hook.keys)  # both headers, one value
    assert posted[held.key] >= 1  # the repeat carries the key the dead replica had sent
    assert len(posted) == 2 and sum(posted.values()) == hook.posts == 3  # one retried
    assert all(len(key or "") == 32 for key in posted)  # two deliveries, two keys
    notifier.close()
    storage.close()
    hook.close()


def _bounds() -> dict[str, Any]:
    return {"dedupe_window": timedelta(minutes=10), "per_minute": 1000}


def test_two_processes_on_one_database_deliver_each_row_exactly_once(database_url: str) -> None:
    hook = Receiver(delay=0.01)
    stores = [Storage(database_url), Storage(database_url)]
    outbox = Outbox(stores[0])
    ids = [f"c{n}" for n in range(60)]
    for conversation in ids:
        outbox.add(conversation, "leden", json.dumps(_payload(conversation)), **_bounds())
    notifiers = [
        Notifier(store, retry_delays=(0.1,), webhooks={"leden": hook.url}.get, poll_interval=0.05)
        for store in stores
    ]
    for notifier in notifiers:
        notifier.start()
    assert all(notifier.wait(20) for notifier in notifiers)
    delivered = Counter(body["conversation_id"] for body in hook.bodies)
    assert sorted(delivered) == sorted(ids) and set(delivered.values()) == {1}
    rows = notifiers[0].deliveries(limit=100)
    assert {(d.status, d.attempts) for d in rows} == {("delivered", 1)} and len(rows) == 60
    for notifier, store in zip(notifiers, stores, strict=True):
        notifier.close()
        store.close()
    hook.close()


def test_a_hanging_receiver_holds_a_worker_no_longer_than_the_timeout(
    tmp_path: Any, receiver: Receiver
) -> None:
    hanging = Receiver(hang=True)
    storage = Storage(f"sqlite:///{tmp_path / 'o.sqlite'}")
    hooks = {"a": hanging.url, "b": hanging.url, "c": hanging.url, "good": receiver.url}
    notifier = Notifier(storage, retry_delays=(60.0,), timeout=0.5, workers=2, webhooks=hooks.get)
    started = time.monotonic()
    for team in ("a", "b", "c", "good"):  # the hanging ones first, more of them than workers
        notifier.send(hooks[team], _payload(team), conversation_id=team, team=team)
    _eventually(lambda: receiver.bodies, timeout=10)
    # Two workers: the first two hanging posts time out (0.5 s), then the next ones go.
    assert time.monotonic() - started < 3.0, "a hanging webhook held the others up"
    _eventually(lambda: all(d.last_error for d in notifier.deliveries() if d.team != "good"))
    assert len(notifier.deliveries("pending")) == 3  # each to be retried later
    errors = {d.team: d.last_error for d in notifier.deliveries()}
    assert errors["good"] is None
    assert all("timed out" in (errors[t] or "") for t in "abc"), errors
    notifier.close()
    storage.close()
    hanging.close()


def test_the_body_is_kept_only_while_the_delivery_is_pending(
    tmp_path: Any, receiver: Receiver
) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'o.sqlite'}")
    outbox = Outbox(storage)
    outbox.add("abc", "leden", json.dumps(_payload("Mijn fiets is gestolen")), **_bounds())
    with storage.session() as s:
        (row,) = s.query(WebhookDelivery).all()
        assert row.body and "Mijn fiets" in row.body and row.next_attempt_at is not None
    notifier = Notifier(storage, webhooks={"leden": receiver.url}.get)
    notifier.start()
    assert notifier.wait(10)
    with storage.session() as s:
        (row,) = s.query(WebhookDelivery).all()
        assert row.status == "delivered" and row.body is None and row.claim_token is None
    assert notifier.depth() == 0
    notifier.close()
    storage.close()


def test_the_outbox_depth_counts_pending_deliveries_of_every_process(tmp_path: Any) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'o.sqlite'}")
    outbox = Outbox(storage)
    for conversation in ("a", "b", "c"):
        outbox.add(conversation, "leden", "{}", **_bounds())
    notifier = Notifier(storage)  # knows no webhook: claims nothing
    assert notifier.depth() == 3 and notifier.wait(0.1)
    storage.close()


def test_the_upgrade_gives_up_deliveries_that_older_versions_kept_in_memory(
    database_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from botbuilder.db.engine import database_url as engine_url
    from botbuilder.db.migrations import alembic_config, upgrade

    engine = create_engine(engine_url(database_url, "."))
    upgrade(engine, "0014")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO webhook_deliveries (conversation_id, team, status, attempts, "
                "created_at, updated_at) VALUES ('abc', 'leden', 'pending', 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(engine)
    storage = Storage(database_url)
    (old,) = Notifier(storage).deliveries()
    assert old.status == "failed" and "before an upgrade" in (old.last_error or "")
    storage.close()
    with engine.begin() as connection:  # and back down again
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        columns = {c["name"] for c in inspect(connection).get_columns("webhook_deliveries")}
    assert "claim_token" not in columns and "body" not in columns
    engine.dispose()


def test_a_handoff_queued_on_one_replica_is_posted_by_another_from_its_bot_yml(
    app_factory, bot_dir: Any, receiver: Receiver
) -> None:  # type: ignore[no-untyped-def]
    from tests.test_notify import _hand_off, _with_webhook

    flows = _with_webhook(bot_dir, receiver.url)
    stopped = app_factory(flows)
    stopped.extensions["botbuilder"].notifier.close()  # a replica that stops at once
    conversation = _hand_off(stopped)
    (queued,) = stopped.extensions["botbuilder"].notifier.deliveries()
    assert queued.status == "pending" and queued.attempts == 0 and not receiver.bodies
    other = app_factory(flows)  # same database; the URL only from its own bot.yml
    notifier = other.extensions["botbuilder"].notifier
    notifier.start()
    assert notifier.wait(10)
    (body,) = receiver.bodies
    assert body["conversation_id"] == conversation and body["team"] == "leden"
    assert notifier.deliveries()[0].status == "delivered"
    notifier.close()
    for app in (stopped, other):
        app.extensions["botbuilder"].storage.close()
