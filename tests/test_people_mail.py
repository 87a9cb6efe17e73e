"""Invitations and password resets mailed to a real local SMTP server (aiosmtpd): the mail
arrives in plain text with a one-time link on BOTBUILDER_PUBLIC_URL, the link sets a
password through Flask's test client, and neither the link's token nor the address is
logged. Without a public URL, or when the mail fails, the admin is shown the link instead.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .mail_server import MailServer, mail_server
from .test_admin_people import NEW_PASSWORD, choose_password, one_time_link
from .test_editor import PASSWORD, login

__all__ = ["mail_server"]  # the fixture, imported for pytest

PUBLIC = "https://bot.example.org"
SENDER = "bot@example.org"


def _mail_app(app_factory: Any, bot_dir: Path, server: MailServer, **config: Any) -> Any:
    settings = {"SMTP_URL": server.url(), "MAIL_FROM": SENDER, "PUBLIC_URL": PUBLIC} | config
    app = app_factory(bot_dir, **{k: v for k, v in settings.items() if v is not None})
    accounts = app.extensions["botbuilder"].accounts
    accounts.add("admin@example.org", PASSWORD, "admin")
    accounts.add("manager@example.org", PASSWORD, "manager")
    return app


@pytest.fixture
def mail_app(app_factory: Any, bot_dir: Path, mail_server: MailServer) -> Any:  # noqa: F811
    app = _mail_app(app_factory, bot_dir, mail_server)
    yield app
    app.extensions["botbuilder"].storage.close()


def _admin(app: Any) -> Any:
    client = app.test_client()
    client.csrf = login(client, "admin@example.org")
    return client


def _post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data})


def _link_in(text: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC)}/password/\S+", text)
    assert found, text
    return found.group(0)


def _signs_in(app: Any, email: str, password: str) -> bool:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=data).status_code == 302


def test_an_invitation_is_mailed_in_plain_text_and_its_link_sets_the_password(
    mail_app: Any,
    mail_server: MailServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        page = _post(_admin(mail_app), "/admin/users", email="nieuw@example.org", role="agent")
        assert page.status_code == 201
        assert "We e-mailed them a link" in page.text
        assert "/password/" not in page.text  # the admin never sees the link
        assert mail_server.recipients == [["nieuw@example.org"]]
        mail = mail_server.messages[0]
        assert mail["From"] == SENDER and mail["Subject"] == "You are invited to botbuilder"
        assert mail.get_content_type() == "text/plain" and not mail.is_multipart()
        body = mail.get_content()
        link = _link_in(body)
        assert "(as agent)" in body and "works once" in body
        done = choose_password(mail_app, link)
        assert done.status_code == 200 and 'id="password-set"' in done.text
    assert _signs_in(mail_app, "nieuw@example.org", NEW_PASSWORD)
    token = urlsplit(link).path.rpartition("/")[2]
    assert len(token) >= 40
    # Our own logs (not those of aiosmtpd, the receiving server here, which logs every line).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "sent user" in logged  # the mail was logged, by user id
    for secret in (token, "nieuw@example.org", NEW_PASSWORD):
        assert secret not in logged
    assert choose_password(mail_app, link).status_code == 404  # once only


def test_a_password_reset_is_mailed_and_the_old_password_stops_working(
    mail_app: Any,
    mail_server: MailServer,  # noqa: F811
) -> None:
    target = next(
        u.id
        for u in mail_app.extensions["botbuilder"].accounts.users()
        if u.email == "manager@example.org"
    )
    page = _post(_admin(mail_app), f"/admin/users/{target}/password")
    assert page.status_code == 200 and "We e-mailed them a link" in page.text
    assert not _signs_in(mail_app, "manager@example.org", PASSWORD)
    mail = mail_server.messages[-1]
    assert mail_server.recipients[-1] == ["manager@example.org"]
    assert mail["Subject"] == "Choose a new botbuilder password"
    assert choose_password(mail_app, _link_in(mail.get_content())).status_code == 200
    assert _signs_in(mail_app, "manager@example.org", NEW_PASSWORD)


def test_without_a_public_url_nothing_is_mailed_and_the_admin_gets_the_link(
    app_factory: Any,
    bot_dir: Path,
    mail_server: MailServer,  # noqa: F811
) -> None:
    app = _mail_app(app_factory, bot_dir, mail_server, PUBLIC_URL=None)
    page = _post(_admin(app), "/admin/users", email="nieuw@example.org", role="manager")
    assert page.status_code == 201
    assert "BOTBUILDER_PUBLIC_URL is not set" in page.text
    assert mail_server.messages == []
    assert choose_password(app, one_time_link(page.text)).status_code == 200
    assert _signs_in(app, "nieuw@example.org", NEW_PASSWORD)


def test_a_mail_the_server_refuses_shows_the_link_and_why(
    mail_app: Any,
    mail_server: MailServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        page = _post(_admin(mail_app), "/admin/users", email="refuse@example.org", role="agent")
    assert page.status_code == 201  # the account is made; only the mail failed
    assert "the mail failed" in page.text and "refused the recipient" in page.text
    link = one_time_link(page.text)
    assert link.startswith(f"{PUBLIC}/password/")
    assert mail_server.messages == []
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "was not sent" in logged
    assert urlsplit(link).path.rpartition("/")[2] not in logged
    assert choose_password(mail_app, link).status_code == 200
