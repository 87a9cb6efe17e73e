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

An invitation (without a password the admin chose) and a reset give the
account a generated password nobody is told, and a one-time link
(`links.py`) with which the person chooses their own. Every change is
recorded in `changes.py` for History, by account id.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
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
from botbuilder.errors import N_, BadRequest, Conflict, NotFound
from botbuilder.people.changes import AccountChanges
from botbuilder.people.links import PasswordLinks

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
    # Until when an open link to choose a password works (invited or reset, not yet used).
    link_open_until: datetime | None = None


def generated_password(email: str = "") -> str:
    """A strong password for `email` that passes `check_password` (20 characters, 120 bits)."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            return check_password(password, email)
        except BadRequest:  # a random string that happens to look weak: draw again
            continue


class People:
    """The admin's view of `accounts`: every change checked, recorded by id, sessions ended.

    `by` is the id of the admin making a change, None on the command line (`via`).
    `release` gives back the conversations of an agent who leaves (deactivated or
    removed) to their teams' queues (`conversations/release.py`).
    """

    def __init__(self, accounts: Accounts, release: Callable[[str], int] | None = None) -> None:
        self.accounts = accounts
        self.release = release
        self.database = accounts.database
        self.changes = AccountChanges(accounts.database, accounts.clock)
        self.links = PasswordLinks(accounts, accounts.clock)

    def list(self) -> list[Person]:
        with self.database.session() as s:
            last = dict(
                s.execute(
                    select(KnownNetwork.user_id, func.max(KnownNetwork.last_login_at)).group_by(
                        KnownNetwork.user_id
                    )
                ).all()
            )
            links = self.links.open_until(s)
            return [
                Person(
                    row.id,
                    row.email,
                    row.role,
                    not row.password_hash.startswith(DISABLED),
                    aware_utc(row.created_at),
                    aware_utc(last[row.id]) if last.get(row.id) else None,
                    links.get(row.id),
                )
                for row in s.scalars(select(User).order_by(User.email))
            ]

    def person(self, user_id: int) -> Person:
        found = next((p for p in self.list() if p.id == user_id), None)
        if found is None:
            raise NotFound(N_("no user with id %(id)s; they may have been removed"), id=user_id)
        return found

    def invite(
        self, email: str, role: str, password: str = "", by: int | None = None, via: str = "admin"
    ) -> tuple[UserRecord, str | None]:
        """A new account, and a one-time link token to choose its password (None if given)."""
        address = normalise_email(email)
        user = self.accounts.add(address, password or generated_password(address), role)
        token = None if password else self.links.issue(user.id, "invite")[0]
        action = "added" if password else "invited"
        self.changes.record(user.id, action, by=by, role=user.role, via=via)
        log.info("%s %s %s user %d as %s", via, _who(by), action, user.id, user.role)
        return user, token

    def set_role(self, user_id: int, role: str, by: int | None = None, via: str = "admin") -> None:
        check_role(role)
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if row.role == role:
                return
            if row.role == "admin" and _active(row):
                self._keep_an_admin(s, row, _LAST_ADMIN_ROLE)
            row.role = role
            row.session_version = (row.session_version or 0) + 1
            self.changes.record(user_id, "role", by=by, role=role, via=via, session=s)
        log.info("%s %s made user %d a %s", via, _who(by), user_id, role)

    def reset_password(self, user_id: int, by: int | None = None, via: str = "admin") -> str:
        """The old password stops working and every session ends; returns a one-time link token."""
        person = self.person(user_id)
        if not person.active:
            raise Conflict(
                N_("%(email)s is deactivated; reactivate the account first"), email=person.email
            )
        self.accounts.set_password(person.email, generated_password(person.email))  # told nobody
        token, _ = self.links.issue(user_id, "reset")
        self.changes.record(user_id, "password_reset", by=by, via=via)
        log.info("%s %s reset the password of user %d", via, _who(by), user_id)
        return token

    def deactivate(self, user_id: int, by: int | None = None, via: str = "admin") -> None:
        """Nobody signs in with the account any more; its sessions end now."""
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if not _active(row):
                return
            if row.role == "admin":
                self._keep_an_admin(s, row, _LAST_ADMIN_DEACTIVATE)
            row.password_hash = DISABLED + row.password_hash
            row.session_version = (row.session_version or 0) + 1
            self.changes.record(user_id, "deactivated", by=by, role=row.role, via=via, session=s)
            email = row.email
        self.links.revoke(user_id)  # an open invitation must not bring the account back
        if self.release is not None:
            self.release(email)
        log.info("%s %s deactivated user %d", via, _who(by), user_id)

    def reactivate(self, user_id: int, by: int | None = None, via: str = "admin") -> None:
        """The account signs in again with its own password."""
        with self.database.session() as s, s.begin():
            row = self._row(s, user_id)
            if _active(row):
                return
            row.password_hash = row.password_hash.removeprefix(DISABLED)
            row.session_version = (row.session_version or 0) + 1
            self.changes.record(user_id, "reactivated", by=by, role=row.role, via=via, session=s)
        log.info("%s %s reactivated user %d", via, _who(by), user_id)

    def choose_password(self, token: str, password: str) -> UserRecord:
        """The person sets their password through a one-time link, which then ends."""
        user = self.links.redeem(token, password)
        self.changes.record(user.id, "password_set", by=user.id, via="link")
        log.info("link: user %d chose a password", user.id)
        return user

    def set_password(self, email: str, password: str, via: str = "cli") -> UserRecord:
        """A password given on the command line; the account's links and sessions end.

        A deactivated account is active again with it (its hash loses the mark), which
        History records too.
        """
        address = normalise_email(email)
        was = next((p for p in self.list() if p.email == address), None)
        user = self.accounts.set_password(address, password)
        self.links.revoke(user.id)
        self.changes.record(user.id, "password_set", via=via)
        if was is not None and not was.active:
            self.changes.record(user.id, "reactivated", role=user.role, via=via)
        return user

    def remove(self, email: str, via: str = "cli") -> None:
        """Delete the account; History keeps its id and what happened, not its address."""
        address = normalise_email(email)
        found = next((p for p in self.list() if p.email == address), None)
        self.accounts.remove(address)  # NotFound names the address when there is none
        if found is not None:
            self.changes.record(found.id, "removed", role=found.role, via=via)
        if self.release is not None:
            self.release(address)

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _row(s: Session, user_id: int) -> User:
        row = s.get(User, user_id)
        if row is None:
            raise NotFound(N_("no user with id %(id)s; they may have been removed"), id=user_id)
        return row

    @staticmethod
    def _keep_an_admin(s: Session, row: User, refusal: str) -> None:
        """Conflict, saying `refusal`, if `row` is the last active admin: someone must be
        able to manage people."""
        # Lock the admins' rows (PostgreSQL; SQLite has one writer anyway), so two admins
        # demoting each other at the same moment cannot both succeed.
        admins = s.scalars(
            select(User).where(User.role == "admin", User.id != row.id).with_for_update()
        ).all()
        if not any(_active(a) for a in admins):
            raise Conflict(refusal, email=row.email)


_LAST_ADMIN_ROLE = N_(
    "cannot change the role of %(email)s: they are the last active admin. "
    "Make someone else an admin first, so somebody can still manage people."
)
_LAST_ADMIN_DEACTIVATE = N_(
    "cannot deactivate %(email)s: they are the last active admin. "
    "Make someone else an admin first, so somebody can still manage people."
)


def _who(by: int | None) -> str:
    return f"user {by}" if by is not None else "command line"


def _active(row: User) -> bool:
    return not row.password_hash.startswith(DISABLED)
