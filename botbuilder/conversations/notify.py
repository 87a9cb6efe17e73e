"""Webhooks to a team's chat channel on each new handoff.

One JSON body serves Slack and Microsoft Teams incoming webhooks (both show
its `text` field) and generic receivers (the other fields). Delivery runs in
a background thread, so the member's request never waits for it; failures
are retried with backoff and every attempt is recorded, so the console can
show deliveries that failed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database

__all__ = ["DeliveryRecord", "Notifier", "handoff_payload"]

log = logging.getLogger(__name__)

# Seconds to wait before each retry: four tries over about a minute and a half.
RETRY_DELAYS = (2.0, 10.0, 60.0)
TIMEOUT = 10.0  # seconds per attempt
USER_AGENT = "botbuilder-webhook/1"


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    team: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
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
    url: str
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
        row.url,
        row.status,
        row.attempts,
        row.last_error,
        aware_utc(row.created_at),
        aware_utc(row.updated_at),
    )


def handoff_payload(
    *,
    conversation_id: str,
    conversation_url: str,
    team: str,
    question: str,
    language: str,
    waiting_since: datetime,
) -> dict[str, Any]:
    """The webhook body: `text` for Slack and Teams, the fields for everyone else."""
    quoted = question if len(question) <= 300 else question[:299] + "…"
    return {
        "text": f'New chat waiting for team {team} ({language}): "{quoted}" {conversation_url}',
        "event": "handoff",
        "conversation_id": conversation_id,
        "conversation_url": conversation_url,
        "team": team,
        "question": question,
        "language": language,
        "waiting_since": waiting_since.isoformat().replace("+00:00", "Z"),
    }


class Notifier:
    """Sends webhooks in background threads and records how each delivery went."""

    def __init__(
        self,
        database: Database,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = TIMEOUT,
    ) -> None:
        self.database = database
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._threads: list[threading.Thread] = []

    def send(self, url: str, payload: dict[str, Any], *, conversation_id: str, team: str) -> int:
        """Queue one delivery and return at once; the id names it in `deliveries()`."""
        now = utcnow()
        row = WebhookDelivery(
            conversation_id=conversation_id,
            team=team,
            url=url,
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        with self.database.session() as s, s.begin():
            s.add(row)
        body = json.dumps(payload).encode("utf-8")
        thread = threading.Thread(
            target=self._deliver, args=(row.id, url, body), name=f"webhook-{row.id}", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return row.id

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for deliveries under way (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def deliveries(self, status: str | None = None, limit: int = 20) -> list[DeliveryRecord]:
        """The latest deliveries, newest first."""
        with self.database.session() as s:
            stmt = select(WebhookDelivery)
            if status:
                stmt = stmt.where(WebhookDelivery.status == status)
            stmt = stmt.order_by(WebhookDelivery.id.desc()).limit(limit)
            return [_record(r) for r in s.scalars(stmt)]

    def _deliver(self, delivery_id: int, url: str, body: bytes) -> None:
        delays = (0.0, *self.retry_delays)
        for attempt, delay in enumerate(delays, start=1):
            time.sleep(delay)
            error = self._post(url, body)
            last = attempt == len(delays)
            status = "delivered" if error is None else ("failed" if last else "pending")
            self._update(delivery_id, status, attempt, error)
            if error is None:
                return
            log.warning("webhook %s attempt %d failed: %s", url, attempt, error)

    def _post(self, url: str, body: bytes) -> str | None:
        """None when the receiver accepted the body, else what went wrong."""
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(1024)
                return None
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return f"cannot reach the webhook: {reason}"

    def _update(self, delivery_id: int, status: str, attempts: int, error: str | None) -> None:
        try:
            with self.database.session() as s, s.begin():
                row = s.get(WebhookDelivery, delivery_id)
                if row is not None:
                    row.status, row.attempts, row.updated_at = status, attempts, utcnow()
                    row.last_error = error
        except Exception:  # the database going away must not kill the process
            log.exception("cannot record webhook delivery %s", delivery_id)
