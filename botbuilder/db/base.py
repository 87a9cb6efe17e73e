"""The declarative base every table derives from, and the clock they are stamped with.

One base means one `MetaData`, so the migrations see every room's tables and
one engine serves them all. Times are stored in UTC; `aware_utc` puts the zone
back on what SQLite returns without one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "aware_utc", "utcnow"]


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware_utc(value: datetime) -> datetime:
    """`value` with its UTC zone: SQLite hands datetimes back without one."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
