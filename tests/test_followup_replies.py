"""Follow-ups answered from the console: the reply goes out by SMTP (a real aiosmtpd server),
threaded with the question, lands in the transcript, and the follow-up is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .mail_server import MailServer, mail_server, smtp_server
from .test_console import ANN, PASSWORD, post, sign_in

__all__ = ["mail_server"]  # the fixture, imported for pytest

TEAM_ADDRESS = "leden@club.example.org"
QUESTION = "Mijn factuur klopt niet, kan iemand kijken?"


def _with_team_address(bot_dir: Path) -> Path:
    bot_yml = bot_dir / "bot.yml"
    text = bot_yml.read_text(encoding="utf-8")
    bot_yml.write_text(text.replace("    leden: {}", f"    leden: {{email: {TEAM_ADDRESS}}}"))
    return bot_dir


def _app(app_factory: Any, bot_dir: Path, database_url: str, **config: Any) -> Any:
    app = app_factory(_with_team_address(bot_dir), database_url, **config)
    app.extensions["botbuilder"].accounts.add(ANN, PASSWORD, "agent")
    return app


def _follow_up(app: Any, email: str = "lid@example.org") -> int:
    """A member who asks for a person while nobody is online and leaves an address."""
    app.extensions["botbuilder"].queue.set_presence(ANN, "away")
    member = app.test_client()
    conversation = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": QUESTION})
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"})
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": email})
    queue = app.extensions["botbuilder"].queue
    [follow_up] = queue.follow_ups()
    return int(follow_up.id)


@pytest.fixture
def mail_app(app_factory, bot_dir: Path, database_url: str, mail_server: MailServer):  # type: ignore[no-untyped-def]
    app = _app(app_factory, bot_dir, database_url, SMTP_URL=mail_server.url())
    yield app
    app.extensions["botbuilder"].storage.close()


def test_a_reply_from_the_console_arrives_threaded_and_closes_the_follow_up(
    mail_app: Any, mail_server: MailServer
) -> None:
    follow_up_id = _follow_up(mail_app)
    queue = mail_app.extensions["botbuilder"].queue
    follow_up = queue.follow_up(follow_up_id)
    ann = sign_in(mail_app, ANN)
    queue_page = ann.get("/console").text
    assert f'data-follow-up-reply="{follow_up_id}"' in queue_page
    form = ann.get(f"/console/follow-ups/{follow_up_id}")
    assert form.status_code == 200 and 'id="follow-up-reply-form"' in form.text
    assert TEAM_ADDRESS in form.text

    sent = post(
        ann,
        f"/console/follow-ups/{follow_up_id}/reply",
        text="Hoi! We hebben je factuur verbeterd.",
    )

    assert sent.status_code == 302
    [message] = mail_server.messages
    assert mail_server.recipients == [["lid@example.org"]]
    assert message["From"] == TEAM_ADDRESS and message["Reply-To"] == TEAM_ADDRESS
    assert message["Subject"].startswith("Re: ")
    root = f"<follow-up-{follow_up_id}.{follow_up.conversation_id}@club.example.org>"
    assert message["In-Reply-To"] == root and message["References"] == root
    assert "We hebben je factuur verbeterd." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    done = queue.follow_up(follow_up_id)
    assert done.status == "done" and done.done_by == ANN
    assert done.reply_message_id == message["Message-ID"]
    transcript = queue.storage.messages(follow_up.conversation_id)
    assert transcript[-1].role == "agent"
    assert transcript[-1].text == "Hoi! We hebben je factuur verbeterd."
    page = ann.get(f"/console/follow-ups/{follow_up_id}").text
    assert 'id="follow-up-done"' in page and 'id="follow-up-reply-form"' not in page


def test_the_subject_is_re_and_the_members_question(mail_app: Any, mail_server: MailServer) -> None:
    follow_up_id = _follow_up(mail_app)
    queue = mail_app.extensions["botbuilder"].queue
    queue_row = queue.follow_up(follow_up_id)
    ann = sign_in(mail_app, ANN)

    post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Opgelost.")

    [message] = mail_server.messages
    question = " ".join(queue_row.question.split())
    assert message["Subject"] == (f"Re: {question}" if question else "Re: Testvereniging")


def test_a_refused_mail_shows_the_error_keeps_the_draft_and_the_follow_up_stays_open(
    app_factory: Any, bot_dir: Path, database_url: str, tmp_path: Path
) -> None:
    # A server that wants a login over STARTTLS, and a URL without one: it refuses the mail.
    with smtp_server(tmp_path, starttls=True, login=True) as server:
        url = server.url(query=f"starttls=1&cafile={server.cafile}")
        app = _app(app_factory, bot_dir, database_url, SMTP_URL=url)
        follow_up_id = _follow_up(app)
        ann = sign_in(app, ANN)

        sent = post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Mijn concept")

    assert sent.status_code == 502
    assert 'id="mail-error"' in sent.text and "Not sent." in sent.text
    assert "Mijn concept</textarea>" in sent.text
    queue = app.extensions["botbuilder"].queue
    assert queue.follow_up(follow_up_id).status == "open"
    conversation = queue.follow_up(follow_up_id).conversation_id
    assert all(m.role != "agent" for m in queue.storage.messages(conversation))
    assert server.messages == []
    app.extensions["botbuilder"].storage.close()


def test_an_unreachable_mail_server_answers_json_with_502(
    app_factory: Any, bot_dir: Path, database_url: str
) -> None:
    app = _app(app_factory, bot_dir, database_url, SMTP_URL="smtp://127.0.0.1:1?timeout=2")
    follow_up_id = _follow_up(app)
    ann = sign_in(app, ANN)

    sent = ann.post(
        f"/console/follow-ups/{follow_up_id}/reply",
        json={"text": "Hallo"},
        headers={"X-CSRF-Token": ann.csrf},
    )

    assert sent.status_code == 502
    assert sent.json["ok"] is False and "connection refused" in sent.json["error"]
    assert app.extensions["botbuilder"].queue.follow_up(follow_up_id).status == "open"
    app.extensions["botbuilder"].storage.close()


def test_without_smtp_the_console_keeps_the_mailto_link_and_refuses_a_reply(
    app_factory: Any, bot_dir: Path, database_url: str
) -> None:
    app = _app(app_factory, bot_dir, database_url)
    follow_up_id = _follow_up(app)
    ann = sign_in(app, ANN)

    assert 'href="mailto:lid@example.org"' in ann.get("/console").text
    page = ann.get(f"/console/follow-ups/{follow_up_id}").text
    assert 'href="mailto:lid@example.org"' in page and 'id="follow-up-reply-form"' not in page
    refused = post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Hallo")
    assert refused.status_code == 409 and "BOTBUILDER_SMTP_URL" in refused.text
    app.extensions["botbuilder"].storage.close()


def test_an_empty_reply_is_refused_and_sends_nothing(
    mail_app: Any, mail_server: MailServer
) -> None:
    follow_up_id = _follow_up(mail_app)
    ann = sign_in(mail_app, ANN)

    refused = post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="   ")

    assert refused.status_code == 400 and "write a reply first" in refused.text
    assert mail_server.messages == []


def test_a_follow_up_already_done_is_not_answered_twice(
    mail_app: Any, mail_server: MailServer
) -> None:
    follow_up_id = _follow_up(mail_app)
    ann = sign_in(mail_app, ANN)
    post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Eerste antwoord")

    again = post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Tweede antwoord")

    assert again.status_code == 409 and len(mail_server.messages) == 1


def test_the_reply_form_needs_the_csrf_token(mail_app: Any, mail_server: MailServer) -> None:
    follow_up_id = _follow_up(mail_app)
    ann = sign_in(mail_app, ANN)

    forged = ann.post(f"/console/follow-ups/{follow_up_id}/reply", data={"text": "Hallo"})

    assert forged.status_code in (400, 403) and mail_server.messages == []


def test_members_cannot_open_a_follow_up(mail_app: Any) -> None:
    follow_up_id = _follow_up(mail_app)

    page = mail_app.test_client().get(f"/console/follow-ups/{follow_up_id}")

    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_a_follow_up_a_colleague_is_answering_is_refused_and_sends_nothing(
    mail_app: Any, mail_server: MailServer
) -> None:
    follow_up_id = _follow_up(mail_app)
    queue = mail_app.extensions["botbuilder"].queue
    queue.start_reply(follow_up_id, "bob@example.org")  # Bob pressed Send a moment earlier
    ann = sign_in(mail_app, ANN)

    refused = post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Ook een antwoord")

    assert refused.status_code == 409 and "bob@example.org" in refused.text
    assert mail_server.messages == []
    assert "is sending a reply" in ann.get(f"/console/follow-ups/{follow_up_id}").text
    queue.release_reply(follow_up_id)  # Bob's mail failed: open again, and Ann can answer
    assert post(ann, f"/console/follow-ups/{follow_up_id}/reply", text="Hier").status_code == 302
    assert len(mail_server.messages) == 1
