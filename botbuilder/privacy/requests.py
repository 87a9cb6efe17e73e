"""A member's request: everything stored about them, exported as JSON or deleted.

A member is found by a conversation id (the widget keeps it) or by an e-mail
address: then every conversation in which the address appears (a follow-up,
a message, a note, a handoff question) is theirs. Deletion takes every row of
those conversations in every table, and any other row that names the address
or one of the conversations; it is logged with counts only, never the
address or the text. On SQLite the WAL is then checkpointed, so with
`secure_delete` the deleted text is gone from the files too.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, false, or_, select

from botbuilder.content.emails import is_email
from botbuilder.conversations.store import is_conversation_id
from botbuilder.db.engine import Database
from botbuilder.errors import BadRequest, NotFound
from botbuilder.privacy.tables import checkpoint, member_tables, mentions

__all__ = ["DeletionReport", "MemberData", "delete_member", "export_member", "find_member"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberData:
    """Who a request is about: their conversations, and the address if one was given."""

    conversations: tuple[str, ...]
    email: str | None = None

    @property
    def needles(self) -> list[str]:
        return [*self.conversations, *([self.email] if self.email else [])]


@dataclass(frozen=True)
class DeletionReport:
    conversations: int
    rows: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def find_member(
    database: Database, *, conversation_id: str | None = None, email: str | None = None
) -> MemberData:
    """The member behind a conversation id or an e-mail address (exactly one of them)."""
    if (conversation_id is None) == (email is None):
        raise BadRequest("give either a conversation id or an e-mail address")
    tables = {t.name: t for t in member_tables(database)}
    if conversation_id is not None:
        conversation_id = conversation_id.strip()
        found = None
        if is_conversation_id(conversation_id):
            conversations = tables["conversations"]
            with database.engine.connect() as c:
                found = c.scalar(
                    select(conversations.c.id).where(conversations.c.id == conversation_id)
                )
        if found is None:
            raise NotFound(f"no conversation '{conversation_id}'")
        return MemberData((conversation_id,))
    address = (email or "").strip().lower()
    if not is_email(address):
        raise BadRequest(f"'{address}' is not an e-mail address")
    ids: set[str] = set()
    with database.engine.connect() as c:
        for table in tables.values():
            if "conversation_id" in table.c:
                query = select(table.c.conversation_id).where(mentions(table, [address]))
                ids.update(str(i) for i in c.scalars(query.distinct()))
    return MemberData(tuple(sorted(ids)), address)


def _theirs(table: Table, member: MemberData) -> ColumnElement[bool]:
    """The rows of `table` that belong to `member` or name them."""
    if not member.needles:
        return false()
    if table.name == "conversations":
        return table.c.id.in_(member.conversations)
    named = mentions(table, member.needles)
    if "conversation_id" in table.c and member.conversations:
        return or_(table.c.conversation_id.in_(member.conversations), named)
    return named


def delete_member(database: Database, member: MemberData) -> DeletionReport:
    """Delete every row that belongs to `member`; log the counts, never the content."""
    rows: dict[str, int] = {}
    with database.engine.begin() as c:
        for table in member_tables(database):
            result = c.execute(delete(table).where(_theirs(table, member)))
            if result.rowcount:
                rows[table.name] = int(result.rowcount)
    checkpoint(database)
    report = DeletionReport(len(member.conversations), rows)
    counts = ", ".join(f"{name} {n}" for name, n in sorted(rows.items())) or "nothing"
    log.info(
        "privacy: deleted on request (%s): %d conversation(s); rows: %s",
        "by e-mail address" if member.email else "by conversation",
        report.conversations,
        counts,
    )
    return report


def export_member(database: Database, member: MemberData) -> dict[str, Any]:
    """Everything stored about `member`, table by table, ready for `json.dumps`."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with database.engine.connect() as c:
        for table in reversed(member_tables(database)):
            found = c.execute(select(table).where(_theirs(table, member))).mappings()
            rows = [{key: _plain(value) for key, value in row.items()} for row in found]
            if rows:
                tables[table.name] = rows
    return {
        "conversations": list(member.conversations),
        "email": member.email,
        "tables": tables,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
