"""The webhook outbox: one row per delivery, claimed by one worker of one replica at a time.

A delivery is a row of `webhook_deliveries` from the moment it is queued: its body,
how many attempts it had and when the next is due (`next_attempt_at`). Any
process on the database may deliver it. A worker *claims* due rows with one
conditional UPDATE that stamps them with its claim token and a lease
(`claimed_until`); on PostgreSQL the rows are picked with `FOR UPDATE SKIP
LOCKED`, so replicas claiming together take different rows instead of waiting
on each other, and on SQLite the one writer at a time makes the same UPDATE
exclusive. Only the holder of the token records the outcome. A process that
dies mid-attempt leaves its rows pending with a lease that runs out; then any
process claims them again. An attempt is counted when it is claimed, so a
delivery that keeps crashing its worker still gives up after the last attempt.

The body holds the member's question (it is the webhook's JSON), so it is kept
only while the delivery is pending: a delivered or failed row has none. The row
has the conversation's id, so `privacy.tables` counts it as the member's data
(deleted and exported with the conversation). The webhook URL, a secret, is never
stored: the notifier looks it up by team.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database

__all__ = ["delivery_key", "Claimed", "DeliveryRecord", "Outbox", "WebhookDelivery"]


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_team_created_at", "team", "created_at"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    team: Mapped[str] = mapped_column(String(64))
    # pending (still trying), delivered, failed (gave up)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The outbox (migration 0015): the JSON body while pending, when the next attempt is
    # due, and who holds the delivery until when.
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds: post `body` to the team's webhook, then `finish` it."""

    id: int
    team: str
    body: bytes
    attempt: int  # this one, counting from 1
    token: str
    key: str = ""  # the delivery's stable id for receivers (`delivery_key`), the same each try


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


def delivery_key(row_id: int, created_at: datetime) -> str:
    """A delivery's id for its receiver, the same on every attempt and every replica.

    Delivery is at least once: a replica that dies after the receiver answered but
    before it recorded that leaves the row pending, and another replica posts it
    again. The notifier sends this key as `Idempotency-Key` (and `X-Botbuilder-Delivery`)
    so a receiver can drop the repeat. Made from the row (no column needed): its id
    and when it was queued, to the microsecond, so another installation's or a
    restored database's row 7 has another key."""
    moment = aware_utc(created_at).isoformat()
    return hashlib.sha256(f"botbuilder-delivery:{row_id}:{moment}".encode()).hexdigest()[:32]


def _pending(teams: Collection[str] | None) -> ColumnElement[bool]:
    """Pending rows, of `teams` only when given (a process that knows only some webhooks)."""
    pending = WebhookDelivery.status == "pending"
    return pending if teams is None else and_(pending, WebhookDelivery.team.in_(list(teams)))


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now)


class Outbox:
    """The deliveries table as a queue shared by every process on the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(
        self,
        conversation_id: str,
        team: str,
        body: str,
        *,
        dedupe_window: timedelta,
        per_minute: int,
    ) -> int | str:
        """Queue a delivery due now and return its id, or why it was skipped:
        "duplicate" (the team has it already) or "over limit" (`per_minute` reached)."""
        now = utcnow()
        with self.database.session() as s, s.begin():
            same = select(func.count()).where(
                WebhookDelivery.conversation_id == conversation_id,
                WebhookDelivery.team == team,
                WebhookDelivery.status.in_(("pending", "delivered")),
                WebhookDelivery.created_at >= now - dedupe_window,
            )
            if s.scalar(same):
                return "duplicate"
            recent = select(func.count()).where(
                WebhookDelivery.team == team,
                WebhookDelivery.created_at >= now - timedelta(minutes=1),
            )
            if (s.scalar(recent) or 0) >= per_minute:
                return "over limit"
            row = WebhookDelivery(
                conversation_id=conversation_id,
                team=team,
                status="pending",
                attempts=0,
                created_at=now,
                updated_at=now,
                body=body,
                next_attempt_at=now,
            )
            s.add(row)
            s.flush()
            return row.id

    def claim(
        self, limit: int, lease: timedelta, teams: Collection[str] | None = None
    ) -> list[Claimed]:
        """Up to `limit` due deliveries, held by this caller until the lease runs out."""
        if limit <= 0 or (teams is not None and not teams):
            return []
        now, token = utcnow(), uuid.uuid4().hex
        due = and_(_pending(teams), WebhookDelivery.next_attempt_at <= now, _unclaimed(now))
        picked = (
            select(WebhookDelivery.id)
            .where(due)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        )
        with self.database.session() as s, s.begin():
            # Picked first, then updated: inside an UPDATE PostgreSQL may run the picking
            # subquery again and claim more than `limit` rows (a test caught 2 of 1).
            ids = list(s.scalars(picked))
            if not ids:
                return []
            s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids), due)
                .values(
                    claim_token=token,
                    claimed_until=now + lease,
                    attempts=WebhookDelivery.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            rows = s.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.team,
                    WebhookDelivery.body,
                    WebhookDelivery.attempts,
                    WebhookDelivery.created_at,
                ).where(WebhookDelivery.claim_token == token)
            ).all()
        return [
            Claimed(
                r.id,
                r.team,
                (r.body or "").encode("utf-8"),
                r.attempts,
                token,
                delivery_key(r.id, r.created_at),
            )
            for r in rows
        ]

    def finish(self, claimed: Claimed, error: str | None, retry_in: float | None) -> bool:
        """Record the attempt: delivered (`error` None), retried in `retry_in` seconds, or
        failed for good (`retry_in` None). False when the lease was lost to another worker."""
        now = utcnow()
        if error is None or retry_in is None:
            values: dict[str, object] = {
                "status": "delivered" if error is None else "failed",
                "body": None,
                "next_attempt_at": None,
            }
        else:
            values = {"status": "pending", "next_attempt_at": now + timedelta(seconds=retry_in)}
        with self.database.session() as s, s.begin():
            done = s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == claimed.id,
                    WebhookDelivery.claim_token == claimed.token,
                    WebhookDelivery.status == "pending",
                )
                .values(
                    last_error=error,
                    updated_at=now,
                    claim_token=None,
                    claimed_until=None,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def next_due(self, teams: Collection[str] | None = None) -> datetime | None:
        """When the earliest pending delivery can be claimed: due or when its lease ends."""
        now = utcnow()
        with self.database.session() as s:
            free = s.scalar(
                select(func.min(WebhookDelivery.next_attempt_at)).where(
                    _pending(teams), _unclaimed(now)
                )
            )
            held = s.scalar(
                select(func.min(WebhookDelivery.claimed_until)).where(
                    _pending(teams), WebhookDelivery.claimed_until > now
                )
            )
        times = [aware_utc(t) for t in (free, held) if t is not None]
        return min(times) if times else None

    def depth(self) -> int:
        """Deliveries still pending: the outbox's depth."""
        with self.database.session() as s:
            return int(s.scalar(select(func.count()).where(_pending(None))) or 0)

    def deliveries(self, status: str | None = None, limit: int = 20) -> list[DeliveryRecord]:
        """The latest deliveries, newest first."""
        with self.database.session() as s:
            stmt = select(WebhookDelivery)
            if status:
                stmt = stmt.where(WebhookDelivery.status == status)
            stmt = stmt.order_by(WebhookDelivery.id.desc()).limit(limit)
            return [_record(r) for r in s.scalars(stmt)]
