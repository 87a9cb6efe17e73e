"""The mailer against a real SMTP server (aiosmtpd): plain, STARTTLS, login, threading, failures."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from botbuilder.errors import ConfigError, MailError
from botbuilder.integrations.mail import Mailer, mailer_from_url, parse_smtp_url

from .mail_server import PASSWORD, MailServer, mail_server, smtp_server

__all__ = ["mail_server"]  # the fixture, imported for pytest

FROM = "support@club.example.org"


def test_a_message_arrives_with_text_html_and_a_message_id(mail_server: MailServer) -> None:
    mailer = Mailer.from_url(mail_server.url(), default_from=FROM)

    message_id = mailer.send(
        ["jan@example.org"], "Weekly figures", "42 conversations", "<p>42 conversations</p>"
    )

    [message] = mail_server.messages
    assert message["Message-ID"] == message_id and message_id.endswith("@club.example.org>")
    assert message["From"] == FROM and message["Subject"] == "Weekly figures"
    assert mail_server.recipients == [["jan@example.org"]]
    assert message.get_body(("plain",)).get_content().strip() == "42 conversations"  # type: ignore[union-attr]
    assert "<p>42 conversations</p>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_reply_carries_in_reply_to_and_references(mail_server: MailServer) -> None:
    mailer = Mailer.from_url(mail_server.url(), default_from=FROM)

    mailer.send(
        ["jan@example.org"],
        "Re: my invoice",
        "Fixed.",
        in_reply_to="<q1@club.example.org>",
        references=["<root@club.example.org>"],
        reply_to=FROM,
    )

    [message] = mail_server.messages
    assert message["In-Reply-To"] == "<q1@club.example.org>"
    assert message["References"] == "<root@club.example.org> <q1@club.example.org>"
    assert message["Reply-To"] == FROM


def test_a_subject_with_line_breaks_stays_one_header_line(mail_server: MailServer) -> None:
    Mailer.from_url(mail_server.url(), default_from=FROM).send(
        ["jan@example.org"], "Re: hello\r\nBcc: evil@example.org", "x"
    )

    [message] = mail_server.messages
    assert message["Subject"] == "Re: hello Bcc: evil@example.org"
    assert message["Bcc"] is None and mail_server.recipients == [["jan@example.org"]]


def test_starttls_and_login_send_the_password_only_over_tls(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True, login=True) as server:
        url = server.url(login=True, query=f"starttls=1&cafile={server.cafile}")
        Mailer.from_url(url, default_from=FROM).send(["jan@example.org"], "Hi", "over TLS")

    assert server.tls_used == [True] and server.logins == ["bot"]


# aiosmtpd cannot tell that an implicit-TLS session is encrypted, so it warns about its login.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_sends_over_tls_from_the_first_byte(tmp_path: Path) -> None:
    with smtp_server(tmp_path, implicit_tls=True, login=True) as server:
        url = f"smtps://bot:{PASSWORD}@{server.host}:{server.port}?cafile={server.cafile}"
        Mailer.from_url(url, default_from=FROM).send(["jan@example.org"], "Hi", "over TLS")

    # The server speaks only TLS, so a message and a login got through on it.
    assert len(server.messages) == 1 and server.logins == ["bot"]


def test_an_untrusted_certificate_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True, login=True) as server:
        mailer = Mailer.from_url(server.url(login=True, query="starttls=1"), default_from=FROM)
        with pytest.raises(MailError, match="TLS certificate is not trusted"):
            mailer.send(["jan@example.org"], "Hi", "x")

    assert server.messages == []


def test_a_wrong_password_fails_without_showing_it(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True, login=True) as server:
        url = f"smtp://bot:wrong-one@{server.host}:{server.port}?starttls=1&cafile={server.cafile}"
        with pytest.raises(MailError, match="refused the login") as caught:
            Mailer.from_url(url, default_from=FROM).send(["jan@example.org"], "Hi", "x")

    assert "wrong-one" not in str(caught.value) and server.messages == []


def test_no_password_is_sent_to_a_server_without_starttls(
    mail_server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"smtp://bot:{PASSWORD}@{mail_server.host}:{mail_server.port}"
    caplog.set_level(logging.DEBUG)

    with pytest.raises(MailError, match="does not offer STARTTLS"):
        Mailer.from_url(url, default_from=FROM).send(["jan@example.org"], "Hi", "x")

    assert mail_server.messages == [] and PASSWORD not in caplog.text


def test_a_refused_recipient_fails_without_naming_the_address(mail_server: MailServer) -> None:
    mailer = Mailer.from_url(mail_server.url(), default_from=FROM)

    with pytest.raises(MailError, match="refused the recipient") as caught:
        mailer.send(["refuse.me@example.org"], "Hi", "x")

    assert "refuse.me" not in str(caught.value)


def test_a_server_that_is_not_there_fails_with_a_clear_message() -> None:
    mailer = Mailer.from_url("smtp://127.0.0.1:1?timeout=2", default_from=FROM)

    with pytest.raises(
        MailError, match=r"cannot send mail through 127.0.0.1:1: connection refused"
    ):
        mailer.send(["jan@example.org"], "Hi", "x")


def test_the_log_names_the_message_and_a_count_never_the_addresses_or_text(
    mail_server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="botbuilder")

    Mailer.from_url(mail_server.url(), default_from=FROM).send(
        ["jan@example.org"], "Private subject", "private words"
    )

    assert "1 recipient(s)" in caplog.text
    for secret in ("jan@example.org", "private words", "Private subject"):
        assert secret not in caplog.text


def test_a_missing_sender_is_a_clear_error(mail_server: MailServer) -> None:
    with pytest.raises(MailError, match="BOTBUILDER_MAIL_FROM"):
        Mailer.from_url(mail_server.url()).send(["jan@example.org"], "Hi", "x")


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user"),
    [
        ("smtp://user:pa%40ss@mail.example.org:587", "mail.example.org", 587, "required", "user"),
        ("smtp://user:pass@mail.example.org", "mail.example.org", 587, "required", "user"),
        ("smtp://mail.example.org:25", "mail.example.org", 25, "optional", None),
        ("smtp://localhost:25?starttls=0", "localhost", 25, "never", None),
        ("smtps://user:pass@mail.example.org", "mail.example.org", 465, "implicit", "user"),
    ],
)
def test_the_smtp_url_says_host_port_tls_and_login(
    url: str, host: str, port: int, tls: str, user: str | None
) -> None:
    settings = parse_smtp_url(url)

    assert (settings.host, settings.port, settings.tls, settings.username) == (
        host,
        port,
        tls,
        user,
    )
    assert "pass" not in repr(settings)


def test_an_unusable_smtp_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url("http://user:topsecret@mail.example.org")

    assert "topsecret" not in str(caught.value)


def test_no_url_means_no_mailer() -> None:
    assert mailer_from_url(None) is None and mailer_from_url("") is None
