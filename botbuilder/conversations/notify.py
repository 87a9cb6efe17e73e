"""Webhooks to a team's chat channel on each new handoff.

One JSON body serves Slack and Microsoft Teams incoming webhooks (both show
its `text` field) and generic receivers (the other fields). Delivery runs on
a small pool of worker threads (`WORKERS`, however many handoffs come in), so
the member's request never waits for it; failures are retried with backoff and
every attempt is recorded, so the console can show deliveries that failed.

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
and a delivery's row names only the team: the URL, from bot.yml, is held in
memory for the delivery's attempts and never stored.
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
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database

__all__ = ["DeliveryRecord", "Notifier", "chat_text", "conversation_link", "handoff_payload"]

log = logging.getLogger(__name__)

# Seconds to wait before each retry: four tries over about a minute and a half.
RETRY_DELAYS = (2.0, 10.0, 60.0)
TIMEOUT = 10.0  # seconds per attempt
USER_AGENT = "botbuilder-webhook/1"
WORKERS = 4  # threads that post webhooks, for all teams together
PER_MINUTE = 20  # notifications per team per minute, at most
DEDUPE_WINDOW = timedelta(minutes=10)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_team_created_at", "team", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    team: Mapped[str] = mapped_column(String(64))
    # pending (still trying), delivered, failed (gave up)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    conversation_id: str
    team: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


def _record(row: WebhookDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        row.id,
        row.conversation_id,
        row.team,
        row.status,
        row.attempts,
        row.last_error,
        aware_utc(row.created_at),
        aware_utc(row.updated_at),
    )


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
    """Sends webhooks on a bounded worker pool and records how each delivery went."""

    def __init__(
        self,
        database: Database,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = TIMEOUT,
        per_minute: int = PER_MINUTE,
        workers: int = WORKERS,
    ) -> None:
        self.database = database
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.per_minute = per_minute
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()  # one check-and-record at a time in this process
        self._dropped: dict[str, int] = {}  # per team, since its last delivery

    def send(
        self, url: str, payload: dict[str, Any], *, conversation_id: str, team: str
    ) -> int | None:
        """Queue one delivery and return at once; the id names it in `deliveries()`.

        None when it is skipped: the conversation's team already has it, or the
        team had its `per_minute` notifications in the last minute."""
        with self._lock:
            row = self._record_new(conversation_id, team)
        if row is None:
            return None
        body = json.dumps(payload).encode("utf-8")
        future = self._pool.submit(self._deliver, row, url, body, team)
        with self._lock:
            self._futures = {f for f in self._futures if not f.done()} | {future}
        return row

    def _record_new(self, conversation_id: str, team: str) -> int | None:
        now = utcnow()
        with self.database.session() as s, s.begin():
            same = select(func.count()).where(
                WebhookDelivery.conversation_id == conversation_id,
                WebhookDelivery.team == team,
                WebhookDelivery.status.in_(("pending", "delivered")),
                WebhookDelivery.created_at >= now - DEDUPE_WINDOW,
            )
            if s.scalar(same):
                return None
            recent = select(func.count()).where(
                WebhookDelivery.team == team,
                WebhookDelivery.created_at >= now - timedelta(minutes=1),
            )
            if (s.scalar(recent) or 0) >= self.per_minute:
                dropped = self._dropped[team] = self._dropped.get(team, 0) + 1
                log.warning(
                    "webhook of team %s: over %d notifications a minute, %d dropped so far",
                    team,
                    self.per_minute,
                    dropped,
                )
                return None
            self._dropped.pop(team, None)
            row = WebhookDelivery(
                conversation_id=conversation_id,
                team=team,
                status="pending",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return row.id

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for deliveries under way (for tests and orderly shutdown)."""
        with self._lock:
            futures = set(self._futures)
        wait_for(futures, timeout=timeout)

    def deliveries(self, status: str | None = None, limit: int = 20) -> list[DeliveryRecord]:
        """The latest deliveries, newest first."""
        with self.database.session() as s:
            stmt = select(WebhookDelivery)
            if status:
                stmt = stmt.where(WebhookDelivery.status == status)
            stmt = stmt.order_by(WebhookDelivery.id.desc()).limit(limit)
            return [_record(r) for r in s.scalars(stmt)]

    def _deliver(self, delivery_id: int, url: str, body: bytes, team: str) -> None:
        delays = (0.0, *self.retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            time.sleep(delay)
            error = self._post(url, body)
            last = attempt == len(delays)
            status = "delivered" if error is None else ("failed" if last else "pending")
            self._update(delivery_id, status, attempt, error)
            if error is None:
                return
            log.warning(
                "webhook of team %s: attempt %d of %d failed: %s", team, attempt, len(delays), error
            )

    def _post(self, url: str, body: bytes) -> str | None:
        """None when the receiver accepted the body, else what went wrong (without the URL)."""
        try:
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
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

    def _update(self, delivery_id: int, status: str, attempts: int, error: str | None) -> None:
        try:
            with self.database.session() as s, s.begin():
                row = s.get(WebhookDelivery, delivery_id)
                if row is not None:
                    row.status, row.attempts, row.updated_at = status, attempts, utcnow()
                    row.last_error = error
        except Exception:  # the database going away must not kill the process
            log.exception("cannot record webhook delivery %s", delivery_id)


def _without_address(error: str, url: str) -> str:
    """`error` with the webhook's URL and every part of it that names or opens it blanked out
    (a certificate error names the host; urllib's own errors quote the URL or its path)."""
    parts = urllib.parse.urlsplit(url)
    secrets = [url, parts.netloc, parts.hostname or "", parts.path, parts.query]
    for secret in sorted({s for s in secrets if len(s) > 1}, key=len, reverse=True):
        error = error.replace(secret, "…")
    return error
