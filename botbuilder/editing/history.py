"""Every version of a flow file that the editor wrote, kept in the database.

The YAML files stay the source of truth; this is the record of who changed
what and when, and what `FlowEditor.restore` brings back. A file changed by
hand on disk is recorded too, as "found on disk", the next time the editor
writes it, so a restore can always go back to what was there before.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.errors import NotFound

__all__ = ["DiffLine", "FlowHistory", "VersionRecord", "diff_lines"]


class FlowVersion(Base):
    __tablename__ = "flow_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(500), index=True)
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255), nullable=True)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class VersionRecord:
    id: int
    path: str  # relative to the flows directory, with forward slashes
    content: str
    author: str | None  # None: found on disk, not written by the editor
    note: str
    created_at: datetime


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "context" or "hunk"
    text: str


def _record(row: FlowVersion) -> VersionRecord:
    return VersionRecord(
        row.id, row.path, row.content, row.author, row.note, aware_utc(row.created_at)
    )


def diff_lines(
    old: str, new: str, old_name: str = "before", new_name: str = "after"
) -> list[DiffLine]:
    """A unified diff as typed lines, for a page to colour."""
    lines: list[DiffLine] = []
    diff = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_name, new_name, n=3, lineterm=""
    )
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("remove", line[1:]))
        else:
            lines.append(DiffLine("context", line[1:]))
    return lines


class FlowHistory:
    """Versions of the flow files of one installation."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, path: str, content: str, author: str | None, note: str) -> VersionRecord:
        row = FlowVersion(
            path=path, content=content, author=author, note=note[:500], created_at=utcnow()
        )
        with self.database.session() as s, s.begin():
            s.add(row)
        return _record(row)

    def versions(self, path: str | None = None, limit: int = 200) -> list[VersionRecord]:
        """Newest first, optionally of one file."""
        with self.database.session() as s:
            stmt = select(FlowVersion)
            if path:
                stmt = stmt.where(FlowVersion.path == path)
            rows = s.scalars(stmt.order_by(FlowVersion.id.desc()).limit(limit))
            return [_record(r) for r in rows]

    def version(self, version_id: int) -> VersionRecord:
        with self.database.session() as s:
            row = s.get(FlowVersion, version_id)
            if row is None:
                raise NotFound(f"no version {version_id}; see the history page for the list")
            return _record(row)

    def latest(self, path: str) -> VersionRecord | None:
        found = self.versions(path, limit=1)
        return found[0] if found else None

    def previous(self, version: VersionRecord) -> VersionRecord | None:
        """The version of the same file just before this one."""
        with self.database.session() as s:
            row = s.scalars(
                select(FlowVersion)
                .where(FlowVersion.path == version.path, FlowVersion.id < version.id)
                .order_by(FlowVersion.id.desc())
                .limit(1)
            ).first()
            return _record(row) if row else None

    def paths(self) -> list[str]:
        with self.database.session() as s:
            return sorted(set(s.scalars(select(FlowVersion.path).distinct())))
