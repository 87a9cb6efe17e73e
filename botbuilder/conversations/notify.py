"""Webhooks to a team's chat channel on each new handoff.

One JSON body serves Slack and Microsoft Teams incoming webhooks (both show
its `text` field) and generic receivers (the other fields). A delivery is
first a row in the outbox (`outbox.py`, the deliveries table), so the member's
request never waits for it and it survives a restart. A small pool of worker
threads per process (`WORKERS`, however many handoffs come in) claims due rows,
each row by one worker of one replica, and posts them with a short `TIMEOUT`;
failures are retried with backoff kept in the row, every attempt is recorded
(so the console can show deliveries that failed), and after the last attempt
the delivery is given up. Delivery is at least once (a replica that dies after
the receiver answered, before recording it, leaves the row to be posted again),
so every attempt of one delivery carries the same `Idempotency-Key` and
`X-Botbuilder-Delivery` header: a receiver that keeps the keys it saw can drop
a repeat (docs/webhooks.md).

Anyone can start chats, so notifications are bounded, counted from the
deliveries table (shared by every replica on one database, so the bounds hold
across replicas, give or take handoffs that arrive at the same instant):
- one per conversation and team per handoff episode: while an earlier delivery
  for them, made within `DEDUPE_WINDOW`, is pending or delivered, another is
  skipped and not recorded (a failed one does not count, so a later handoff
  tries again);
- at most `per_minute` per team in any minute; beyond it a notification is
  dropped (not recorded) with a warning that counts the drops, as the
  console's queue shows every waiting chat anyway.

Anyone can start a chat, so two things in the body are never the member's to
choose. The link to the conversation is built only on the configured public
URL (`BOTBUILDER_PUBLIC_URL`), never on the request's Host header, which the
member sends; without it the body carries the console path alone. And the
member's words are made inert in `text` (see `chat_text`), so a question
cannot ping `<!channel>` or dress a link to anywhere as the console.

A webhook URL is a secret (whoever has it can post to the channel), so logs and
recorded errors name the team and what went wrong, never the URL or its host,
and a delivery's row names only the team: the URL is looked up by team in
bot.yml (`webhooks`) for each attempt, or held in memory by the process that
was handed it, and never stored.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from botbuilder.conversations.outbox import Claimed, DeliveryRecord, Outbox, WebhookDelivery
from botbuilder.db.base import utcnow
from botbuilder.db.engine import Database

__all__ = [
    "DeliveryRecord",
    "Notifier",
    "WebhookDelivery",
    "chat_text",
    "conversation_link",
    "handoff_payload",
]

log = logging.getLogger(__name__)

# Seconds to wait before each retry: four tries over about a minute and a half.
RETRY_DELAYS = (2.0, 10.0, 60.0)
# Seconds per attempt (connecting, and each wait for the receiver's answer): a slow hook
# holds one of the `WORKERS` for this long, never minutes, and is retried later.
TIMEOUT = 5.0
POLL_INTERVAL = 2.0  # seconds between looks for deliveries other processes queued
USER_AGENT = "botbuilder-webhook/1"
WORKERS = 4  # threads that post webhooks, for all teams together
PER_MINUTE = 20  # notifications per team per minute, at most
DEDUPE_WINDOW = timedelta(minutes=10)


def conversation_link(public_url: str | None, conversation_id: str) -> str:
    """The conversation in the agent console: absolute on the public URL, else just the path."""
    path = f"/console/conversations/{conversation_id}"
    return public_url.rstrip("/") + path if public_url else path


def chat_text(text: str) -> str:
    """`text` shown as itself in Slack and Teams, never as markup.

    Slack reads `<…>` as links and mentions (`<!channel>`, `<https://x|label>`) and
    wants `&`, `<` and `>` escaped as `&amp;`, `&lt;` and `&gt;`. Teams reads Markdown
    links (`[label](url)`, `[label][ref]`, `[ref]: url`); a zero-width space after
    every `]` breaks each of them without changing what the text looks like.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("]", "]\u200b")


def handoff_payload(
    *,
    conversation_id: str,
    conversation_url: str,
    team: str,
    question: str,
    language: str,
    waiting_since: datetime,
) -> dict[str, Any]:
    """The webhook body: `text` for Slack and Teams, the fields as they are for everyone else.

    `conversation_url` comes from `conversation_link`: absolute only on the public URL.
    """
    quoted = chat_text(question if len(question) <= 300 else question[:299] + "…")
    waiting = f"New chat waiting for team {chat_text(team)} ({chat_text(language)})"
    return {
        "text": f'{waiting}: "{quoted}" {conversation_url}',
        "event": "handoff",
        "conversation_id": conversation_id,
        "conversation_url": conversation_url,
        "team": team,
        "question": question,
        "language": language,
        "waiting_since": waiting_since.isoformat().replace("+00:00", "Z"),
    }


class Notifier:
    """Queues webhooks in the outbox and posts them from a bounded pool of worker threads.

    One dispatcher thread claims due deliveries, as many as there are idle workers,
    and hands them to the pool. After `send` it runs until the outbox has nothing
    left for this process; after `start` (the server does it) it also polls every
    `poll_interval` seconds for deliveries that other processes queued or left
    behind. `webhooks(team)` gives a team's URL as bot.yml has it now; without it,
    only the URLs handed to `send` in this process are known, and only their
    teams' deliveries are claimed.
    """

    def __init__(
        self,
        database: Database,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = TIMEOUT,
        per_minute: int = PER_MINUTE,
        workers: int = WORKERS,
        *,
        webhooks: Callable[[str], str | None] | None = None,
        lease: float | None = None,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.database = database
        self.outbox = Outbox(database)
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.per_minute = per_minute
        self.workers = workers
        self.webhooks = webhooks
        # Longer than any attempt can take, so a live worker never loses its delivery.
        self.lease = timedelta(seconds=lease if lease is not None else 3 * timeout + 15)
        self.poll_interval = poll_interval
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._urls: dict[str, str] = {}  # per team, as handed to `send` in this process
        self._dropped: dict[str, int] = {}  # per team, since its last delivery
        self._busy = 0  # deliveries on the workers
        self._dispatcher: threading.Thread | None = None
        self._polling = False
        self._closed = False

    @property
    def attempts(self) -> int:
        """Attempts per delivery before it is given up: the first and one per retry delay."""
        return len(self.retry_delays) + 1

    def send(
        self, url: str, payload: dict[str, Any], *, conversation_id: str, team: str
    ) -> int | None:
        """Queue one delivery and return at once; the id names it in `deliveries()`.

        None when it is skipped: the conversation's team already has it, or the
        team had its `per_minute` notifications in the last minute."""
        body = json.dumps(payload)
        with self._lock:
            self._urls[team] = url
            added = self.outbox.add(
                conversation_id,
                team,
                body,
                dedupe_window=DEDUPE_WINDOW,
                per_minute=self.per_minute,
            )
            if added == "over limit":
                dropped = self._dropped[team] = self._dropped.get(team, 0) + 1
                log.warning(
                    "webhook of team %s: over %d notifications a minute, %d dropped so far",
                    team,
                    self.per_minute,
                    dropped,
                )
            if isinstance(added, str):
                return None
            self._dropped.pop(team, None)
            self._run_dispatcher()
        self._wake.set()
        return added

    def start(self) -> None:
        """Keep delivering: also what other processes queued, or left when they stopped."""
        with self._lock:
            self._polling = True
            self._run_dispatcher()

    def close(self, timeout: float = 5.0) -> None:
        """Stop claiming; attempts under way finish (for tests and orderly shutdown)."""
        with self._lock:
            self._closed = True
            dispatcher = self._dispatcher
        self._wake.set()
        if dispatcher is not None:
            dispatcher.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until this process has no delivery left to try; False if still busy at `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                busy = self._busy
            if not busy and self.outbox.next_due(self._teams()) is None:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def deliveries(self, status: str | None = None, limit: int = 20) -> list[DeliveryRecord]:
        """The latest deliveries, newest first."""
        return self.outbox.deliveries(status, limit)

    def depth(self) -> int:
        """Deliveries still pending, queued by any process."""
        return self.outbox.depth()

    # -- the dispatcher and its workers ----------------------------------------------------

    def _teams(self) -> list[str] | None:
        """The teams whose deliveries this process can make; None: every team (bot.yml's)."""
        return None if self.webhooks is not None else list(self._urls)

    def _run_dispatcher(self) -> None:
        """Start the dispatcher unless it runs (call with the lock held)."""
        if self._dispatcher is None and not self._closed:
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="webhook-dispatcher", daemon=True
            )
            self._dispatcher.start()

    def _dispatch(self) -> None:
        while True:
            try:
                pause = self._dispatch_once()
            except Exception:  # the database going away must not stop deliveries for good
                log.exception("cannot claim webhook deliveries")
                pause = self.poll_interval
            if pause is None:
                return  # `_dispatch_once` let go of the dispatcher
            self._wake.wait(pause)
            self._wake.clear()

    def _dispatch_once(self) -> float | None:
        """Claim what the idle workers can take; the seconds to wait, or None once stopped."""
        with self._lock:
            if self._closed:
                self._dispatcher = None
                return None
            idle = self.workers - self._busy
        claimed = self.outbox.claim(idle, self.lease, self._teams())
        for delivery in claimed:
            with self._lock:
                self._busy += 1
            self._pool.submit(self._attempt, delivery)
        if idle <= 0 or len(claimed) == idle:
            return self.poll_interval  # a worker that finishes wakes the dispatcher
        # Decided and let go under the lock: a `send` either sees the dispatcher still
        # running (and this look sees its row) or gone (and starts a new one).
        with self._lock:
            due = self.outbox.next_due(self._teams())
            if due is None:
                if not self._polling and not self._busy:
                    self._dispatcher = None
                    return None
                return self.poll_interval
        wait = (due - utcnow()).total_seconds()
        return min(max(wait, 0.01), self.poll_interval)

    def _attempt(self, delivery: Claimed) -> None:
        try:
            url = self._url(delivery.team)
            if url is None:
                error: str | None = "the team has no webhook in bot.yml any more"
                retry_in = None
            else:
                error = self._post(url, delivery.body, delivery.key)
                retry_in = (
                    self.retry_delays[delivery.attempt - 1]
                    if delivery.attempt < self.attempts
                    else None
                )
            if error is not None:
                log.warning(
                    "webhook of team %s: attempt %d of %d failed: %s",
                    delivery.team,
                    delivery.attempt,
                    self.attempts,
                    error,
                )
            if not self.outbox.finish(delivery, error, retry_in):
                log.warning(
                    "webhook delivery %s: its lease ran out before it was recorded", delivery.id
                )
        except Exception:  # the database going away must not kill the worker
            log.exception("cannot record webhook delivery %s", delivery.id)
        finally:
            with self._lock:
                self._busy -= 1
            self._wake.set()

    def _url(self, team: str) -> str | None:
        current = self.webhooks(team) if self.webhooks is not None else None
        return current or self._urls.get(team)

    def _post(self, url: str, body: bytes, key: str = "") -> str | None:
        """None when the receiver accepted the body, else what went wrong (without the URL).

        `key` is the delivery's stable id (`outbox.delivery_key`): a repeat of a delivery
        carries the same one, so the receiver can drop it."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if key:
            headers["Idempotency-Key"] = headers["X-Botbuilder-Delivery"] = key
        try:
            request = urllib.request.Request(url, data=body, method="POST", headers=headers)
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(1024)
                return None
        except urllib.error.HTTPError as exc:
            return _without_address(f"HTTP {exc.code} {exc.reason}", url)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return _without_address(f"cannot reach the webhook: {reason}", url)
        except (ValueError, http.client.HTTPException) as exc:
            # A URL urllib cannot use (control characters), or an answer that is not HTTP.
            return _without_address(f"the webhook failed: {exc}", url)


def _without_address(error: str, url: str) -> str:
    """`error` with the webhook's URL and every part of it that names or opens it blanked out
    (a certificate error names the host; urllib's own errors quote the URL or its path)."""
    parts = urllib.parse.urlsplit(url)
    secrets = [url, parts.netloc, parts.hostname or "", parts.path, parts.query]
    for secret in sorted({s for s in secrets if len(s) > 1}, key=len, reverse=True):
        error = error.replace(secret, "…")
    return error
