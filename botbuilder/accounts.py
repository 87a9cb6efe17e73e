"""People who sign in: managers (editor), agents (console) and admins (both).

Passwords are stored as scrypt hashes (werkzeug.security) and must pass
`check_password` (passwords.py): long enough, not one of the most used
passwords, not the e-mail address's name, not `aaaaaaaaaa` or `1234567890`.

Failed logins are recorded in the database, not in memory, so the limits hold
across several server processes. They are keyed the way django-axes does with
`[["username", "ip_address"]]` and OWASP's "device cookie" variant of it, with
the client's network (an IPv4 address, an IPv6 /64) in place of the cookie:

- `MAX_FAILURES_PER_PAIR` failures for one account from one network throttle
  that pair only, so an attacker elsewhere cannot lock out the real user;
- `MAX_FAILURES_PER_NETWORK` failures from one network, for any accounts,
  throttle that network (one machine trying many addresses);
- `MAX_FAILURES_PER_ACCOUNT` failures for one account from all networks
  together (a botnet) throttle that account, but only from networks it never
  signed in from: from a known network the password is still checked.

A failure counts for `WINDOW`; failures older than that are deleted, and a
known network is forgotten `KNOWN_FOR` after its last successful login.

Each user has a session version, part of `UserRecord.session_key`, which the
server stores in the session at login and compares on every request. Logging
out (`end_sessions`) and a new password raise it, so every copy of an older
session cookie stops working.

    RequestError
    ├── LoginFailed        401: unknown address or wrong password (never says which)
    └── TooManyAttempts    429: too many failures; says how long to wait
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from botbuilder.content.emails import is_email
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.errors import N_, BadRequest, Conflict, NotFound, RequestError
from botbuilder.passwords import MIN_PASSWORD_LENGTH, check_password

__all__ = [
    "Accounts",
    "DISABLED",
    "LoginFailed",
    "MAX_FAILURES_PER_ACCOUNT",
    "MAX_FAILURES_PER_NETWORK",
    "MAX_FAILURES_PER_PAIR",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TooManyAttempts",
    "UserRecord",
    "check_password",
    "client_network",
]

ROLES = ("admin", "manager", "agent")
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_NETWORK = 20
MAX_FAILURES_PER_ACCOUNT = 30
KNOWN_FOR = timedelta(days=90)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the address is unknown, so a wrong address takes as long as a
    wrong password; made on first use (scrypt: ~0.15 s of CPU a server start needn't pay)."""
    return generate_password_hash("not a password of anyone", method="scrypt")


# Leads the hash of a deactivated account (as "!" locks one in /etc/shadow): see people.py.
DISABLED = "!"


class LoginFailed(RequestError):
    status = 401


class TooManyAttempts(RequestError):
    status = 429
    minutes = 1  # how long to wait, for a page that words it in its own language


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The pages' language and timezone; None: the browser's language, the bot's timezone.
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KnownNetwork(Base):
    """A network a user signed in from; failures elsewhere do not lock them out here."""

    __tablename__ = "login_networks"
    __table_args__ = (UniqueConstraint("user_id", "address"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class UserRecord:
    id: int
    email: str
    role: str
    created_at: datetime
    # Changes when the user logs out or the password changes, so older sessions end.
    session_key: str
    language: str | None = None  # None: the browser's
    timezone: str | None = None  # an IANA name; None: the bot's


def _record(row: User) -> UserRecord:
    key = hashlib.sha256(f"{row.session_version or 0}:{row.password_hash}".encode()).hexdigest()
    return UserRecord(
        row.id, row.email, row.role, aware_utc(row.created_at), key[:16], row.language, row.timezone
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def client_network(address: str) -> str:
    """Where a login comes from: the IPv4 address, or the /64 of an IPv6 address.

    One IPv6 connection owns a whole /64, so counting single IPv6 addresses
    would give an attacker billions of fresh ones.
    """
    text = (address or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return (text or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(
            N_("unknown role '%(role)s'; use one of %(roles)s"), role=role, roles=", ".join(ROLES)
        )
    return role


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
            raise BadRequest(N_("'%(email)s' is not an e-mail address"), email=email)
        check_role(role)
        check_password(password, address)
        row = User(
            email=address,
            password_hash=generate_password_hash(password, method="scrypt"),
            role=role,
            created_at=self.clock(),
            session_version=0,
        )
        try:
            with self.database.session() as s, s.begin():
                s.add(row)
        except IntegrityError as exc:
            raise Conflict(N_("there is already a user %(email)s"), email=address) from exc
        return _record(row)

    def remove(self, email: str) -> None:
        address = normalise_email(email)
        with self.database.session() as s, s.begin():
            user_id = s.scalar(select(User.id).where(User.email == address))
            if user_id is None:
                raise NotFound(N_("no user %(email)s"), email=address)
            s.execute(delete(KnownNetwork).where(KnownNetwork.user_id == user_id))
            s.execute(delete(User).where(User.id == user_id))

    def set_password(self, email: str, password: str) -> UserRecord:
        """A new password; every session of the account ends."""
        address = normalise_email(email)
        check_password(password, address)
        with self.database.session() as s, s.begin():
            row = s.scalars(select(User).where(User.email == address)).first()
            if row is None:
                raise NotFound(N_("no user %(email)s"), email=address)
            row.password_hash = generate_password_hash(password, method="scrypt")
            row.session_version = (row.session_version or 0) + 1
            # An admin's reset lets the person in again at once, wherever they are.
            s.execute(delete(LoginFailure).where(LoginFailure.email == address))
        return _record(row)

    def set_preferences(
        self, user_id: int, language: str | None, timezone: str | None, languages: Iterable[str]
    ) -> UserRecord:
        """Save the pages' language (one of `languages`) and timezone; None for the default."""
        if language is not None and language not in set(languages):
            raise BadRequest(
                N_("'%(language)s' is not a language of these pages"), language=language
            )
        if timezone is not None and timezone not in available_timezones():
            raise BadRequest(
                N_("'%(zone)s' is not a timezone; use a name like Europe/Amsterdam"), zone=timezone
            )
        with self.database.session() as s, s.begin():
            row = s.get(User, user_id)
            if row is None:
                raise NotFound(N_("no user %(id)s"), id=user_id)
            row.language, row.timezone = language, timezone
        return _record(row)

    def end_sessions(self, user_id: int) -> None:
        """Log the user out everywhere: every session signed before now stops working."""
        with self.database.session() as s, s.begin():
            s.execute(
                update(User)
                .where(User.id == user_id)
                .values(session_version=User.session_version + 1)
            )

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
        """The user with this address and password; LoginFailed or TooManyAttempts otherwise.

        `address` is the client's IP address; see the module docstring for the limits.
        """
        email = normalise_email(email)[:255]
        network = client_network(address)
        self.purge_login_records()
        with self.database.session() as s:
            row = s.scalars(select(User).where(User.email == email)).first()
            known = row is not None and self._known(s, row.id, network)
            self._check_limits(s, email, network, known)
            off = row is not None and row.password_hash.startswith(DISABLED)
            stored_hash = row.password_hash if row and not off else _dummy_hash()
        if not check_password_hash(stored_hash, password) or row is None or off:
            with self.database.session() as s, s.begin():
                s.add(LoginFailure(email=email, address=network, created_at=self.clock()))
            raise LoginFailed("that e-mail address and password do not match an account")
        with self.database.session() as s, s.begin():
            s.execute(
                delete(LoginFailure).where(
                    LoginFailure.email == email, LoginFailure.address == network
                )
            )
        self._remember(row.id, network)
        return _record(row)

    def purge_login_records(self) -> int:
        """Delete failures that no longer count and networks not used for `KNOWN_FOR`.

        Runs on every login attempt, so both tables stay bounded without a job;
        the number of rows deleted is returned for a retention run to report.
        """
        now = self.clock()
        with self.database.session() as s, s.begin():
            failures = s.execute(delete(LoginFailure).where(LoginFailure.created_at < now - WINDOW))
            networks = s.execute(
                delete(KnownNetwork).where(KnownNetwork.last_login_at < now - KNOWN_FOR)
            )
            return int(failures.rowcount or 0) + int(networks.rowcount or 0)  # type: ignore[attr-defined]

    def _known(self, s: Session, user_id: int, network: str) -> bool:
        found = s.scalar(
            select(KnownNetwork.id).where(
                KnownNetwork.user_id == user_id, KnownNetwork.address == network
            )
        )
        return found is not None

    def _remember(self, user_id: int, network: str) -> None:
        """Note that the user signed in from `network` (now)."""
        now = self.clock()
        where = and_(KnownNetwork.user_id == user_id, KnownNetwork.address == network)
        try:
            with self.database.session() as s, s.begin():
                updated = s.execute(update(KnownNetwork).where(where).values(last_login_at=now))
                if not updated.rowcount:  # type: ignore[attr-defined]
                    s.add(KnownNetwork(user_id=user_id, address=network, last_login_at=now))
        except IntegrityError:
            pass  # another process noted the same login at the same moment

    def _check_limits(self, s: Session, email: str, network: str, known: bool) -> None:
        since = self.clock() - WINDOW
        limits: list[tuple[Any, int]] = [
            (LoginFailure.address == network, MAX_FAILURES_PER_NETWORK),
            (
                and_(LoginFailure.email == email, LoginFailure.address == network),
                MAX_FAILURES_PER_PAIR,
            ),
        ]
        if not known:
            limits.append((LoginFailure.email == email, MAX_FAILURES_PER_ACCOUNT))
        for condition, limit in limits:
            times = list(
                s.scalars(
                    select(LoginFailure.created_at)
                    .where(condition, LoginFailure.created_at > since)
                    .order_by(LoginFailure.created_at.desc())
                    .limit(limit)
                )
            )
            if len(times) >= limit:
                free_at = aware_utc(times[-1]) + WINDOW
                minutes = max(1, math.ceil((free_at - self.clock()).total_seconds() / 60))
                refused = TooManyAttempts(
                    f"too many failed logins; try again in {minutes} minute"
                    f"{'s' if minutes != 1 else ''}, or ask an admin to reset the password "
                    "with 'botbuilder user set-password'"
                )
                refused.minutes = minutes
                raise refused
