"""Account changes in the editor's History: what admins see (and managers do not), team
changes from the admin pages as bot.yml versions, the command line's changes, and what a
removed account leaves behind (its number, never its address).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, select

from botbuilder.accounts import Accounts
from botbuilder.cli import main
from botbuilder.config import database_url as instance_database
from botbuilder.conversations.store import Storage
from botbuilder.errors import NotFound
from botbuilder.people import AccountChanges, People
from botbuilder.privacy.tables import STAFF_TABLES, member_tables, mentions

from .test_admin_people import (
    NEW_PASSWORD,
    _client,
    _post,
    _user_id,
    choose_password,
    one_time_link,
)
from .test_admin_teams import _team, teams_app  # noqa: F401 (a fixture)
from .test_editor import PASSWORD, editor_app, login  # noqa: F401 (fixtures)


def _account_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(action, who, account, what) of each row of History's account changes, newest first."""
    section = page.partition('id="account-changes"')[2]
    assert section, "no Account changes section"
    rows = re.findall(r'<tr data-action="([^"]+)">([\s\S]*?)</tr>', section)
    found = []
    for action, cells in rows:
        texts = [
            " ".join(re.sub(r"<[^>]+>", "", c).split())
            for c in re.findall(r"<td>([\s\S]*?)</td>", cells)
        ]
        found.append((action, texts[1], texts[2], texts[3]))
    return found


def test_admins_see_every_account_change_in_history_with_who_and_which_account(
    editor_app: Any,  # noqa: F811
) -> None:
    admin = _client(editor_app, "admin@example.org")
    link = one_time_link(_post(admin, "/admin/users", email="nieuw@example.org", role="agent").text)
    assert choose_password(editor_app, link).status_code == 200
    target = _user_id(editor_app, "nieuw@example.org")
    _post(admin, f"/admin/users/{target}/role", role="manager")
    reset = one_time_link(_post(admin, f"/admin/users/{target}/password").text)
    _post(admin, f"/admin/users/{target}/deactivate")
    _post(admin, f"/admin/users/{target}/reactivate")

    page = admin.get("/editor/history")
    assert page.status_code == 200
    assert 'href="#account-changes"' in page.text
    rows = _account_rows(page.text)
    assert [r[0] for r in rows] == [
        "reactivated",
        "deactivated",
        "password_reset",
        "role",
        "password_set",
        "invited",
    ]
    assert {r[2] for r in rows} == {"nieuw@example.org"}
    assert [r[1] for r in rows] == ["admin@example.org"] * 4 + [
        "nieuw@example.org",
        "admin@example.org",
    ]
    assert rows[3][3] == "role changed to manager"
    assert rows[5][3] == "invited as agent, with a link to choose a password"
    assert rows[4][3] == "chose a password with their link"
    for secret in (link, reset, NEW_PASSWORD):
        assert secret not in page.text


def test_managers_do_not_see_account_changes_in_history(editor_app: Any) -> None:  # noqa: F811
    admin = _client(editor_app, "admin@example.org")
    _post(admin, "/admin/users", email="nieuw@example.org", role="agent")
    manager = _client(editor_app, "manager@example.org")
    page = manager.get("/editor/history")
    assert page.status_code == 200
    assert "account-changes" not in page.text and "nieuw@example.org" not in page.text


def test_team_changes_from_the_admin_pages_are_versions_in_history(teams_app: Any) -> None:  # noqa: F811
    admin = teams_app.test_client()
    admin.csrf = login(admin, "admin@example.org")
    added = _team(admin, "/admin/teams/new", name="weekend", sat_from="10:00", sat_to="16:00")
    assert added.status_code == 302, added.text
    made_default = _post(admin, "/admin/teams/default", default_team="weekend")
    assert made_default.status_code == 302, made_default.text
    page = admin.get("/editor/history").text
    versions = page.partition('id="account-changes"')[0]
    assert "added team &#39;weekend&#39;" in versions
    assert versions.count("bot.yml") >= 3  # the file filter, and the two saves
    latest = teams_app.extensions["botbuilder"].editor.history.latest("bot.yml")
    assert latest.author == "admin@example.org" and "weekend" in latest.note


def test_the_command_line_records_its_changes_and_a_removed_account_keeps_only_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    instance = str(tmp_path / "instance")
    runner = CliRunner()

    def user(*args: str, stdin: str = PASSWORD + "\n") -> None:
        result = runner.invoke(main, ["user", *args, "--instance", instance], input=stdin)
        assert result.exit_code == 0, result.output

    user("add", "baas@example.org", "--role", "admin", "--password-stdin")
    user("add", "weg@example.org", "--role", "agent", "--password-stdin")
    storage = Storage(instance_database(instance))
    people = People(Accounts(storage))
    people.deactivate(people.list()[1].id, by=people.list()[0].id)
    user("set-password", "weg@example.org", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    user("remove", "weg@example.org")
    try:
        changes = AccountChanges(storage).recent()
        admin = people.list()[0].id
        assert [(c.action, c.via, c.by_id) for c in changes] == [
            ("removed", "cli", None),
            ("reactivated", "cli", None),  # set-password lets a deactivated account in again
            ("password_set", "cli", None),
            ("deactivated", "admin", admin),
            ("added", "cli", None),
            ("added", "cli", None),
        ]
        assert [c.user_email for c in changes] == [None] * 5 + ["baas@example.org"]
        assert changes[0].user_id == changes[4].user_id
        # Nothing of the removed address is left in the account tables.
        metadata = MetaData()
        metadata.reflect(storage.engine, only=["account_changes", "password_links"])
        with storage.engine.connect() as connection:
            for table in metadata.tables.values():
                hits = connection.execute(select(table).where(mentions(table, ["weg@example"])))
                assert hits.all() == []
    finally:
        storage.close()


def test_an_id_given_out_again_after_a_removal_does_not_inherit_the_old_history(
    database_url: str,
) -> None:
    storage = Storage(database_url)
    try:
        people = People(Accounts(storage))
        old, _ = people.invite("oud@example.org", "agent", by=None, via="cli")
        people.deactivate(old.id, via="cli")
        people.remove("oud@example.org")
        new, _ = people.invite("nieuw@example.org", "manager", by=None, via="cli")
        if database_url.startswith("sqlite"):
            assert new.id == old.id  # SQLite gave the number out again
        changes = AccountChanges(storage).recent()
        assert [c.action for c in changes] == ["invited", "removed", "deactivated", "invited"]
        assert [c.user_email for c in changes] == ["nieuw@example.org", None, None, None]
    finally:
        storage.close()


def test_the_account_tables_are_staff_tables_that_member_requests_leave_alone(
    database_url: str,
) -> None:
    storage = Storage(database_url)
    try:
        assert {"account_changes", "password_links"} <= STAFF_TABLES
        names = {t.name for t in member_tables(storage)}
        assert "account_changes" not in names and "password_links" not in names
    finally:
        storage.close()


def test_removing_an_account_with_an_open_link_removes_the_link_too(database_url: str) -> None:
    storage = Storage(database_url)
    try:
        people = People(Accounts(storage))
        _, token = people.invite("open@example.org", "agent", via="cli")
        assert token is not None and people.links.find(token).email == "open@example.org"
        people.remove("open@example.org")
        with pytest.raises(NotFound, match="not valid"):
            people.links.find(token)
        with storage.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM password_links").scalar() == 0
    finally:
        storage.close()
