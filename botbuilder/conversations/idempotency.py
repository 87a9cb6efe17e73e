"""Idempotency keys: a retried request gets the first answer and stores nothing new.

A client that lost the answer to `POST /api/v1/conversations` or `POST …/messages`
(a dropped connection, a killed replica, the widget's offline queue) sends the
request again with the same key. The first request *claims* the key with one
INSERT under a unique constraint on (scope, key), so of two requests racing, on
one replica or on two, exactly one wins; the other finds the row. The winner
runs the turn and then stores its status and JSON body on the row; every later
request with that key gets that stored answer back.

    claim → None             the key is new: run the request, then `finish` (or `release`)
          → Takeover         the same, but a first try was abandoned (its process died)
                             after `lease`: it may have stored part of its work already
          → StoredResponse   the first request's answer: send it again
          → Conflict (409)   the first request with this key is still running; try again soon
          → KeyReused (422)  the key was used before for a different request body

The scope is the conversation's id for messages (the member's secret, so keys of
different members never meet) and "conversations" for starting one. A claim whose request never finished (its
process was killed) is taken over after `lease`, and the taker is told when that
try began, so it can look for what the try stored before sending it again; keys older than `ttl` are
forgotten and purged, a bounded batch at a time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.errors import BadRequest, Conflict

__all__ = [
    "IdempotencyKeys",
    "KeyReused",
    "MIN_SHARED_KEY_CHARS",
    "StoredResponse",
    "Takeover",
    "check_key",
    "fingerprint",
]

MAX_KEY_CHARS = 255
MIN_SHARED_KEY_CHARS = 32  # for keys in a scope all clients share: unguessable
PURGE_BATCH = 1000


class KeyReused(BadRequest):
    """422: an idempotency key sent again with a different request."""

    status = 422


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: still running
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class StoredResponse:
    """The answer the first request with a key got: send it again as it was."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Takeover:
    """The key is ours now; its first request began at `abandoned_at` and never finished."""

    abandoned_at: datetime


def check_key(value: object, name: str) -> str:
    """`value` as a key, or BadRequest: 1–255 printable ASCII characters."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_KEY_CHARS
        or not all(" " <= c <= "~" for c in value)
    ):
        raise BadRequest(
            f"{name} must be 1 to {MAX_KEY_CHARS} printable ASCII characters, "
            "for example a random UUID made once per message"
        )
    return value


def fingerprint(body: dict[str, Any]) -> str:
    """A digest of a request body, the same for the same JSON whatever its key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class IdempotencyKeys:
    """The keys and first answers of retried requests, in the installation's database."""

    def __init__(
        self,
        database: Database,
        *,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(seconds=60),
        purge_every: float = 60.0,
    ) -> None:
        self.database = database
        self.ttl = ttl
        self.lease = lease  # longer than any request takes: a claim this old was abandoned
        self.purge_every = purge_every
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    def claim(self, scope: str, key: str, digest: str) -> StoredResponse | Takeover | None:
        """Claim `key` for a request with body digest `digest`; see the module docstring."""
        self._purge_now_and_then()
        now = utcnow()
        try:
            with self.database.session() as s, s.begin():
                s.add(IdempotencyKey(scope=scope, key=key, fingerprint=digest, created_at=now))
            return None
        except IntegrityError:
            pass  # claimed before, here or on another replica
        with self.database.session() as s:
            row = s.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.scope == scope, IdempotencyKey.key == key
                )
            ).one_or_none()
        if row is None:  # purged between our insert and our read: claim it anew
            return self.claim(scope, key, digest)
        created = aware_utc(row.created_at)
        if created < now - self.ttl:  # forgotten: a new request
            return self._take_over(row.id, row.created_at, scope, key, digest, None)
        if row.status is None and created < now - self.lease and row.fingerprint == digest:
            return self._take_over(row.id, row.created_at, scope, key, digest, Takeover(created))
        if row.fingerprint != digest:
            raise KeyReused(
                "this idempotency key was already used for a different request; "
                "make a new key for each new message and reuse it only to retry the same one"
            )
        if row.status is None:
            raise Conflict(
                "a request with this idempotency key is still being handled; "
                "try again in a second to get its answer"
            )
        return StoredResponse(row.status, dict(row.response or {}))

    def _take_over(
        self,
        row_id: int,
        created: datetime,
        scope: str,
        key: str,
        digest: str,
        taken: Takeover | None,
    ) -> StoredResponse | Takeover | None:
        """Claim an expired key or an abandoned claim; one UPDATE, so one taker wins.

        `created` is the row's time as the database gave it, so the comparison is exact.
        """
        with self.database.session() as s, s.begin():
            won = s.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row_id, IdempotencyKey.created_at == created)
                .values(fingerprint=digest, status=None, response=None, created_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
        return taken if won else self.claim(scope, key, digest)

    def finish(self, scope: str, key: str, status: int, body: dict[str, Any]) -> None:
        """Store the answer of the request that claimed `key`."""
        with self.database.session() as s, s.begin():
            s.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                .values(status=status, response=body)
            )

    def release(self, scope: str, key: str) -> None:
        """Give up a claim whose request failed on our side, so a retry runs it again."""
        with self.database.session() as s, s.begin():
            s.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.scope == scope,
                    IdempotencyKey.key == key,
                    IdempotencyKey.status.is_(None),
                )
            )

    def purge_expired(self, limit: int = PURGE_BATCH) -> int:
        """Delete up to `limit` keys older than the ttl; the number deleted."""
        cutoff = utcnow() - self.ttl
        with self.database.session() as s, s.begin():
            ids = s.scalars(
                select(IdempotencyKey.id)
                .where(IdempotencyKey.created_at < cutoff)
                .order_by(IdempotencyKey.created_at)
                .limit(limit)
            ).all()
            if ids:
                s.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
        return len(ids)

    def _purge_now_and_then(self) -> None:
        """At most once a `purge_every` seconds per process, one bounded batch."""
        now = time.monotonic()
        if now - self._last_purge < self.purge_every or not self._purge_lock.acquire(False):
            return
        try:
            self._last_purge = now
            self.purge_expired()
        finally:
            self._purge_lock.release()
