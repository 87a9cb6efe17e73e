"""E-mail over SMTP: the weekly digest and agents' replies to follow-ups.

One URL says where and how to send (`BOTBUILDER_SMTP_URL`):

- `smtp://user:pass@host:587`: STARTTLS, required (port 587 is the
  submission port, where a password must never travel in the clear);
- `smtp://host:25`: STARTTLS when the server offers it; without a user name
  no login;
- `smtps://user:pass@host` (port 465 by default): TLS from the first byte;
- query options: `starttls=1` (require), `starttls=0` (never: a relay on
  the same machine), `timeout=SECONDS` (default 20), `cafile=PATH` (a private
  CA for the server's certificate).

A password is only ever sent over TLS: a server that offers no STARTTLS
where a login is needed gets no login and the mail fails with a message
that says why. The standard library does the work (`smtplib`,
`email.message.EmailMessage`), so there is nothing to install. Logs and
errors name the server and counts, never the password, a recipient's
address or what the mail says.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from botbuilder.content.emails import is_email
from botbuilder.errors import ConfigError, MailError

__all__ = ["Mailer", "SmtpSettings", "mailer_from_url", "one_line"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0  # seconds per connection step
_SCHEMES = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "implicit" (smtps), "required", "optional" (when offered), "never"
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"SmtpSettings(host={self.host!r}, port={self.port}, tls={self.tls!r})"

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """The settings in an `smtp://` or `smtps://` URL; a ConfigError names what is wrong."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.hostname:
        raise ConfigError(
            "BOTBUILDER_SMTP_URL must look like smtp://user:password@host:587 "
            "or smtps://user:password@host (the password is not shown here)"
        )
    try:
        port = parts.port or (587 if parts.username and scheme == "smtp" else _SCHEMES[scheme])
    except ValueError as exc:
        raise ConfigError("BOTBUILDER_SMTP_URL has a port that is not a number") from exc
    options = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = options.get("starttls", "").lower()
    if scheme == "smtps":
        tls = "implicit"
    elif starttls in ("0", "no", "off", "false"):
        tls = "never"
    elif starttls in ("1", "yes", "on", "true") or port == 587:
        tls = "required"
    elif starttls in ("", "auto"):
        tls = "optional"
    else:
        raise ConfigError(f"BOTBUILDER_SMTP_URL: starttls must be 1, 0 or auto, not {starttls!r}")
    try:
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError as exc:
        raise ConfigError("BOTBUILDER_SMTP_URL: timeout must be a number of seconds") from exc
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        cafile=options.get("cafile") or None,
    )


def one_line(text: str, limit: int = 120) -> str:
    """`text` fit for a header such as Subject: one line, at most `limit` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class Mailer:
    """Sends one message per call over a fresh SMTP connection (digests and replies are few)."""

    def __init__(self, settings: SmtpSettings, default_from: str | None = None) -> None:
        self.settings = settings
        self.default_from = default_from

    @classmethod
    def from_url(cls, url: str, default_from: str | None = None) -> Mailer:
        return cls(parse_smtp_url(url), default_from)

    def send(
        self,
        to: Sequence[str],
        subject: str,
        text: str,
        html: str | None = None,
        *,
        from_addr: str | None = None,
        reply_to: str | None = None,
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        message_id: str | None = None,
    ) -> str:
        """Send one message; returns its Message-ID. Raises MailError when it is not sent."""
        message = self.compose(
            to,
            subject,
            text,
            html,
            from_addr=from_addr,
            reply_to=reply_to,
            in_reply_to=in_reply_to,
            references=references,
            message_id=message_id,
        )
        self._deliver(message, len(to))
        return str(message["Message-ID"])

    def compose(
        self,
        to: Sequence[str],
        subject: str,
        text: str,
        html: str | None = None,
        *,
        from_addr: str | None = None,
        reply_to: str | None = None,
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        message_id: str | None = None,
    ) -> EmailMessage:
        """The message `send` would send (text, with an HTML alternative when given)."""
        sender = from_addr or self.default_from
        if not sender or not is_email(sender):
            raise MailError(
                "no sender address: set BOTBUILDER_MAIL_FROM, or an e-mail for the team in bot.yml"
            )
        if not to or not all(is_email(a) for a in to):
            raise MailError(f"cannot send mail: {len(to)} recipient(s), not all e-mail addresses")
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(to)
        message["Subject"] = one_line(subject, 200)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = message_id or make_msgid(domain=Address(addr_spec=sender).domain)
        if reply_to:
            message["Reply-To"] = reply_to
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
        chain = [r for r in (*references, in_reply_to) if r]
        if chain:
            message["References"] = " ".join(dict.fromkeys(chain))
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def _deliver(self, message: EmailMessage, recipients: int) -> None:
        cfg = self.settings
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if cfg.tls in ("required", "optional"):
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=self._tls())
                        smtp.ehlo()
                    elif cfg.tls == "required" or cfg.username:
                        raise MailError(
                            f"the mail server {cfg.server} does not offer STARTTLS, so botbuilder "
                            "will not send it a password; use smtps://, or add ?starttls=0 "
                            "for a relay without a login on this machine"
                        )
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                smtp.send_message(message)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"the mail server {cfg.server} refused the login ({exc.smtp_code}); "
                "check the user and password in BOTBUILDER_SMTP_URL"
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError(f"the mail server {cfg.server} refused the recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(
                f"the mail server {cfg.server} refused the sender address ({exc.smtp_code}); "
                "it may only accept its own addresses as From"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"the mail server {cfg.server} answered {exc.smtp_code}: {_said(exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise MailError(f"cannot send mail through {cfg.server}: {_reason(exc)}") from None
        log.info("mail: sent %s to %d recipient(s)", message["Message-ID"], recipients)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.settings
        if cfg.tls == "implicit":
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls())
        return smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)


def mailer_from_url(url: str | None, default_from: str | None = None) -> Mailer | None:
    """A mailer for `BOTBUILDER_SMTP_URL`, or None when it is not set (mail is off)."""
    return Mailer.from_url(url, default_from) if url else None


def _said(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return one_line(text, 200)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, socket.gaierror):
        return "the host name is unknown"
    return one_line(str(exc) or type(exc).__name__, 200)
