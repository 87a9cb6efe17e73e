"""The weekly digest: last week's figures, sent to a real SMTP server (aiosmtpd), once across
replicas by the scheduler, or by `botbuilder digest` from cron."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from botbuilder.cli import main
from botbuilder.content.loader import load_bot
from botbuilder.content.model import Bot
from botbuilder.conversations.notify import Notifier
from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message, Storage
from botbuilder.insights.gaps import Suggestion
from botbuilder.integrations.mail import Mailer
from botbuilder.jobs.digest import compose_digest, deliver_digest
from botbuilder.jobs.schedule import DIGEST_JOB, JobServices, server_jobs
from botbuilder.jobs.scheduler import Scheduler
from botbuilder.server.app import start_scheduler

from .mail_server import MailServer, mail_server
from .test_notify import Receiver

__all__ = ["mail_server"]  # the fixture, imported for pytest

MONDAY = date(2026, 11, 30)  # the digest of 23-29 November, against 16-22 November
MONDAY_NINE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
MANAGER = "bestuur@club.example.org"
SENDER = "bot@club.example.org"


def _with_digest(bot_dir: Path, extra: str = "") -> Bot:
    bot_yml = bot_dir / "bot.yml"
    bot_yml.write_text(
        bot_yml.read_text(encoding="utf-8")
        + f"digest:\n  to: [{MANAGER}]\n  weekday: mon\n  hour: 8\n{extra}",
        encoding="utf-8",
    )
    return load_bot(bot_dir)


def _conversation(
    storage: Storage,
    day: date,
    decision: str,
    intent: str | None = None,
    helpful: bool | None = None,
) -> None:
    """One conversation on `day` (noon, Amsterdam): a member question and the bot's decision."""
    at = datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
    conversation = storage.create_conversation("nl").id
    storage.add_message(conversation, "member", "vraag", decision=decision, intent=intent)
    reply = storage.add_message(conversation, "bot", "antwoord", intent=intent, decision=decision)
    if helpful is not None:
        storage.set_feedback(conversation, reply.id, helpful)
    if decision == "handoff":
        storage.open_handoff(conversation, "leden", "low_confidence", "vraag")
        storage.add_message(conversation, "agent", "ik help je")
    with storage.engine.begin() as c:
        c.execute(
            update(Conversation)
            .where(Conversation.id == conversation)
            .values(created_at=at, updated_at=at)
        )
        c.execute(
            update(Message).where(Message.conversation_id == conversation).values(created_at=at)
        )
        c.execute(
            update(Feedback).where(Feedback.conversation_id == conversation).values(created_at=at)
        )
        c.execute(
            update(Handoff).where(Handoff.conversation_id == conversation).values(created_at=at)
        )
        agent = Message.conversation_id == conversation, Message.role == "agent"
        c.execute(update(Message).where(*agent).values(created_at=at + timedelta(minutes=3)))


@pytest.fixture
def storage(database_url: str) -> Storage:
    storage = Storage(database_url)
    week = [MONDAY - timedelta(days=n) for n in range(1, 8)]
    _conversation(storage, week[0], "answer", "contributie", helpful=False)
    _conversation(storage, week[1], "answer", "contributie", helpful=False)
    _conversation(storage, week[2], "answer", "opzeggen", helpful=True)
    _conversation(storage, week[3], "handoff")
    before = [MONDAY - timedelta(days=n) for n in range(8, 15)]
    _conversation(storage, before[0], "answer", "opzeggen")
    _conversation(storage, before[1], "clarify")
    return storage


def _gap(n: int, title: str, members: int) -> Suggestion:
    return Suggestion(
        id=f"nl{n}",
        kind="new_intent",
        intent=f"gap-{n}",
        title=title,
        language="nl",
        count=members + 1,
        members=members,
        questions=("private member words",),
        message_ids=(n,),
        state="new",
    )


# Members asking for something the example bot has no intent for (route files).
GPX = [
    "waar kan ik de gpx van de zondagsrit downloaden?",
    "kan ik de route van woensdagavond als gpx krijgen",
    "hoe download ik de gpx-bestanden van de clubritten",
    "is er een gpx van de toertocht van zaterdag?",
    "gpx file van de rit van afgelopen zondag graag",
    "waar staan de gpx routes om te downloaden",
    "route downloaden lukt niet, waar staat de gpx",
    "hebben jullie de routes als gpx-bestand?",
]
GAPS = [_gap(n, f"Onderwerp {n}", 10 - n) for n in range(1, 7)]
GAPS[0] = _gap(1, "Routes <script>alert(1)</script>", 9)


def test_the_digest_mail_arrives_with_last_weeks_figures(
    storage: Storage, bot_dir: Path, mail_server: MailServer
) -> None:
    bot = _with_digest(bot_dir)
    digest = compose_digest(storage, bot, MONDAY, gaps=GAPS, public_url="https://bot.example.org/")
    mailer = Mailer.from_url(mail_server.url(), default_from=SENDER)

    outcome = deliver_digest(digest, bot, slot="2026-W49", mailer=mailer, notifier=None)

    assert outcome.startswith("e-mailed to 1 recipient(s)")
    [message] = mail_server.messages
    assert mail_server.recipients == [[MANAGER]] and message["From"] == SENDER
    assert message["Subject"] == "Testvereniging: weekly digest 2026-11-23 to 2026-11-29"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Conversations: 4 (week before: 2)" in text
    assert "Answered by the bot: 75% (+25 points against the week before)" in text
    assert "Handoffs: 1, taken 0; first response median 3 min (p90 3 min)" in text
    assert "Top 5 questions the bot misses:" in text and "Onderwerp 6" not in text
    assert "1. Routes <script>alert(1)</script> (nl): 10 questions from 9 conversations" in text
    assert "Open the inbox: https://bot.example.org/editor/inbox" in text
    assert "- contributie: 2 not helpful, 0 helpful" in text
    assert "opzeggen:" not in text.split("Worst-rated answers:")[1]  # only rated helpful
    assert "private member words" not in text
    page = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in page and "Routes &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://bot.example.org/editor/inbox">' in page


def test_without_a_public_url_the_digest_gives_the_inbox_path(
    storage: Storage, bot_dir: Path
) -> None:
    digest = compose_digest(storage, _with_digest(bot_dir), MONDAY, gaps=GAPS[:1])

    assert "Open the inbox: /editor/inbox" in digest.text and "<a href" not in digest.html


def test_a_quiet_week_says_so_instead_of_a_change(database_url: str, bot_dir: Path) -> None:
    digest = compose_digest(Storage(database_url), _with_digest(bot_dir), MONDAY)

    assert "Conversations: 0 (week before: 0)" in digest.text
    assert "no figures for the week before" in digest.text
    assert "No new gaps in the inbox." in digest.text
    assert "first response median n/a" in digest.text


def test_two_replicas_send_the_weekly_digest_once(
    storage: Storage, bot_dir: Path, mail_server: MailServer
) -> None:
    bot = _with_digest(bot_dir)
    mailer = Mailer.from_url(mail_server.url(), default_from=SENDER)
    jobs = server_jobs(
        JobServices(database=storage, bot=lambda: bot, mailer=mailer, clock=lambda: MONDAY_NINE)
    )
    replicas = [
        Scheduler(storage, jobs, name=f"replica-{n}", clock=lambda: MONDAY_NINE) for n in range(2)
    ]
    barrier = threading.Barrier(2)

    def tick(scheduler: Scheduler) -> None:
        barrier.wait()
        scheduler.tick()
        scheduler.tick()

    threads = [threading.Thread(target=tick, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(mail_server.messages) == 1
    assert "Conversations: 4" in mail_server.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [run] = replicas[0].runs(DIGEST_JOB)
    assert run.slot == "2026-W49" and run.finished_at and not run.failed
    assert run.outcome and run.outcome.startswith("e-mailed to 1 recipient(s)")


def test_no_digest_job_without_recipients(storage: Storage, bot_dir: Path) -> None:
    bot = load_bot(bot_dir)

    names = [job.name for job in server_jobs(JobServices(database=storage, bot=lambda: bot))()]

    assert "weekly-digest" not in names and names == ["privacy-purge", "insights-keep"]


def test_a_digest_the_mail_server_refuses_is_recorded_as_failed_for_a_retry(
    storage: Storage, bot_dir: Path
) -> None:
    bot = _with_digest(bot_dir)
    mailer = Mailer.from_url("smtp://127.0.0.1:1?timeout=2", default_from=SENDER)
    jobs = server_jobs(JobServices(database=storage, bot=lambda: bot, mailer=mailer))
    scheduler = Scheduler(storage, jobs, clock=lambda: MONDAY_NINE)

    scheduler.tick()

    [run] = scheduler.runs(DIGEST_JOB)
    assert run.failed and run.outcome and "connection refused" in run.outcome


def _cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, Any]:
    return {
        "BOTBUILDER_DATABASE_URL": database_url,
        "BOTBUILDER_INSTANCE_PATH": str(tmp_path / "instance"),
        "BOTBUILDER_SMTP_URL": "",
        "BOTBUILDER_MAIL_FROM": "",
        "BOTBUILDER_PUBLIC_URL": "",
        **extra,
    }


def test_botbuilder_digest_dry_run_prints_it_and_sends_nothing(
    storage: Storage, bot_dir: Path, database_url: str, tmp_path: Path, mail_server: MailServer
) -> None:
    _with_digest(bot_dir)
    env = _cli_env(database_url, tmp_path, BOTBUILDER_SMTP_URL=mail_server.url())

    result = CliRunner().invoke(
        main,
        ["digest", str(bot_dir), "--today", "2026-11-30", "--no-gaps", "--dry-run"],
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "Conversations: 4 (week before: 2)" in result.output
    assert mail_server.messages == []


def test_botbuilder_digest_sends_to_the_address_given(
    storage: Storage, bot_dir: Path, database_url: str, tmp_path: Path, mail_server: MailServer
) -> None:
    _with_digest(bot_dir)
    env = _cli_env(
        database_url, tmp_path, BOTBUILDER_SMTP_URL=mail_server.url(), BOTBUILDER_MAIL_FROM=SENDER
    )

    result = CliRunner().invoke(
        main,
        ["digest", str(bot_dir), "--today", "2026-11-30", "--no-gaps", "--to", "ik@example.org"],
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "e-mailed to 1 recipient(s)" in result.output
    assert mail_server.recipients == [["ik@example.org"]]


def test_botbuilder_digest_without_smtp_says_what_to_set(
    storage: Storage, bot_dir: Path, database_url: str, tmp_path: Path
) -> None:
    _with_digest(bot_dir)

    result = CliRunner().invoke(
        main,
        ["digest", str(bot_dir), "--today", "2026-11-30", "--no-gaps"],
        env=_cli_env(database_url, tmp_path),
    )

    assert result.exit_code == 1 and "BOTBUILDER_SMTP_URL is not set" in result.output


def test_a_bad_today_is_a_usage_error(bot_dir: Path, database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["digest", str(bot_dir), "--today", "30-11-2026", "--no-gaps"],
        env=_cli_env(database_url, tmp_path),
    )

    assert result.exit_code == 2 and "2026-11-30" in result.output


def test_the_digest_is_posted_to_the_teams_webhook_with_chat_markup_escaped(
    storage: Storage, bot_dir: Path
) -> None:
    receiver = Receiver()
    try:
        bot_yml = bot_dir / "bot.yml"
        bot_yml.write_text(
            bot_yml.read_text(encoding="utf-8").replace(
                "    leden: {}", f"    leden: {{webhook: '{receiver.url}'}}"
            )
            + "digest:\n  teams: [leden]\n",
            encoding="utf-8",
        )
        bot = load_bot(bot_dir)
        notifier = Notifier(storage)
        digest = compose_digest(storage, bot, MONDAY, gaps=GAPS[:1])

        outcome = deliver_digest(digest, bot, slot="2026-W49", mailer=None, notifier=notifier)
        notifier.wait(10)
    finally:
        receiver.close()

    assert outcome == "posted to team leden"
    [body] = receiver.bodies
    assert body["event"] == "digest" and body["week"] == "2026-W49" and body["team"] == "leden"
    assert "Conversations: 4 (week before: 2)" in body["text"]
    assert "Routes &lt;script&gt;" in body["text"] and "<script>" not in body["text"]


def test_serve_starts_the_scheduler_unless_it_is_off(app_factory: Any, bot_dir: Path) -> None:
    off = app_factory(bot_dir, SCHEDULER="off")
    assert start_scheduler(off) is False
    on = app_factory(bot_dir)
    try:
        assert start_scheduler(on) is True
        assert on.extensions["botbuilder"].scheduler.running
    finally:
        on.extensions["botbuilder"].scheduler.stop()
    assert not on.extensions["botbuilder"].scheduler.running


def test_the_servers_digest_job_names_the_inbox_gaps_with_links(
    app_factory: Any, bot_dir: Path, mail_server: MailServer
) -> None:
    flows = bot_dir
    with (flows / "bot.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"\ndigest:\n  to: [{MANAGER}]\n")
    app = app_factory(
        flows,
        SMTP_URL=mail_server.url(),
        MAIL_FROM=SENDER,
        PUBLIC_URL="https://bot.example.org",
    )
    client = app.test_client()
    for n, question in enumerate(GPX):
        network = {"REMOTE_ADDR": f"10.0.{n}.1"}
        conversation = client.post("/api/v1/conversations", json={}, environ_base=network)
        url = f"/api/v1/conversations/{conversation.json['conversation_id']}"
        reply = client.post(f"{url}/messages", json={"text": question}, environ_base=network)
        if reply.json["decision"] == "answer":  # a wrong answer, marked not helpful
            rated = {"message_id": reply.json["messages"][0]["id"], "helpful": False}
            client.post(f"{url}/feedback", json=rated, environ_base=network)
    built = app.extensions["botbuilder"]
    [digest_job] = [job for job in built.scheduler.jobs() if job.name == DIGEST_JOB]

    outcome = digest_job.run("2026-W48")

    assert outcome.startswith("e-mailed to 1 recipient(s)")
    [message] = mail_server.messages
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. " in text and "questions from" in text, text
    assert "Open the inbox: https://bot.example.org/editor/inbox" in text
    for question in GPX:
        assert question not in text  # gaps are named by title and counts, not members' words
    built.storage.close()
