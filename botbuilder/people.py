"""What an admin does with the people who sign in: invite, change a role, reset, (de)activate.

Kept apart from `accounts.py`, which signs people in and holds the password
rule; this module changes accounts on an admin's behalf and guards the one
rule accounts cannot break on their own: there is always an active admin.

A deactivated account keeps its row (its history and its address stay
known) and has `accounts.DISABLED` in front of its password hash, the way
"!" locks an account in /etc/shadow: no password matches it, so nobody
signs in with it, and no column or migration is needed. Every change here
raises the account's session version, so its open sessions end at once;
reactivating takes the mark off and the person's own password works again.

Passwords an admin hands out (an invitation, a reset) are generated here
from 120 random bits and shown to the admin once; they are never stored or
logged in the clear.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botbuilder.accounts import (
    DISABLED,
    Accounts,
    KnownNetwork,
    User,
    UserRecord,
    check_password,
    check_role,
    normalise_email,
)
from botbuilder.db.base import aware_utc
from botbuilder.errors import BadRequest, Conflict, NotFound

__all__ = ["People", "Person", "generated_password"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    """One account as the admin's list shows it."""

    id: int
    email: str
    role: str
    active: bool
    created_at: datetime
    # The newest login we still know of (networks are forgotten after accounts.KNOWN_FOR).
    last_sign_in: datetime | None


def generated_password(email: str = "") -> str:
    """A strong password for `email` that passes `check_password` (20 characters, 120 bits)."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            return check_password(password, email)
        except BadRequest:  # a random string that happens to look weak: draw again
            continue


class People:
    """The admin's view of `accounts`: every change checked, logged by id, sessions ended."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.database = accounts.database

    def list(self) -> list[Person]:
        with self.database.session() as s:
            last = dict(
                s.execute(
                    select(KnownNetwork.user_id, func.max(KnownNetwork.last_login_at)).group_by(
                        KnownNetwork.user_id
                    )
                ).all()
            )
            return [
                Person(
                    row.id,
                    row.email,
                    row.role,
                    not row.password_hash.startswith(DISABLED),
                    aware_utc(row.created_at),
                    aware_utc(last[row.id]) if last.get(row.id) else None,
                )
                for row in s.scalars(select(User).order_by(User.email))
            ]

    def person(self, user_id: int) -> Person:
        found = next((p for p in self.list() if p.id == user_id), None)
        if found is None:
            raise NotFound(f"no user with id {user_id}; they may have been removed")
        return found

    def invite(
        self, email: str, role: str, password: str = "", by: int = 0
    ) -> tuple[UserRecord, str]:
        """A new account, and the password to hand over (the one given, or a generated one)."""
        address = normalise_email(email)
        password = password or generated_password(address)
        user = self.accounts.add(address, password, role)
        log.info("admin %d added user %d as %s", by, user.id, user.role)
        return user, password

    def set_role(self, user_id: int, role: str, by: int = 0) -> None:
        check_role(role)
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if row.role == role:
                return
            if row.role == "admin" and _active(row):
                self._keep_an_admin(s, row, f"make {row.email} a {role}")
            row.role = role
            row.session_version = (row.session_version or 0) + 1
        log.info("admin %d made user %d a %s", by, user_id, role)

    def reset_password(self, user_id: int, by: int = 0) -> str:
        """A new generated password (shown once); every session of the account ends."""
        person = self.person(user_id)
        if not person.active:
            raise Conflict(f"{person.email} is deactivated; reactivate the account first")
        password = generated_password(person.email)
        self.accounts.set_password(person.email, password)
        log.info("admin %d reset the password of user %d", by, user_id)
        return password

    def deactivate(self, user_id: int, by: int = 0) -> None:
        """Nobody signs in with the account any more; its sessions end now."""
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if not _active(row):
                return
            if row.role == "admin":
                self._keep_an_admin(s, row, f"deactivate {row.email}")
            row.password_hash = DISABLED + row.password_hash
            row.session_version = (row.session_version or 0) + 1
        log.info("admin %d deactivated user %d", by, user_id)

    def reactivate(self, user_id: int, by: int = 0) -> None:
        """The account signs in again with its own password."""
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if _active(row):
                return
            row.password_hash = row.password_hash.removeprefix(DISABLED)
            row.session_version = (row.session_version or 0) + 1
        log.info("admin %d reactivated user %d", by, user_id)

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _row(s: Session, user_id: int) -> User:
        row = s.get(User, user_id)
        if row is None:
            raise NotFound(f"no user with id {user_id}; they may have been removed")
        return row

    @staticmethod
    def _keep_an_admin(s: Session, row: User, change: str) -> None:
        """Conflict if `row` is the last active admin: someone must be able to manage people."""
        # Lock the admins' rows (PostgreSQL; SQLite has one writer anyway), so two admins
        # demoting each other at the same moment cannot both succeed.
        admins = s.scalars(
            select(User).where(User.role == "admin", User.id != row.id).with_for_update()
        ).all()
        if not any(_active(a) for a in admins):
            raise Conflict(
                f"cannot {change}: they are the last active admin. "
                "Make someone else an admin first, so somebody can still manage people."
            )


def _active(row: User) -> bool:
    return not row.password_hash.startswith(DISABLED)
