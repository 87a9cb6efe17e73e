"""Accounts: hashed passwords, roles, rate-limited logins (in the database), the user CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from botbuilder.accounts import (
    MAX_FAILURES_PER_PAIR,
    Accounts,
    LoginFailed,
    TooManyAttempts,
    check_password,
)
from botbuilder.cli import main
from botbuilder.conversations.store import Storage
from botbuilder.errors import BadRequest, Conflict, NotFound

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def storage(database_url: str):  # type: ignore[no-untyped-def]
    store = Storage(database_url)
    yield store
    store.close()


def test_password_is_stored_as_scrypt_hash_and_checks(storage: Storage) -> None:
    accounts = Accounts(storage)
    user = accounts.add(" Anna@Example.org ", PASSWORD, "manager")
    assert user.email == "anna@example.org" and user.role == "manager"
    with storage.engine.connect() as connection:
        (stored,) = connection.exec_driver_sql("SELECT password_hash FROM users").fetchone()  # type: ignore[misc]
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    assert accounts.authenticate("anna@example.org", PASSWORD).id == user.id
    with pytest.raises(LoginFailed):
        accounts.authenticate("anna@example.org", "wrong password!")


def test_bad_input_is_refused_with_a_reason(storage: Storage) -> None:
    accounts = Accounts(storage)
    with pytest.raises(BadRequest, match="too short"):
        accounts.add("a@example.org", "short", "manager")
    with pytest.raises(BadRequest, match="unknown role"):
        accounts.add("a@example.org", PASSWORD, "owner")
    with pytest.raises(BadRequest, match="not an e-mail"):
        accounts.add("nobody", PASSWORD, "agent")
    accounts.add("a@example.org", PASSWORD, "agent")
    with pytest.raises(Conflict):
        accounts.add("A@example.org", PASSWORD, "admin")
    with pytest.raises(NotFound):
        accounts.remove("b@example.org")


def test_unknown_address_and_wrong_password_fail_alike(storage: Storage) -> None:
    accounts = Accounts(storage)
    accounts.add("a@example.org", PASSWORD, "manager")
    with pytest.raises(LoginFailed) as unknown:
        accounts.authenticate("x@example.org", PASSWORD)
    with pytest.raises(LoginFailed) as wrong:
        accounts.authenticate("a@example.org", "not the password")
    assert unknown.value.message == wrong.value.message


def test_failed_logins_are_limited_across_processes_and_expire(database_url: str) -> None:
    clock = Clock()
    first, second = Storage(database_url), Storage(database_url)  # two server processes
    one, other = Accounts(first, clock), Accounts(second, clock)
    one.add("a@example.org", PASSWORD, "manager")
    for n in range(MAX_FAILURES_PER_PAIR):
        with pytest.raises(LoginFailed):
            (one if n % 2 else other).authenticate("a@example.org", "guess", "10.0.0.1")
    with pytest.raises(TooManyAttempts, match="try again in 15 minutes"):
        other.authenticate("a@example.org", PASSWORD, "10.0.0.1")  # even the right password
    clock.now += timedelta(minutes=16)
    assert one.authenticate("a@example.org", PASSWORD, "10.0.0.1").email == "a@example.org"
    first.close()
    second.close()


def test_changing_the_password_changes_the_session_key(storage: Storage) -> None:
    accounts = Accounts(storage)
    before = accounts.add("a@example.org", PASSWORD, "manager")
    after = accounts.set_password("a@example.org", "another long password")
    assert before.session_key != after.session_key
    with pytest.raises(LoginFailed):
        accounts.authenticate("a@example.org", PASSWORD)


def test_user_cli_adds_lists_and_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    instance = str(tmp_path / "instance")
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "user",
            "add",
            "Admin@Example.org",
            "--role",
            "admin",
            "--password-stdin",
            "--instance",
            instance,
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "added admin@example.org (admin)" in added.output
    prompted = runner.invoke(
        main,
        ["user", "add", "m@example.org", "--instance", instance],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(main, ["user", "list", "--instance", instance])
    assert "admin@example.org\tadmin" in listed.output and "m@example.org\tmanager" in listed.output
    again = runner.invoke(
        main,
        ["user", "add", "m@example.org", "--password-stdin", "--instance", instance],
        input=PASSWORD,
    )
    assert again.exit_code == 1 and "already a user m@example.org" in again.output
    short = runner.invoke(
        main,
        ["user", "add", "x@example.org", "--password-stdin", "--instance", instance],
        input="abc\n",
    )
    assert short.exit_code == 1 and "too short" in short.output
    removed = runner.invoke(main, ["user", "remove", "m@example.org", "--instance", instance])
    assert removed.exit_code == 0
    assert (
        "m@example.org" not in runner.invoke(main, ["user", "list", "--instance", instance]).output
    )
    missing = runner.invoke(main, ["user", "remove", "m@example.org", "--instance", instance])
    assert missing.exit_code == 1 and "no user m@example.org" in missing.output


def test_user_commands_are_documented_in_help() -> None:
    result = CliRunner().invoke(main, ["user", "--help"])
    for command in ("add", "list", "remove", "set-password"):
        assert command in result.output


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "one character repeated"),
        ("abababababab", "only 2 different characters"),
        ("1122112211", "only 2 different characters"),
        ("abcdefghijkl", "a run of characters"),
        ("9876543210", "a run of characters"),
        ("Password2024!", "most used passwords"),
        ("p@ssw0rd1234", "most used passwords"),
        ("Wachtwoord1", "most used passwords"),
        ("welkomwelkom", "most used passwords"),
        ("qwertyuiop", "most used passwords"),
        ("anna.jansen1", "name of the account's e-mail address"),
        ("Ik ben Anna.Jansen", "name of the account's e-mail address"),
    ],
)
def test_easily_guessed_passwords_are_refused_with_the_reason(
    storage: Storage, password: str, reason: str
) -> None:
    accounts = Accounts(storage)
    with pytest.raises(BadRequest, match=reason) as refused:
        accounts.add("anna.jansen@example.org", password, "manager")
    assert (
        "too easy to guess" in refused.value.message
        and "A few unrelated words" in refused.value.message
    )
    accounts.add("anna.jansen@example.org", PASSWORD, "manager")
    with pytest.raises(BadRequest, match=reason):
        accounts.set_password("anna.jansen@example.org", password)


@pytest.mark.parametrize(
    "password", [PASSWORD, "fietsen zonder zijwieltjes", "Zq8!mR2#vLp", "mijn kat heet Anna"]
)
def test_good_passwords_are_accepted(storage: Storage, password: str) -> None:
    assert check_password(password, "jan@example.org") == password
