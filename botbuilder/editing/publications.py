"""Publications of the flows: the whole flows folder as one replica saved it, in the database.

A row of `flow_publications` holds bot.yml and every flow file as text; its
id is the version counter replicas compare (`publishing.py` keeps a
replica's folder in step with the newest). At most `KEPT` are kept: History
(`history.py`) keeps every version of every file. A publication is loaded
on a scratch copy before a replica writes it (`problem_of_files`), and its
file names must stay inside the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import JSON, DateTime, Integer, String, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.content.loader import SETTINGS_FILE, flow_files, inspect_bot
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.editing.forms import EditConflict
from botbuilder.editing.history import FlowHistory

__all__ = [
    "Publication",
    "Publications",
    "file_hash",
    "folder_files",
    "problem_of",
    "problem_of_files",
    "publish_folder",
    "record_hand_edits",
]

KEPT = 20  # publications kept; History keeps every version of every file
_LOCK_KEY = 0x626F7462666C6F77  # "botbflow": PostgreSQL's advisory lock for publishing
PUBLISH_CONFLICT = (
    "another server published the flows at the same moment, so this change was not shared; "
    "it is kept in History. Open the page again and save once more."
)


class FlowPublication(Base):  # created by migration 0014
    __tablename__ = "flow_publications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(Integer, unique=True)  # 0: the first
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # relative path -> YAML text
    digest: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(255), nullable=True)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Publication:
    id: int
    parent_id: int
    files: dict[str, str]
    digest: str
    author: str | None  # None: published from the files (start, `check --publish`)
    note: str
    created_at: datetime


def folder_files(root: Path) -> dict[str, str]:
    """bot.yml and every flow file of a bot folder, by relative path, as text."""
    files = {}
    for path in [root / SETTINGS_FILE, *flow_files(root)]:
        with contextlib.suppress(FileNotFoundError):
            text_ = path.read_text(encoding="utf-8", errors="replace")
            files[path.relative_to(root).as_posix()] = text_
    return files


def _digest(files: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def file_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()


def _safe(rel: str) -> bool:
    """A publication's file name that stays inside the folder and that the loader reads."""
    path = PurePosixPath(rel)
    return (
        not path.is_absolute()
        and "\\" not in rel
        and "\0" not in rel
        and path.suffix in (".yml", ".yaml")
        and not any(part in ("", ".", "..") or part.startswith(".") for part in path.parts)
    )


def problem_of(root: Path) -> str | None:
    """The first error that keeps a bot folder from loading, or None when it loads."""
    bot, problems = inspect_bot(root)
    if bot is not None:
        return None
    error = next((p for p in problems if p.severity == "error"), None)
    if error is None:
        return "the flows do not load"
    with contextlib.suppress(ValueError):
        where = Path(error.path).resolve().relative_to(root.resolve()).as_posix()
        return f"{where}:{error.line}: {error.message}"
    return error.message


def problem_of_files(files: Mapping[str, str]) -> str | None:
    """Whether a publication loads, tried on a scratch copy before anything is written."""
    unsafe = [rel for rel in files if not _safe(rel)]
    if unsafe:
        return f"a file name that cannot be written safely: {unsafe[0]!r}"
    with tempfile.TemporaryDirectory(prefix="botbuilder-publication-") as tmp:
        root = Path(tmp) / "bot"
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(content, encoding="utf-8")
        return problem_of(root)


class Publications:
    """The `flow_publications` table of one installation."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def latest_id(self) -> int:
        """The newest publication's id (0: none): the cheap question asked four times a second."""
        with self.database.session() as s:
            return int(s.scalar(select(func.max(FlowPublication.id))) or 0)

    def latest(self) -> Publication | None:
        with self.database.session() as s:
            row = s.scalars(
                select(FlowPublication).order_by(FlowPublication.id.desc()).limit(1)
            ).first()
            return _publication(row) if row else None

    def publish(
        self, files: Mapping[str, str], parent_id: int, author: str | None, note: str
    ) -> Publication:
        """A new publication on top of `parent_id`; EditConflict if another took that place."""
        row = FlowPublication(
            parent_id=parent_id,
            files=dict(files),
            digest=_digest(files),
            author=author,
            note=note[:500],
            created_at=utcnow(),
        )
        try:
            with self.database.session() as s, s.begin():
                s.add(row)
        except IntegrityError as exc:
            raise EditConflict(PUBLISH_CONFLICT, None) from exc
        with self.database.session() as s, s.begin():
            s.execute(delete(FlowPublication).where(FlowPublication.id <= row.id - KEPT))
        return _publication(row)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One publisher at a time across replicas: an advisory lock on PostgreSQL.

        On SQLite (one machine) the unique `parent_id` alone keeps two
        publications from both building on the same one.
        """
        if self.database.engine.dialect.name != "postgresql":
            yield
            return
        with self.database.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                    connection.commit()
                except Exception:  # a lost connection: its session, and so the lock, is gone
                    connection.invalidate()


def _publication(row: FlowPublication) -> Publication:
    return Publication(
        row.id,
        row.parent_id,
        dict(row.files),
        row.digest,
        row.author,
        row.note,
        aware_utc(row.created_at),
    )


def record_hand_edits(history: FlowHistory | None, files: Mapping[str, str], note: str) -> None:
    """Files that differ from their newest version in History, recorded as found on disk."""
    if history is None:
        return
    for rel, content in files.items():
        latest = history.latest(rel)
        if latest is None or latest.content != content:
            history.record(rel, content, None, note)


def publish_folder(
    publications: Publications, history: FlowHistory | None, root: Path, note: str
) -> Publication | None:
    """Publish a folder as it is (`botbuilder check --publish`); None: it is the newest already.

    The caller has checked that the folder loads.
    """
    with publications.locked():
        latest = publications.latest()
        files = folder_files(root)
        if latest is not None and latest.files == files:
            return None
        record_hand_edits(history, files, note)
        return publications.publish(files, latest.id if latest else 0, None, note)
