"""People who sign in: managers (editor), agents (console) and admins (both).

Passwords are stored as scrypt hashes (werkzeug.security). Failed logins are
recorded in the database, not in memory, so the limit holds across several
server processes: after `MAX_FAILURES_PER_EMAIL` failures for one address, or
`MAX_FAILURES_PER_ADDRESS` from one network address, within `WINDOW`, logins
are refused until the oldest failure ages out.

    RequestError
    ├── LoginFailed        401: unknown address or wrong password (never says which)
    └── TooManyAttempts    429: too many failures; says how long to wait
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from botbuilder.content.emails import is_email
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.errors import BadRequest, Conflict, NotFound, RequestError

__all__ = [
    "Accounts",
    "LoginFailed",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TooManyAttempts",
    "UserRecord",
]

ROLES = ("admin", "manager", "agent")
MIN_PASSWORD_LENGTH = 10
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20
# Checked when the address is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


class LoginFailed(RequestError):
    status = 401


class TooManyAttempts(RequestError):
    status = 429


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class UserRecord:
    id: int
    email: str
    role: str
    created_at: datetime
    # Changes when the password changes, so sessions signed before that end.
    session_key: str


def _record(row: User) -> UserRecord:
    key = hashlib.sha256(row.password_hash.encode()).hexdigest()[:16]
    return UserRecord(row.id, row.email, row.role, aware_utc(row.created_at), key)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few words make a good one)"
        )
    return password


class Accounts:
    """The users of one installation, in its database."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    # -- managing users -------------------------------------------------------

    def add(self, email: str, password: str, role: str) -> UserRecord:
        """Create a user; Conflict if the address is taken."""
        address = normalise_email(email)
        if not is_email(address):
            raise BadRequest(f"'{email}' is not an e-mail address")
        check_role(role)
        check_password(password)
        row = User(
            email=address,
            password_hash=generate_password_hash(password, method="scrypt"),
            role=role,
            created_at=self.clock(),
        )
        try:
            with self.database.session() as s, s.begin():
                s.add(row)
        except IntegrityError as exc:
            raise Conflict(f"there is already a user {address}") from exc
        return _record(row)

    def remove(self, email: str) -> None:
        address = normalise_email(email)
        with self.database.session() as s, s.begin():
            deleted = s.execute(delete(User).where(User.email == address)).rowcount  # type: ignore[attr-defined]
        if not deleted:
            raise NotFound(f"no user {address}")

    def set_password(self, email: str, password: str) -> UserRecord:
        """A new password; sessions signed with the old one end."""
        check_password(password)
        address = normalise_email(email)
        with self.database.session() as s, s.begin():
            row = s.scalars(select(User).where(User.email == address)).first()
            if row is None:
                raise NotFound(f"no user {address}")
            row.password_hash = generate_password_hash(password, method="scrypt")
        return _record(row)

    def users(self) -> list[UserRecord]:
        with self.database.session() as s:
            return [_record(u) for u in s.scalars(select(User).order_by(User.email))]

    def user(self, user_id: int) -> UserRecord | None:
        with self.database.session() as s:
            row = s.get(User, user_id)
            return _record(row) if row else None

    def count(self) -> int:
        with self.database.session() as s:
            return int(s.scalar(select(func.count()).select_from(User)) or 0)

    # -- signing in -----------------------------------------------------------

    def authenticate(self, email: str, password: str, address: str = "") -> UserRecord:
        """The user with this address and password; LoginFailed or TooManyAttempts otherwise."""
        email = normalise_email(email)[:255]
        address = (address or "unknown")[:64]
        self._check_limits(email, address)
        with self.database.session() as s:
            row = s.scalars(select(User).where(User.email == email)).first()
            stored_hash = row.password_hash if row else _DUMMY_HASH
        if not check_password_hash(stored_hash, password) or row is None:
            with self.database.session() as s, s.begin():
                s.add(LoginFailure(email=email, address=address, created_at=self.clock()))
            raise LoginFailed("that e-mail address and password do not match an account")
        with self.database.session() as s, s.begin():
            s.execute(delete(LoginFailure).where(LoginFailure.email == email))
        return _record(row)

    def _check_limits(self, email: str, address: str) -> None:
        since = self.clock() - WINDOW
        with self.database.session() as s:
            for column, value, limit in (
                (LoginFailure.email, email, MAX_FAILURES_PER_EMAIL),
                (LoginFailure.address, address, MAX_FAILURES_PER_ADDRESS),
            ):
                times = list(
                    s.scalars(
                        select(LoginFailure.created_at)
                        .where(column == value, LoginFailure.created_at > since)
                        .order_by(LoginFailure.created_at.desc())
                        .limit(limit)
                    )
                )
                if len(times) >= limit:
                    free_at = aware_utc(times[-1]) + WINDOW
                    minutes = max(1, math.ceil((free_at - self.clock()).total_seconds() / 60))
                    raise TooManyAttempts(
                        f"too many failed logins; try again in {minutes} minute"
                        f"{'s' if minutes != 1 else ''}, or ask an admin to reset the password "
                        "with 'botbuilder user set-password'"
                    )
            # Old failures are of no use; drop them now and then, here, where it costs nothing extra.
            s.execute(delete(LoginFailure).where(LoginFailure.created_at < since - WINDOW))
            s.commit()
