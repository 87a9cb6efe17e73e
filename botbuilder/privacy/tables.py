"""The database's own tables, read from the database, and what of them is a member's.

The schema is reflected rather than taken from the models, so a table that a
later migration adds is searched and deleted from without a change here:
every table with a `conversation_id` column belongs to conversations, and any
text in any table that names a member's conversation or address is theirs.
Only the staff's own tables are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, ColumnElement, MetaData, String, Table, Text, cast, false, func, or_
from sqlalchemy.types import TypeEngine

from botbuilder.db.engine import Database

__all__ = ["STAFF_TABLES", "checkpoint", "member_tables", "mentions", "text_columns"]

# Accounts, sign-ins, presence and flow history: the staff's data, not a member's.
# rate_limit_counters: keyed hashes of networks and conversations, gone when their window
# ends (minutes): no member data, so neither deleted on request nor exported.
# scheduled_runs: which replica ran which job for which period (jobs/scheduler.py).
# insights_daily, insights_sealed_days: counts per day, language, intent and team, and handoff
# durations in seconds: nothing about a member, and kept past retention on purpose.
STAFF_TABLES = frozenset(
    {
        "users",
        "login_networks",
        "agent_presence",
        "flow_versions",
        "alembic_version",
        "rate_limit_counters",
        "scheduled_runs",
        "insights_daily",
        "insights_sealed_days",
        # insights_rollups, insights_rollup_marks: finished days' counts kept for the
        # dashboard (insights/rollups.py), like insights_daily: no member data.
        "insights_rollups",
        "insights_rollup_marks",
        "announcements",  # a manager's notices to all members; names no member
        # flow_publications: the whole flows folder as a replica published it (the staff's
        # YAML, like flow_versions) and the staff author: no member data.
        "flow_publications",
        # account_changes: staff account changes for History, by account id (no address);
        # a removed account's rows stay with its id only (people/changes.py).
        "account_changes",
        # password_links: hashes of one-time links to choose a staff password; they go
        # with their account (a cascading foreign key) and when used or replaced.
        "password_links",
    }
)


def member_tables(database: Database) -> list[Table]:
    """Every table that can hold a member's data, dependents before what they refer to."""
    metadata = MetaData()
    metadata.reflect(database.engine)
    return [t for t in reversed(metadata.sorted_tables) if t.name not in STAFF_TABLES]


def text_columns(table: Table) -> list[ColumnElement[Any]]:
    """The table's columns that can hold text, JSON included, as text."""
    return [cast(c, Text) for c in table.columns if _is_text(c.type)]


def _is_text(kind: TypeEngine[Any]) -> bool:
    return isinstance(kind, (String, Text, JSON)) or type(kind).__name__.upper() == "JSON"


def mentions(table: Table, needles: Iterable[str]) -> ColumnElement[bool]:
    """Rows in which any text column contains one of `needles` (case-insensitive)."""
    tests = [
        func.lower(column).like(f"%{_escape(needle.lower())}%", escape="\\")
        for needle in needles
        for column in text_columns(table)
    ]
    return or_(*tests) if tests else false()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def checkpoint(database: Database) -> None:
    """On SQLite, move the WAL into the database file and empty it, so deleted text is gone."""
    if database.engine.dialect.name == "sqlite":
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
