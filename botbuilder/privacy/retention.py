"""Retention: member data is kept only as long as `privacy.retention_days` says.

Two kinds of conversation are purged:

- *past retention*: last active more than `retention_days` ago. Their
  messages, notes, follow-ups, feedback, webhook deliveries and idempotency
  keys are deleted and the handoff question is cleared; the conversation row
  and the handoff row stay (language, state, team, times: no personal data),
  so counts of conversations and handoffs per period do not change.
- *empty*: older than a day, in which the member never wrote (a greeting
  nobody answered, or a flood of opened conversations). They are deleted
  whole.

Sign-in records past their use go too (`Accounts.purge_login_records`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, delete, exists, select, update

from botbuilder.accounts import Accounts
from botbuilder.content.model import HandoffSettings
from botbuilder.db.base import utcnow
from botbuilder.db.engine import Database
from botbuilder.insights.aggregates import seal_before
from botbuilder.privacy.tables import checkpoint, member_tables

__all__ = ["EMPTY_AFTER", "PurgeReport", "purge"]

log = logging.getLogger(__name__)

EMPTY_AFTER = timedelta(days=1)  # a conversation without a member message is kept this long


@dataclass(frozen=True)
class PurgeReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    questions_cleared: int = 0  # handoff questions emptied (the handoff row stays)
    login_records: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.questions_cleared + self.login_records


def purge(
    database: Database,
    retention_days: int,
    clock: Callable[[], datetime] = utcnow,
    handoff: HandoffSettings | None = None,
) -> PurgeReport:
    """Delete what is past retention and empty conversations; log the counts only.

    The insights figures of the days about to go are sealed first (`handoff`: the bot's
    teams, for its timezone and office hours), so a period's figures do not change.
    """
    if retention_days < 1:
        raise ValueError("retention_days must be 1 or more")
    now = clock()
    cutoff = now - timedelta(days=retention_days)
    seal_before(database, cutoff, handoff)
    tables = member_tables(database)
    rows: dict[str, int] = {}
    with database.engine.begin() as c:
        cleared = _purge(c, tables, cutoff, now - EMPTY_AFTER, rows)
    logins = Accounts(database, clock=clock).purge_login_records()
    checkpoint(database)
    report = PurgeReport({k: v for k, v in rows.items() if v}, cleared, logins)
    counts = ", ".join(f"{name} {n}" for name, n in sorted(report.rows.items())) or "no rows"
    log.info(
        "privacy: purged (retention %d days): %s; %d handoff question(s) cleared; "
        "%d sign-in record(s)",
        retention_days,
        counts,
        cleared,
        logins,
    )
    return report


def _purge(
    c: Connection,
    tables: list[Table],
    cutoff: datetime,
    empty_before: datetime,
    rows: dict[str, int],
) -> int:
    by_name = {t.name: t for t in tables}
    conversations, messages = by_name["conversations"], by_name["messages"]
    wrote = exists().where(
        messages.c.conversation_id == conversations.c.id, messages.c.role == "member"
    )
    # Empty ones past retention keep their row like the others, so they are not counted twice.
    empty = select(conversations.c.id).where(
        conversations.c.created_at < empty_before,
        conversations.c.updated_at >= cutoff,
        ~wrote,
    )
    stale = select(conversations.c.id).where(conversations.c.updated_at < cutoff)
    cleared = 0
    for table in tables:  # dependents first
        if table is conversations:
            _count(rows, table, c.execute(delete(table).where(table.c.id.in_(empty))).rowcount)
        elif "conversation_id" in table.c:
            mine = table.c.conversation_id
            _count(rows, table, c.execute(delete(table).where(mine.in_(empty))).rowcount)
            if table.name == "handoffs":
                cleared += c.execute(
                    update(table).where(mine.in_(stale), table.c.question != "").values(question="")
                ).rowcount
            else:
                _count(rows, table, c.execute(delete(table).where(mine.in_(stale))).rowcount)
        elif table.name == "idempotency_keys":
            # The scope of a message's key is its conversation; a response holds its text.
            old = (
                table.c.scope.in_(empty) | table.c.scope.in_(stale) | (table.c.created_at < cutoff)
            )
            _count(rows, table, c.execute(delete(table).where(old)).rowcount)
    return cleared


def _count(rows: dict[str, int], table: Table, deleted: int) -> None:
    rows[table.name] = rows.get(table.name, 0) + int(deleted or 0)
