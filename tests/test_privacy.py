"""A member's data under the AVG/GDPR: deletion and export on request, retention, and
deleted text really gone from the SQLite files. Real databases, the real command."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, select, text, update

import botbuilder.server.app  # noqa: F401  (every room's tables in Base.metadata)
from botbuilder.cli import main
from botbuilder.content.bot_settings import read_settings
from botbuilder.conversations.notify import WebhookDelivery
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.store import Conversation, Handoff, Storage
from botbuilder.db.base import Base, utcnow
from botbuilder.errors import FlowProblem

ADDRESS = "Jan.Jansen_77@example.org"
SECRET = "mijn huisnummer is 42b en ik heet Jan Jansen"
OTHER = "een vraag van iemand anders over de contributie"


@dataclass
class Setup:
    storage: Storage
    env: dict[str, str]
    instance: Path


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    """A database (SQLite, and PostgreSQL when configured) that the command is pointed at."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    env = {"BOTBUILDER_INSTANCE_PATH": str(instance), "BOTBUILDER_DATABASE_URL": database_url}
    storage = Storage(database_url)
    yield Setup(storage, env, instance)
    storage.close()


def _run(setup: Setup, *args: str) -> Result:
    return CliRunner().invoke(main, ["privacy", *args], env=setup.env, catch_exceptions=False)


def _member_conversation(storage: Storage, address: str = ADDRESS, secret: str = SECRET) -> str:
    """A conversation with every kind of row: messages, handoff, note, follow-up,
    feedback, a webhook delivery and (where the table exists) an idempotency key."""
    queue = HandoffQueue(storage)
    conversation = storage.create_conversation("nl")
    cid = conversation.id
    greeting = storage.add_message(cid, "bot", "Hoi! Waar kan ik je mee helpen?")
    storage.add_message(cid, "member", secret)
    storage.set_feedback(cid, greeting.id, True)
    storage.open_handoff(cid, "leden", "asked", secret)
    queue.note(cid, "agent@club.example", f"belt terug: {secret}")
    queue.offer_follow_up(cid, "leden", "nl", secret)
    storage.add_message(cid, "member", f"mail me op {address}")
    queue.leave_email(cid, address, secret)
    storage.add_message(cid, "bot", f"Dank je, we mailen naar {address}.")
    with storage.session() as s, s.begin():
        now = utcnow()
        s.add(
            WebhookDelivery(
                conversation_id=cid,
                team="leden",
                status="delivered",
                attempts=1,
                last_error=None,
                created_at=now,
                updated_at=now,
            )
        )
    if "idempotency_keys" in _tables(storage):
        from botbuilder.conversations.idempotency import IdempotencyKeys

        keys = IdempotencyKeys(storage)
        keys.claim(cid, "k1", "d" * 64)
        keys.finish(cid, "k1", 201, {"messages": [{"text": secret}]})
    return cid


def _tables(storage: Storage) -> list[str]:
    metadata = MetaData()
    metadata.reflect(storage.engine)
    return list(metadata.tables)


def _everything(storage: Storage) -> str:
    """Every value of every table, as text: Base.metadata's tables and any other in the database."""
    names = sorted(set(Base.metadata.tables) | set(_tables(storage)))
    found: list[str] = []
    with storage.engine.connect() as c:
        for name in names:
            for row in c.execute(text(f'SELECT * FROM "{name}"')):
                found.append(" ".join(str(v) for v in row))
    return "\n".join(found).lower()


def test_deleting_by_email_leaves_no_table_holding_the_address_or_the_members_text(
    setup: Setup,
) -> None:
    _member_conversation(setup.storage)
    _member_conversation(setup.storage)  # the same member came back later
    other = _member_conversation(setup.storage, "piet@example.net", OTHER)
    assert ADDRESS.lower() in _everything(setup.storage)

    result = _run(setup, "delete", "--email", ADDRESS.upper())

    assert result.exit_code == 0, result.output
    assert "of 2 conversation(s)" in result.output
    everything = _everything(setup.storage)
    assert ADDRESS.lower() not in everything
    assert SECRET.lower() not in everything
    assert OTHER in everything and "piet@example.net" in everything
    assert setup.storage.conversation(other).id == other


def test_deleting_by_conversation_takes_only_that_conversation(setup: Setup) -> None:
    mine = _member_conversation(setup.storage, "a@example.org", SECRET)
    kept = _member_conversation(setup.storage, "b@example.org", OTHER)

    result = _run(setup, "delete", "--conversation", mine)

    assert result.exit_code == 0, result.output
    everything = _everything(setup.storage)
    assert mine not in everything and SECRET.lower() not in everything
    assert "a@example.org" not in everything
    assert kept in everything and OTHER in everything


def test_deleted_text_is_gone_from_the_sqlite_files(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    file = instance / "botbuilder.sqlite"
    storage = Storage(f"sqlite:///{file}")
    _member_conversation(storage)
    _member_conversation(storage, "piet@example.net", OTHER)
    raw = _raw(file)
    assert SECRET.encode() in raw and ADDRESS.encode() in raw  # the files do hold it first

    env = {"BOTBUILDER_INSTANCE_PATH": str(instance), "BOTBUILDER_DATABASE_URL": ""}
    result = CliRunner().invoke(main, ["privacy", "delete", "--email", ADDRESS], env=env)

    assert result.exit_code == 0, result.output
    raw = _raw(file)
    assert SECRET.encode() not in raw
    assert ADDRESS.encode() not in raw and ADDRESS.lower().encode() not in raw
    assert OTHER.encode() in raw
    storage.close()


def _raw(file: Path) -> bytes:
    wal = Path(f"{file}-wal")
    return file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_the_deletion_log_holds_counts_but_no_address_or_text(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    _member_conversation(setup.storage)
    with caplog.at_level(logging.INFO, logger="botbuilder.privacy"):
        result = _run(setup, "delete", "--email", ADDRESS)
    assert result.exit_code == 0, result.output
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "messages" in logged and "1 conversation" in logged
    assert ADDRESS.lower() not in logged.lower() and SECRET not in logged


def test_export_by_email_writes_every_row_about_the_member_as_json(
    setup: Setup, tmp_path: Path
) -> None:
    cid = _member_conversation(setup.storage)
    _member_conversation(setup.storage, "piet@example.net", OTHER)
    out = tmp_path / "export.json"

    result = _run(setup, "export", "--email", ADDRESS, "--out", str(out))

    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["conversations"] == [cid]
    tables = data["tables"]
    for name in ("conversations", "messages", "handoffs", "agent_notes", "follow_ups"):
        assert tables[name], name
    for name in ("feedback", "webhook_deliveries"):
        assert tables[name], name
    assert {m["text"] for m in tables["messages"]} >= {SECRET, f"mail me op {ADDRESS}"}
    assert tables["follow_ups"][0]["email"] == ADDRESS
    assert OTHER not in out.read_text(encoding="utf-8")
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_export_by_conversation_prints_json(setup: Setup) -> None:
    cid = _member_conversation(setup.storage)
    result = _run(setup, "export", "--conversation", cid)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["conversations"] == [cid]


def test_a_request_needs_exactly_one_of_conversation_and_email(setup: Setup) -> None:
    for args in ([], ["--conversation", "abc", "--email", ADDRESS]):
        result = _run(setup, "delete", *args)
        assert result.exit_code == 2
        assert "--conversation ID or --email ADDRESS" in result.output


def test_an_unknown_conversation_or_a_bad_address_is_a_clear_error(setup: Setup) -> None:
    result = _run(setup, "delete", "--conversation", "0" * 32)
    assert result.exit_code == 1 and f"no conversation '{'0' * 32}'" in result.output
    result = _run(setup, "export", "--email", "not-an-address")
    assert result.exit_code == 1 and "is not an e-mail address" in result.output


def _age(storage: Storage, cid: str, days: float) -> None:
    then = utcnow() - timedelta(days=days)
    with storage.session() as s, s.begin():
        s.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(created_at=then, updated_at=then)
        )


def _flows(tmp_path: Path, privacy: str = "") -> Path:
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "bot.yml").write_text(f"name: Test\nlanguage: nl\n{privacy}", encoding="utf-8")
    return flows


def test_purge_deletes_transcripts_past_retention_but_keeps_the_counts(
    setup: Setup, tmp_path: Path
) -> None:
    old = _member_conversation(setup.storage)
    recent = _member_conversation(setup.storage, "piet@example.net", OTHER)
    _age(setup.storage, old, 31)
    flows = _flows(tmp_path, "privacy:\n  retention_days: 30\n")

    result = _run(setup, "purge", str(flows))

    assert result.exit_code == 0, result.output
    assert "retention 30 days" in result.output
    everything = _everything(setup.storage)
    assert SECRET.lower() not in everything and ADDRESS.lower() not in everything
    assert OTHER in everything and len(setup.storage.messages(recent)) == 4
    # The conversation and its handoff stay, without text, so figures per period do not change.
    assert setup.storage.conversation(old).id == old
    with setup.storage.session() as s:
        handoffs = s.execute(select(Handoff.conversation_id, Handoff.question)).all()
    assert (old, "") in handoffs and (recent, OTHER) in handoffs
    assert setup.storage.messages(old) == []


def test_purge_deletes_conversations_without_a_member_message_after_a_day(
    setup: Setup, tmp_path: Path
) -> None:
    empty_old = setup.storage.create_conversation("nl").id
    setup.storage.add_message(empty_old, "bot", "Hoi!")
    empty_new = setup.storage.create_conversation("nl").id
    spoken = setup.storage.create_conversation("nl").id
    setup.storage.add_message(spoken, "member", "hallo")
    _age(setup.storage, empty_old, 1.5)
    _age(setup.storage, spoken, 1.5)

    result = _run(setup, "purge", str(_flows(tmp_path)))

    assert result.exit_code == 0, result.output
    assert "retention 180 days" in result.output
    with setup.storage.session() as s:
        left = set(s.scalars(select(Conversation.id)))
    assert left == {empty_new, spoken}


@pytest.mark.parametrize("value", ["0", "-3", "1.5", "lang", "true"])
def test_retention_days_must_be_a_whole_number_of_days(tmp_path: Path, value: str) -> None:
    flows = _flows(tmp_path, f"privacy:\n  retention_days: {value}\n")
    problems: list[FlowProblem] = []
    settings = read_settings(flows, problems)
    assert settings.privacy.retention_days == 180
    assert [str(p) for p in problems] == [
        f"{flows / 'bot.yml'}:4:19: 'retention_days' must be a whole number of days, 1 or more, "
        f"not {problems[0].message.rsplit('not ', 1)[1]}"
    ]


def test_purge_refuses_a_bot_yml_with_errors(setup: Setup, tmp_path: Path) -> None:
    flows = _flows(tmp_path, "privacy:\n  retention_days: 0\n")
    result = _run(setup, "purge", str(flows))
    assert result.exit_code == 1
    assert "bot.yml:4:19: 'retention_days' must be a whole number" in result.output


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("mail jan.jansen@example.org aub", "mail j***@example.org aub"),
        ("bel 06-12345678 of +31 6 12345678", "bel **-******78 of +** * ******78"),
        ("IBAN NL91 ABNA 0417 1643 00, dank", "IBAN NL** **** **** **43 00, dank"),
        ("nl91abna0417164300", "NL** **** **** **43 00"),
        ("op 01-12-2026 10:00 kom ik, lid 12345 sinds 2019", None),
        ("het kost 1.000.000 euro", None),
    ],
)
def test_masking_hides_addresses_phone_numbers_and_ibans_and_nothing_else(
    typed: str, stored: str | None
) -> None:
    from botbuilder.content.personal_data import mask_personal_data

    assert mask_personal_data(typed) == (stored or typed)


@pytest.fixture
def runtime(bot_dir: Path, encoder):  # type: ignore[no-untyped-def]
    from botbuilder.matching.runtime import BotRuntime

    return BotRuntime(bot_dir, encoder=encoder, check_interval=0)


def test_member_text_is_stored_masked_but_the_follow_up_keeps_the_address(
    runtime, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from botbuilder.conversations.dialogue import Dialogue

    storage = Storage(f"sqlite:///{tmp_path / 'd.sqlite'}")
    dialogue = Dialogue(runtime, storage)
    dialogue.queue.set_presence("ann@example.org", "away")
    conversation = dialogue.start().conversation.id
    dialogue.receive_text(conversation, "mijn iban is NL91ABNA0417164300")
    assert dialogue.receive_text(conversation, "medewerker").conversation.state == "waiting"

    turn = dialogue.receive_text(conversation, "Mijn mail is jan@example.org, bel 0612345678")

    assert "jan@example.org" in turn.messages[0].text  # the member can check their address
    (item,) = dialogue.queue.follow_ups()
    assert item.email == "jan@example.org"
    assert "0612345678" not in item.question and "********78" in item.question
    member = [m.text for m in storage.messages(conversation) if m.role == "member"]
    assert member[0] == "mijn iban is NL** **** **** **43 00"
    assert member[-1] == "Mijn mail is j***@example.org, bel ********78"
    storage.close()


def test_with_privacy_mask_off_member_text_is_stored_as_typed(
    bot_dir: Path, encoder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from botbuilder.conversations.dialogue import Dialogue
    from botbuilder.matching.runtime import BotRuntime

    with (bot_dir / "bot.yml").open("a", encoding="utf-8") as f:
        f.write("privacy:\n  mask: false\n")
    storage = Storage(f"sqlite:///{tmp_path / 'd.sqlite'}")
    dialogue = Dialogue(BotRuntime(bot_dir, encoder=encoder, check_interval=0), storage)
    conversation = dialogue.start().conversation.id
    dialogue.receive_text(conversation, "bel me op 0612345678")
    assert [m.text for m in storage.messages(conversation) if m.role == "member"] == [
        "bel me op 0612345678"
    ]
    storage.close()


def test_purge_refuses_a_flows_folder_that_does_not_exist(setup: Setup, tmp_path: Path) -> None:
    result = _run(setup, "purge", str(tmp_path / "flowz"))
    assert result.exit_code == 2 and "does not exist" in result.output
