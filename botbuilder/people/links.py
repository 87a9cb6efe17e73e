"""One-time links to choose a password: for an invitation and for a password reset.

A link carries 256 random bits; only their SHA-256 is stored, so a copy of
the database opens no account. A link works once (it is deleted as it is
used, in one statement, so two tabs cannot both use it), until it expires
(`INVITE_VALID_FOR`, `RESET_VALID_FOR`), and only for an active account: a
newer link, a deactivation or the account's removal (a cascading foreign
key) ends it. The token is never logged; the server puts it in the link it
shows or mails (web/templates/people/password_mail.txt words the mail).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from botbuilder.accounts import DISABLED, Accounts, User, UserRecord, check_password
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.errors import N_, NotFound

__all__ = [
    "INVITE_VALID_FOR",
    "LinkRecord",
    "PasswordLinks",
    "RESET_VALID_FOR",
]

INVITE_VALID_FOR = timedelta(days=7)
RESET_VALID_FOR = timedelta(days=1)
PURPOSES = {"invite": INVITE_VALID_FOR, "reset": RESET_VALID_FOR}
_INVALID = N_(
    "this link to choose a password is not valid (any more): it was used, it expired, "
    "or a newer one was made. Ask an admin for a new one."
)


class PasswordLinkRow(Base):
    __tablename__ = "password_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class LinkRecord:
    user_id: int
    email: str
    purpose: str  # "invite" or "reset"
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class PasswordLinks:
    """The open links of one database; `redeem` sets the password through `accounts`."""

    def __init__(self, accounts: Accounts, clock: Callable[[], datetime] = utcnow) -> None:
        self.accounts = accounts
        self.database = accounts.database
        self.clock = clock

    def issue(self, user_id: int, purpose: str) -> tuple[str, datetime]:
        """A new token for `user_id` (its older links end) and when it expires."""
        now = self.clock()
        token, expires = secrets.token_urlsafe(32), now + PURPOSES[purpose]
        with self.database.session() as s, s.begin():
            s.execute(
                delete(PasswordLinkRow).where(
                    (PasswordLinkRow.user_id == user_id) | (PasswordLinkRow.expires_at <= now)
                )
            )
            s.add(
                PasswordLinkRow(
                    user_id=user_id,
                    token_hash=_hash(token),
                    purpose=purpose,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, expires

    def open_until(self, s: Session) -> dict[int, datetime]:
        """Each account with an open link, and until when it works."""
        rows = s.execute(
            select(PasswordLinkRow.user_id, func.max(PasswordLinkRow.expires_at))
            .where(PasswordLinkRow.expires_at > self.clock())
            .group_by(PasswordLinkRow.user_id)
        ).all()
        return {user_id: aware_utc(until) for user_id, until in rows}

    def revoke(self, user_id: int) -> None:
        """End every open link of `user_id` (a deactivated account gets no password)."""
        with self.database.session() as s, s.begin():
            s.execute(delete(PasswordLinkRow).where(PasswordLinkRow.user_id == user_id))

    def find(self, token: str) -> LinkRecord:
        """The link's account; NotFound when it is unknown, used, expired or deactivated."""
        if not token or len(token) > 200:
            raise NotFound(_INVALID)
        with self.database.session() as s:
            found = s.execute(
                select(PasswordLinkRow, User)
                .join(User, User.id == PasswordLinkRow.user_id)
                .where(PasswordLinkRow.token_hash == _hash(token))
            ).first()
            if found is None:
                raise NotFound(_INVALID)
            link, user = found
            expires = aware_utc(link.expires_at)
            if expires <= self.clock() or user.password_hash.startswith(DISABLED):
                raise NotFound(_INVALID)
            return LinkRecord(user.id, user.email, link.purpose, expires)

    def redeem(self, token: str, password: str) -> UserRecord:
        """Set the account's password through the link, which then ends; BadRequest if weak."""
        link = self.find(token)
        check_password(password, link.email)  # a weak password does not use the link up
        with self.database.session() as s, s.begin():
            used = s.execute(
                delete(PasswordLinkRow).where(
                    PasswordLinkRow.token_hash == _hash(token),
                    PasswordLinkRow.expires_at > self.clock(),
                )
            )
            if not getattr(used, "rowcount", 0):
                raise NotFound(_INVALID)  # used a moment ago, in another tab
            s.execute(delete(PasswordLinkRow).where(PasswordLinkRow.user_id == link.user_id))
        return self.accounts.set_password(link.email, password)
