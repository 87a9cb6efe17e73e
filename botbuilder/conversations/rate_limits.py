"""Rate limits on the public API, counted in the database so every replica shares them.

Why the `limits` library with a storage of our own: `limits` (the library under
Flask-Limiter) brings the rate strings of bot.yml ("30/minute; 500/day"),
their parsing and the fixed-window strategy, but has no SQL storage, and our
replicas share nothing but the database. A fixed window needs three things of
a storage (`incr` with an expiry, `get`, `get_expiry`), each one statement on a
table keyed by the limit's key: an `INSERT … ON CONFLICT DO UPDATE … RETURNING`
is atomic on SQLite and PostgreSQL alike, so two replicas hitting one counter
never lose a count. Flask-Limiter itself would add a second configuration
layer and its own keying by Flask's request, which bot.yml and the trusted
proxies (`server/proxies.py`) already decide.

Keys hold no address and no conversation id: the identifiers are keyed hashes
(HMAC with the server's secret, which replicas share as they share sessions),
so the counters are no member data and a deletion on request has nothing to
find here. Counters past their window are deleted by whoever counts next, at
most once a minute per process, so the table holds only live windows.

A request's hit is counted in the process first while its window is far from
the limit, and in the database within 0.1 s (`local_first.py` says why and what
that allows); handoffs are counted here each time.

    RateLimits.hit(action, network, conversation_id)   → None, or RateLimited (429)
    RateLimits.check_handoffs(network, conversation_id) → None, or RateLimited
    RateLimits.count_handoff(network, conversation_id)  after a handoff started
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from limits import RateLimitItem, parse_many
from limits.storage import Storage as LimitsStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Float, Integer, String, Table, bindparam, case, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.dml import ReturningInsert

from botbuilder.content.model import LimitSettings
from botbuilder.conversations.local_first import LocalFirstCounts
from botbuilder.db.base import Base, upsert
from botbuilder.db.engine import Database
from botbuilder.errors import RequestError

__all__ = ["ACTIONS", "DatabaseCounters", "RateLimitCounter", "RateLimited", "RateLimits"]

ACTIONS = ("conversations", "messages", "feedback", "match", "handoffs")
PURGE_EVERY = 60.0  # seconds between deletions of expired counters, per process
_WHAT = {
    "conversations": "new conversations",
    "messages": "messages",
    "feedback": "feedback",
    "match": "match requests",
    "handoffs": "requests for a person",
}


class RateLimited(RequestError):
    """429: too many requests of one kind; `retry_after` says in how many seconds to retry."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitCounter(Base):
    """One fixed window of one limit for one (hashed) network or conversation."""

    __tablename__ = "rate_limit_counters"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


_COUNTERS = cast(Table, RateLimitCounter.__table__)


class DatabaseCounters(LimitsStorage):
    """A `limits` storage on our database: fixed-window counters, shared by replicas."""

    STORAGE_SCHEME = None  # built directly, never from a URI

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.database = database
        self.engine = database.unsynced_engine()  # counters may be lost, not slowed down
        self.clock = clock
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()
        # SQLite: one connection of our own for the counting upserts, one thread at a time.
        # SQLite has one writer anyway; threads waiting here wake as soon as it is free,
        # where inside SQLite they would sleep its busy handler's 1 to 100 ms steps, and the
        # pool's checkout and checkin cost more than the statement (every /api/v1 request).
        self._writer: Any = None
        self._write_lock = threading.Lock()
        self._timeout = float(getattr(database, "timeout", None) or 15.0)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's window, opening a new window if the old one ended."""
        return self.count(key, expiry, amount)[0]

    def count(self, key: str, expiry: float, amount: int = 1) -> tuple[int, float]:
        """`incr`, with the time the window ends (seconds since the epoch)."""
        now = self.clock()
        values = {"key": key, "amount": amount, "now": now, "expires": now + expiry}
        # One statement and its commit: on SQLite without waiting for the disk (the fsync
        # was 12 of 20 ms per request; a counter lost to a power cut costs nothing).
        if self.engine.dialect.name == "sqlite":
            row = self._sqlite_incr(values)
        else:
            with self.engine.connect() as connection:
                row = connection.execute(_counting(connection.dialect.name), values).first()
                connection.commit()
        self.purge_expired(now)
        return (int(row[0]), float(row[1])) if row else (0, now + expiry)

    def _sqlite_incr(self, values: dict[str, Any]) -> Any:
        """The upsert on the driver's own connection: SQLAlchemy's execution around it cost
        three times the statement (every /api/v1 request counts one). A driver error is
        raised as SQLAlchemy's, so a locked file is still a 503 (server/outage.py)."""
        sql, order = _compiled_counting(self.engine)
        parameters = [values[name] for name in order]
        error = self.engine.dialect.loaded_dbapi.Error
        # Waiting for the other threads is bounded like waiting inside SQLite would be.
        if not self._write_lock.acquire(timeout=self._timeout):
            locked = self.engine.dialect.loaded_dbapi.OperationalError("database is locked")
            raise DBAPIError.instance(sql, None, locked, error)
        try:
            own = self._own_connection()
            raw = own if own is not None else self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(sql, parameters)
                row = cursor.fetchone()
                cursor.close()
                raw.commit()
            except error as exc:
                raw.rollback()
                raise DBAPIError.instance(sql, None, exc, error) from exc
            finally:
                if own is None:
                    raw.close()  # back to the pool
        finally:
            self._write_lock.release()
        return row

    def _own_connection(self) -> Any:
        """The counting connection: a driver connection made by the engine (so with its
        connect hooks: WAL, the busy timeout, synchronous=NORMAL), taken out of its pool for
        good. None for an in-memory database, whose connections belong to one thread."""
        if self._writer is None and isinstance(self.engine.pool, QueuePool):
            fairy = self.engine.raw_connection()
            self._writer = fairy.driver_connection
            fairy.detach()
        return self._writer

    def close(self) -> None:
        """Close the counting connection (the engine's pool is the database's to close)."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row is not None else self.clock()

    def _row(self, key: str) -> tuple[int, float] | None:
        table = _COUNTERS
        query = select(table.c.hits, table.c.expires_at).where(
            table.c.key == key, table.c.expires_at > self.clock()
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (int(row[0]), float(row[1])) if row is not None else None

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(_COUNTERS)).rowcount or 0)  # type: ignore[attr-defined]

    def clear(self, key: str) -> None:
        table = _COUNTERS
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == key))

    def purge_expired(self, now: float | None = None, force: bool = False) -> int:
        """Delete counters whose window has ended (at most once a minute unless forced)."""
        now = self.clock() if now is None else now
        with self._purge_lock:
            if not force and now < self._next_purge:
                return 0
            self._next_purge = now + PURGE_EVERY
        table = _COUNTERS
        with self.engine.begin() as connection:
            result = connection.execute(delete(table).where(table.c.expires_at <= now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@lru_cache(maxsize=2)
def _counting(dialect: str) -> ReturningInsert[Any]:
    """The upsert that counts a hit, built once per dialect: building it cost more than
    running it (every /api/v1 request counts one)."""
    table = _COUNTERS
    amount = bindparam("amount", type_=Integer)
    expires = bindparam("expires", type_=Float)
    ended = table.c.expires_at <= bindparam("now", type_=Float)
    return (
        upsert(dialect, table)
        .values(key=bindparam("key", type_=String), hits=amount, expires_at=expires)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((ended, amount), else_=table.c.hits + amount),
                "expires_at": case((ended, expires), else_=table.c.expires_at),
            },
        )
        .returning(table.c.hits, table.c.expires_at)
    )


@lru_cache(maxsize=4)
def _compiled_counting(engine: Engine) -> tuple[str, tuple[str, ...]]:
    """The counting upsert as the driver's SQL and the order of its parameters."""
    compiled = _counting(engine.dialect.name).compile(dialect=engine.dialect)
    return compiled.string, tuple(compiled.positiontup or ())


class RateLimits:
    """The API's limits per network and per conversation, read from bot.yml at each request."""

    def __init__(
        self,
        storage: DatabaseCounters,
        secret: str,
        settings: Callable[[], LimitSettings],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)  # handoffs: rare, counted exactly
        # Requests: in this process first, in the database within 0.1 s (local_first.py).
        self.counts = LocalFirstCounts(storage, clock)
        self.settings = settings
        self.clock = clock
        self._secret = secret.encode()
        # The same few networks ask again and again: hash each once (conversations are many).
        self._network_key = lru_cache(maxsize=4096)(functools.partial(self._hashed, "ip"))

    def hit(self, action: str, network: str, conversation_id: str | None = None) -> None:
        """Count one request of `action`; RateLimited when a limit is spent."""
        for per, who, items in self._limits(action, network, conversation_id):
            for item in items:
                key = item.key_for(action, per, who)
                if self.counts.hit(key, item.get_expiry(), item.amount) > item.amount:
                    raise self._refusal(action, per, who, item)

    def check_handoffs(self, network: str, conversation_id: str | None = None) -> None:
        """RateLimited when no new handoff may start from this network or conversation."""
        for per, who, items in self._limits("handoffs", network, conversation_id):
            for item in items:
                if not self.limiter.test(item, "handoffs", per, who):
                    raise self._refusal("handoffs", per, who, item)

    def count_handoff(self, network: str, conversation_id: str | None = None) -> None:
        """Count a handoff that started (it is not refused: it has happened)."""
        for per, who, items in self._limits("handoffs", network, conversation_id):
            for item in items:
                self.limiter.hit(item, "handoffs", per, who)

    def _limits(
        self, action: str, network: str, conversation_id: str | None
    ) -> list[tuple[str, str, tuple[RateLimitItem, ...]]]:
        settings = self.settings()
        found = [("ip", self._network_key(network), _items(getattr(settings, f"{action}_per_ip")))]
        per_conversation = getattr(settings, f"{action}_per_conversation", None)
        if conversation_id and per_conversation:
            hashed = self._hashed("conversation", conversation_id)
            found.append(("conversation", hashed, _items(per_conversation)))
        return found

    def _hashed(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def _refusal(self, action: str, per: str, who: str, item: RateLimitItem) -> RateLimited:
        reset = self.storage.get_expiry(item.key_for(action, per, who))  # one query, not two
        retry = max(1, math.ceil(reset - self.clock()))
        where = "in this conversation" if per == "conversation" else "from your network"
        return RateLimited(
            f"too many {_WHAT[action]} {where} (at most {item.amount} per "
            f"{_window(item)}); try again in {retry} s",
            retry,
        )


@lru_cache(maxsize=64)
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    """The limits of one bot.yml value ("30/minute; 500/day"); bot.yml checked it at load."""
    return tuple(parse_many(spec))


def _window(item: RateLimitItem) -> str:
    name = item.GRANULARITY.name
    return name if item.multiples == 1 else f"{item.multiples} {name}s"
