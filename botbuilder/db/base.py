"""The declarative base every table derives from, and the clock they are stamped with.

One base means one `MetaData`, so the migrations see every room's tables and
one engine serves them all. Times are stored in UTC; `aware_utc` puts the zone
back on what SQLite returns without one.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "aware_utc", "upsert", "utcnow"]


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware_utc(value: datetime) -> datetime:
    """`value` with its UTC zone: SQLite hands datetimes back without one."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upsert(dialect: str, table: Table) -> Any:
    """`table`'s INSERT with ON CONFLICT clauses, in the dialect's own construct (SQLite's
    or PostgreSQL's). The dialect is imported when first asked for: PostgreSQL's costs
    ~0.15 s of every start, and a SQLite server never needs it."""
    if dialect not in ("postgresql", "sqlite"):
        raise ValueError(f"no upsert for the {dialect} dialect")
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)
