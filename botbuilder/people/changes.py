"""Every change to an account, for the editor's History: who, when, which account, what.

A row names accounts by id only (the one changed, and the admin who changed
it; no id for the command line), with the action, the role where one was
given, and where the change came from. No address, password or link is
stored: an address is looked up in `users` when History is shown, so when an
account is removed its address leaves History with it and only "a removed
account (#12)" remains. A row is only matched to an account made before it,
so an id that SQLite hands out again after a removal does not inherit the
old account's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.accounts import User
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database

__all__ = ["ACTIONS", "AccountChange", "AccountChanges", "VIA"]

# invited: made with a one-time link to choose a password; added: with a password given.
# role: a new role; password_reset: the old password stopped working, a link was made;
# password_set: a new password (through a link, or set on the command line).
ACTIONS = (
    "invited",
    "added",
    "role",
    "password_reset",
    "password_set",
    "deactivated",
    "reactivated",
    "removed",
)
VIA = ("admin", "cli", "link")  # the admin pages, `botbuilder user`, the person's own link


class AccountChangeRow(Base):
    __tablename__ = "account_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)  # no foreign key: outlives it
    by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: command line
    action: Mapped[str] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    via: Mapped[str] = mapped_column(String(8))


@dataclass(frozen=True)
class AccountChange:
    """One change as History shows it; an address is None once its account is removed."""

    id: int
    at: datetime
    action: str
    role: str | None
    via: str
    user_id: int
    user_email: str | None
    by_id: int | None
    by_email: str | None


class AccountChanges:
    """The record of account changes in one database."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    def record(
        self,
        user_id: int,
        action: str,
        *,
        by: int | None = None,
        role: str | None = None,
        via: str = "admin",
        session: Session | None = None,
    ) -> None:
        """Add one change; within `session` it is part of that change's transaction."""
        if action not in ACTIONS or via not in VIA:
            raise ValueError(f"unknown account change {action!r} via {via!r}")
        row = AccountChangeRow(
            at=self.clock(), user_id=user_id, by_id=by, action=action, role=role, via=via
        )
        if session is not None:
            session.add(row)
            return
        with self.database.session() as s, s.begin():
            s.add(row)

    def recent(self, limit: int = 200) -> list[AccountChange]:
        """The newest `limit` changes, newest first, with the addresses of accounts still here."""
        with self.database.session() as s:
            rows = s.scalars(
                select(AccountChangeRow)
                .order_by(AccountChangeRow.at.desc(), AccountChangeRow.id.desc())
                .limit(limit)
            ).all()
            ids = {r.user_id for r in rows} | {r.by_id for r in rows if r.by_id is not None}
            users = {
                u.id: (u.email, aware_utc(u.created_at))
                for u in s.scalars(select(User).where(User.id.in_(ids)))
            }

        def email(user_id: int | None, at: datetime) -> str | None:
            found = users.get(user_id) if user_id is not None else None
            return found[0] if found and found[1] <= at else None

        return [
            AccountChange(
                r.id,
                aware_utc(r.at),
                r.action,
                r.role,
                r.via,
                r.user_id,
                email(r.user_id, aware_utc(r.at)),
                r.by_id,
                email(r.by_id, aware_utc(r.at)),
            )
            for r in rows
        ]
