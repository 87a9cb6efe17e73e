"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, collecting what it receives.

Optionally with STARTTLS (a self-signed certificate made by the `openssl`
command for 127.0.0.1) and a login (one user and password).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "bot", "s3cret-pass"


@dataclass
class MailServer:
    host: str
    port: int
    cafile: str | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls_used: list[bool] = field(default_factory=list)

    def url(self, *, login: bool = False, query: str = "") -> str:
        auth = f"{USER}:{PASSWORD}@" if login else ""
        return f"smtp://{auth}{self.host}:{self.port}" + (f"?{query}" if query else "")


class _Collector:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802
        if address.startswith("refuse"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.server.messages.append(message)  # type: ignore[arg-type]
        self.server.recipients.append(list(envelope.rcpt_tos))
        self.server.tls_used.append(session.ssl is not None)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with the openssl command (skip without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed, so no certificate for STARTTLS")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(
    folder: Path | None = None,
    *,
    starttls: bool = False,
    login: bool = False,
    implicit_tls: bool = False,
) -> Iterator[MailServer]:
    """A running SMTP server; with `starttls` or `implicit_tls`, `folder` holds its certificate."""
    server = MailServer("127.0.0.1", _free_port())
    kwargs: dict[str, Any] = {}
    if starttls or implicit_tls:
        assert folder is not None
        cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server.cafile = str(cert)
        if implicit_tls:
            kwargs.update(ssl_context=context)
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if login:

        def authenticate(
            smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login == USER.encode()
                and data.password == PASSWORD.encode()
            )
            if ok:
                server.logins.append(USER)
            return AuthResult(success=ok, handled=False)

        kwargs.update(
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=starttls,  # with implicit TLS the whole session is encrypted
        )
    controller = Controller(_Collector(server), hostname=server.host, port=server.port, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A plain SMTP server without TLS or login (a relay on this machine)."""
    with smtp_server() as server:
        yield server
