"""Announcements for busy moments: a storm cancels Sunday's ride, an outage, a data incident.

A manager posts a notice with a text per language, a start, an optional end
and optional intents it overrides. While it runs, the widget shows it at the
top of every open chat, and a question matched to one of its intents gets
the notice first, then the usual answer. "End now" stops it at once.

Announcements live in the database, so every replica sees one as soon as it
is posted: replicas read it on each request (a small indexed query), they
keep no copy of their own. A notice holds no member data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.db.ids import fits_id
from botbuilder.errors import N_, BadRequest, NotFound

__all__ = ["MAX_NOTICE_CHARS", "AnnouncementRecord", "Announcements"]

MAX_NOTICE_CHARS = 1000  # a notice is a few lines at the top of a chat, not a page
MAX_ANNOUNCEMENT_INTENTS = 200


class Announcement(Base):
    __tablename__ = "announcements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    texts: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> notice
    intents: Mapped[list[str]] = mapped_column(JSON, default=list)  # answered with it first
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class AnnouncementRecord:
    id: int
    texts: Mapping[str, str]
    intents: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None  # planned end; None: until ended by hand
    ended_at: datetime | None  # ended by hand ("End now")
    author: str

    def text(self, language: str, default: str) -> str:
        """The notice in `language`, else in the bot's language, else any."""
        return (
            self.texts.get(language) or self.texts.get(default) or next(iter(self.texts.values()))
        )

    def running(self, now: datetime) -> bool:
        ends = min((t for t in (self.ends_at, self.ended_at) if t is not None), default=None)
        return self.starts_at <= now and (ends is None or now < ends)

    def as_json(self, language: str, default: str) -> dict[str, object]:
        ends = self.ended_at or self.ends_at
        return {
            "id": self.id,
            "text": self.text(language, default),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": ends.isoformat() if ends else None,
        }


def _record(row: Announcement) -> AnnouncementRecord:
    return AnnouncementRecord(
        row.id,
        dict(row.texts),
        tuple(row.intents or ()),
        aware_utc(row.starts_at),
        aware_utc(row.ends_at) if row.ends_at else None,
        aware_utc(row.ended_at) if row.ended_at else None,
        row.author,
    )


class Announcements:
    """The installation's announcements, in its one database."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    def post(
        self,
        texts: Mapping[str, str],
        author: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        intents: Sequence[str] = (),
    ) -> AnnouncementRecord:
        """A new notice; BadRequest naming the problem when it cannot run as given."""
        kept = {lang: text.strip() for lang, text in texts.items() if text and text.strip()}
        if not kept:
            raise BadRequest(N_("write the notice in at least one language"))
        too_long = [lang for lang, text in kept.items() if len(text) > MAX_NOTICE_CHARS]
        if too_long:
            raise BadRequest(
                N_(
                    "a notice may be at most %(most)d characters (%(languages)s is longer); "
                    "link to a page for the rest"
                ),
                most=MAX_NOTICE_CHARS,
                languages=", ".join(too_long),
            )
        if len(intents) > MAX_ANNOUNCEMENT_INTENTS:
            raise BadRequest(
                N_("a notice may override at most %(most)d intents"), most=MAX_ANNOUNCEMENT_INTENTS
            )
        starts = starts_at or self.clock()
        if ends_at is not None and ends_at <= starts:
            raise BadRequest(N_("the end must be after the start"))
        row = Announcement(
            texts=kept,
            intents=list(dict.fromkeys(intents)),
            starts_at=starts,
            ends_at=ends_at,
            author=author,
            created_at=self.clock(),
        )
        with self.database.session() as s, s.begin():
            s.add(row)
        return _record(row)

    def end(self, announcement_id: int) -> AnnouncementRecord:
        """Stop a notice now (one switch); ending an ended one changes nothing."""
        now = self.clock()
        if not fits_id(announcement_id):
            raise NotFound(N_("no announcement %(id)s"), id=announcement_id)
        with self.database.session() as s, s.begin():
            s.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.ended_at.is_(None))
                .values(ended_at=now)
            )
            row = s.get(Announcement, announcement_id)
            if row is None:
                raise NotFound(N_("no announcement %(id)s"), id=announcement_id)
            return _record(row)

    def running(self) -> list[AnnouncementRecord]:
        """The notices running now, newest first."""
        now = self.clock()
        with self.database.session() as s:
            rows = s.scalars(
                select(Announcement)
                .where(
                    Announcement.starts_at <= now,
                    Announcement.ended_at.is_(None),
                    or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
                )
                .order_by(Announcement.id.desc())
                .limit(20)
            )
            return [_record(r) for r in rows]

    def recent(self, limit: int = 50) -> list[AnnouncementRecord]:
        """Running, planned and past notices, newest first, for the manager's page."""
        with self.database.session() as s:
            rows = s.scalars(select(Announcement).order_by(Announcement.id.desc()).limit(limit))
            return [_record(r) for r in rows]

    def overriding(self, intent: str | None) -> list[AnnouncementRecord]:
        """The running notices a question matched to `intent` is answered with first."""
        if intent is None:
            return []
        return [a for a in self.running() if intent in a.intents]
