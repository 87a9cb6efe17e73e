"""Flows shared through the database, in one process: real flows folders, a real SQLite file
(and PostgreSQL when BOTBUILDER_TEST_DATABASE_URL is set),
the real loader and editor. Two `FlowSync`s on one database stand for two replicas; the
tests with two real `botbuilder serve` processes on PostgreSQL are in test_replicas_serve.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.db.engine import Database
from botbuilder.editing.forms import EditConflict, IntentForm
from botbuilder.editing.history import FlowHistory
from botbuilder.editing.publications import Publications, folder_files
from botbuilder.editing.publishing import FlowSync
from botbuilder.editing.service import FlowEditor
from tests.conftest import SMALL_BOT

BIKE = """\
language: nl
intents:
  - id: fietsenstalling
    questions: [Waar kan ik mijn fiets stallen?, Is er een fietsenstalling?]
    answer: In de kelder, naast de ingang.
"""


class Replica:
    """One replica's own flows folder and instance folder, on the shared database."""

    def __init__(self, database: Database, work: Path, flows: Path | None = None) -> None:
        self.flows = work / "flows"
        if flows is not None:
            shutil.copytree(flows, self.flows)
        self.instance = work / "instance"
        self.instance.mkdir(parents=True)
        self.history = FlowHistory(database)
        self.sync = FlowSync(
            Publications(database),
            self.flows,
            self.instance,
            lock_path=self.instance / "flows.lock",
            history=self.history,
        )
        self.editor = FlowEditor(
            self.flows, self.history, lock_path=self.instance / "flows.lock", sync=self.sync
        )

    def restart(self) -> Replica:
        """The same folders, a new process's objects."""
        again = object.__new__(Replica)
        again.flows, again.instance, again.history = self.flows, self.instance, self.history
        again.sync = FlowSync(
            self.sync.publications, self.flows, self.instance, history=self.history
        )
        again.editor = FlowEditor(self.flows, self.history, sync=again.sync)
        return again


@pytest.fixture
def database(database_url: str):  # type: ignore[no-untyped-def]
    """The shared database: a SQLite file, and PostgreSQL (advisory locks) when it is set."""
    from botbuilder.db.engine import database_url as botbuilder_url

    db = Database(botbuilder_url(database_url, "unused"))
    yield db
    db.close()


def _add_bike(replica: Replica) -> None:
    form = IntentForm("fietsenstalling", ["Waar kan ik mijn fiets stallen?"], "In de kelder.")
    replica.editor.save(replica.editor.draft_intent("faq.yml", None, form), "manager@example.org")


def test_the_first_replica_publishes_its_folder_and_a_restart_changes_nothing(
    database: Database, tmp_path: Path
) -> None:
    a = Replica(database, tmp_path / "a", SMALL_BOT)
    assert "published the flows folder as publication 1" in a.sync.start()
    latest = Publications(database).latest()
    assert latest is not None and latest.files == folder_files(a.flows)
    assert sorted(latest.files) == ["bot.yml", "faq.yml", "faq_en.yml"]
    assert "holds publication 1" in a.restart().sync.start()
    assert Publications(database).latest_id() == 1


def _two_started(database: Database, tmp_path: Path) -> tuple[Replica, Replica]:
    """Replicas a and b of the small bot, each with its own folders, both started."""
    a = Replica(database, tmp_path / "a", SMALL_BOT)
    b = Replica(database, tmp_path / "b", SMALL_BOT)
    a.sync.start(), b.sync.start()
    return a, b


def test_an_editor_save_publishes_and_the_other_replica_takes_it_in(
    database: Database, tmp_path: Path
) -> None:
    a, b = _two_started(database, tmp_path)
    assert b.sync.applied == 1  # same files: nothing published twice
    _add_bike(a)
    assert a.sync.applied == 2
    assert b.sync.follow_once() is True
    assert "fietsenstalling" in (b.flows / "faq.yml").read_text(encoding="utf-8")
    assert folder_files(b.flows) == folder_files(a.flows)
    assert b.sync.follow_once() is False  # nothing newer


def test_a_replica_started_later_with_an_empty_or_older_folder_serves_the_newest_flows(
    database: Database, tmp_path: Path
) -> None:
    a = Replica(database, tmp_path / "a", SMALL_BOT)
    a.sync.start()
    _add_bike(a)
    (a.flows / "fiets.yml").write_text(BIKE.replace("fietsenstalling", "fiets2"), "utf-8")
    assert a.restart().sync.start().startswith("published")  # a hand edit made while stopped
    empty = Replica(database, tmp_path / "empty")
    assert "took publication 3" in empty.sync.start()
    older = Replica(database, tmp_path / "older", SMALL_BOT)
    (older.flows / "old.yml").write_text(BIKE.replace("fietsenstalling", "oud"), "utf-8")
    assert "took publication 3" in older.sync.start()
    assert folder_files(empty.flows) == folder_files(a.flows) == folder_files(older.flows)
    assert not (older.flows / "old.yml").exists()  # a file the publication lacks is removed


def test_a_hand_edit_stays_on_its_replica_until_published_and_is_kept_when_replaced(
    database: Database, tmp_path: Path
) -> None:
    a, b = _two_started(database, tmp_path)
    hand_edit = (b.flows / "faq_en.yml").read_text("utf-8").replace("Hi", "Hello")
    (b.flows / "faq_en.yml").write_text(hand_edit + "# edited by hand on B\n", "utf-8")
    assert b.sync.follow_once() is False  # nothing newer: B keeps its hand edit
    _add_bike(a)  # A publishes meanwhile
    assert b.sync.follow_once() is True
    assert "edited by hand on B" not in (b.flows / "faq_en.yml").read_text("utf-8")
    kept = b.history.latest("faq_en.yml")
    assert kept is not None and "edited by hand on B" in kept.content
    assert kept.author is None and "replaced by publication 2" in kept.note


def test_check_publish_shares_a_hand_edit_and_refuses_a_broken_folder(
    database: Database, tmp_path: Path
) -> None:
    a, b = _two_started(database, tmp_path)
    (a.flows / "fiets.yml").write_text(BIKE, "utf-8")
    env = {"BOTBUILDER_DATABASE_URL": database.url}
    ok = CliRunner().invoke(main, ["check", str(a.flows), "--publish"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "published as publication 2" in ok.output
    again = CliRunner().invoke(main, ["check", str(a.flows), "--publish"], env=env)
    assert "published already" in again.output
    assert b.sync.follow_once() is True and (b.flows / "fiets.yml").exists()
    assert "check --publish" in (b.history.latest("fiets.yml") or pytest.fail()).note

    (a.flows / "fiets.yml").write_text(BIKE.replace("answer:", "antwoord:"), "utf-8")
    broken = CliRunner().invoke(main, ["check", str(a.flows), "--publish"], env=env)
    assert broken.exit_code == 1
    assert "nothing was published" in broken.output
    assert Publications(database).latest_id() == 2


def test_a_broken_publication_is_refused_and_the_folder_keeps_serving(
    database: Database, tmp_path: Path
) -> None:
    b = Replica(database, tmp_path / "b", SMALL_BOT)
    b.sync.start()
    before = folder_files(b.flows)
    files = dict(before, **{"fiets.yml": BIKE.replace("answer:", "antwoord:")})
    Publications(database).publish(files, 1, "someone", "written by an older version")
    assert b.sync.follow_once() is False
    assert folder_files(b.flows) == before
    assert "fiets.yml" in b.sync.refused[2]
    outside = dict(before, **{"../outside.yml": BIKE})
    Publications(database).publish(outside, 2, "someone", "a file outside the folder")
    assert b.sync.follow_once() is False
    assert not (tmp_path / "b" / "outside.yml").exists()
    assert "cannot be written safely" in b.sync.refused[3]
    fixed = dict(before, **{"fiets.yml": BIKE})
    Publications(database).publish(fixed, 3, "someone", "fixed")
    assert b.sync.follow_once() is True and (b.flows / "fiets.yml").exists()


def test_two_publications_on_the_same_one_cannot_both_win(database: Database) -> None:
    publications = Publications(database)
    publications.publish({"bot.yml": "name: A\n"}, 0, None, "first")
    with pytest.raises(EditConflict):
        publications.publish({"bot.yml": "name: B\n"}, 0, None, "at the same moment")


def test_a_save_of_a_file_another_replica_changed_meanwhile_is_a_conflict(
    database: Database, tmp_path: Path
) -> None:
    a, b = _two_started(database, tmp_path)
    form = IntentForm("fietsenstalling", ["Waar kan ik mijn fiets stallen?"], "In de kelder.")
    stale = b.editor.draft_intent("faq.yml", None, form)  # B's page, opened before A's save
    _add_bike(a)
    with pytest.raises(EditConflict, match="another server"):
        b.editor.save(stale, "other@example.org")
    assert folder_files(b.flows) == folder_files(a.flows)  # A's save came in; B can redo
    other = IntentForm("parkeren", ["Waar kan ik parkeren?"], "Achter het clubhuis.")
    b.editor.save(b.editor.draft_intent("faq_en.yml", None, other), "other@example.org")
    assert a.sync.follow_once() is True
    assert "fietsenstalling" in (a.flows / "faq.yml").read_text("utf-8")
    assert "parkeren" in (a.flows / "faq_en.yml").read_text("utf-8")


def test_one_sqlite_server_works_as_before(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The simple case: hand edits reload, saves work, a restart keeps a hand edit."""
    app = app_factory(bot_dir)
    built = app.extensions["botbuilder"]
    client = app.test_client()
    origin = {"Origin": "https://allowed.example"}

    def top(question: str, application=app) -> str:  # type: ignore[no-untyped-def]
        reply = application.test_client().post(
            "/api/v1/match", json={"text": question}, headers=origin
        )
        assert reply.status_code == 200, reply.text
        return str(reply.json["candidates"][0]["intent"])

    assert client.get("/health").status_code == 200
    (bot_dir / "fiets.yml").write_text(BIKE, "utf-8")  # by hand, as today
    assert top("Waar kan ik mijn fiets stallen?") == "fietsenstalling"  # RELOAD_INTERVAL 0
    form = IntentForm("parkeren", ["Waar kan ik parkeren?"], "Achter het clubhuis.")
    built.editor.save(built.editor.draft_intent("faq.yml", None, form), "manager@example.org")
    built.runtime.reload()
    assert top("Waar kan ik parkeren?") == "parkeren"
    (bot_dir / "fiets.yml").write_text(BIKE.replace("fietsenstalling", "stalling"), "utf-8")
    built.storage.close()
    restarted = app_factory(bot_dir)  # the same instance folder and database
    assert top("Waar kan ik mijn fiets stallen?", restarted) == "stalling"
    assert "parkeren" in (bot_dir / "faq.yml").read_text("utf-8")
    assert sorted(p.name for p in bot_dir.iterdir()) == [
        "bot.yml",
        "faq.yml",
        "faq_en.yml",
        "fiets.yml",
    ]
    restarted.extensions["botbuilder"].storage.close()


def test_a_database_restored_from_an_older_backup_is_followed_too(
    database: Database, tmp_path: Path
) -> None:
    from sqlalchemy import delete

    from botbuilder.editing.publications import FlowPublication

    a, b = _two_started(database, tmp_path)
    first = folder_files(a.flows)
    _add_bike(a)
    assert b.sync.follow_once() is True and b.sync.applied == 2
    with database.session() as s, s.begin():  # the backup was taken before the save
        s.execute(delete(FlowPublication).where(FlowPublication.id == 2))
    assert b.sync.follow_once() is True
    assert folder_files(b.flows) == first and b.sync.applied == 1
