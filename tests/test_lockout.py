"""Login throttling keyed by (account, network), so an attacker cannot lock out a real user.

Failures count per account and network (django-axes' `[["username", "ip_address"]]`);
a network that signed in before is exempt from the account-wide limit that stops a
botnet (OWASP's device-cookie scheme, with the network as the device). Real SQLite
file, an injected clock, the Flask test client for the login page.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from botbuilder.accounts import (
    KNOWN_FOR,
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_NETWORK,
    MAX_FAILURES_PER_PAIR,
    Accounts,
    LoginFailed,
    TooManyAttempts,
    client_network,
)
from botbuilder.conversations.store import Storage

from .test_accounts import Clock

PASSWORD = "correct horse battery"
USER = "anna@example.org"
ATTACKER, HOME, OFFICE = "203.0.113.66", "198.51.100.7", "192.0.2.10"


@pytest.fixture
def storage(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Storage(f"sqlite:///{tmp_path / 'accounts.sqlite'}")
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(storage: Storage, clock: Clock) -> Accounts:
    accounts = Accounts(storage, clock)
    accounts.add(USER, PASSWORD, "manager")
    return accounts


def fail(accounts: Accounts, address: str, times: int, email: str = USER) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            accounts.authenticate(email, "a wrong guess", address)


def rows(storage: Storage, table: str) -> int:
    with storage.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_failures_from_one_address_do_not_lock_out_the_user_at_another(
    accounts: Accounts,
) -> None:
    fail(accounts, ATTACKER, MAX_FAILURES_PER_PAIR)
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(USER, "another guess", ATTACKER)
    # The real user has never signed in from here before, and still gets in.
    assert accounts.authenticate(USER, PASSWORD, HOME).email == USER


def test_the_attacking_address_is_throttled_even_with_the_right_password(
    accounts: Accounts, clock: Clock
) -> None:
    fail(accounts, ATTACKER, MAX_FAILURES_PER_PAIR)
    with pytest.raises(TooManyAttempts, match="try again in 15 minutes"):
        accounts.authenticate(USER, PASSWORD, ATTACKER)
    clock.now += timedelta(minutes=16)
    assert accounts.authenticate(USER, PASSWORD, ATTACKER).email == USER


def test_a_success_resets_the_counter_of_that_pair_only(accounts: Accounts) -> None:
    fail(accounts, HOME, MAX_FAILURES_PER_PAIR - 1)
    fail(accounts, ATTACKER, MAX_FAILURES_PER_PAIR - 1)
    accounts.authenticate(USER, PASSWORD, HOME)
    fail(accounts, HOME, MAX_FAILURES_PER_PAIR - 1)  # counted from zero again
    accounts.authenticate(USER, PASSWORD, HOME)
    fail(accounts, ATTACKER, 1)  # the attacker's count was not reset by the user's success
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(USER, PASSWORD, ATTACKER)


def test_one_address_guessing_many_accounts_is_throttled(accounts: Accounts) -> None:
    for n in range(MAX_FAILURES_PER_NETWORK):
        fail(accounts, ATTACKER, 1, email=f"user{n}@example.org")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(USER, PASSWORD, ATTACKER)
    assert accounts.authenticate(USER, PASSWORD, HOME).email == USER


def test_a_botnet_locks_new_addresses_out_but_not_ones_the_user_signed_in_from(
    accounts: Accounts,
) -> None:
    accounts.authenticate(USER, PASSWORD, HOME)  # HOME is now known
    remaining, bot = MAX_FAILURES_PER_ACCOUNT, 0
    while remaining:  # each bot stays under the per-address limit
        tries = min(MAX_FAILURES_PER_PAIR - 1, remaining)
        fail(accounts, f"10.9.{bot}.1", tries)
        remaining, bot = remaining - tries, bot + 1
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(USER, PASSWORD, OFFICE)  # never used: waits like the bots
    # From a known address the password is checked, and the user gets in.
    assert accounts.authenticate(USER, PASSWORD, HOME).email == USER
    with pytest.raises(LoginFailed):
        accounts.authenticate(USER, "a wrong guess", HOME)


def test_an_ipv6_client_counts_as_its_whole_64(accounts: Accounts) -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("::ffff:192.0.2.1") == "192.0.2.1"
    for n in range(MAX_FAILURES_PER_PAIR):
        fail(accounts, f"2001:db8:1:2::{n + 1:x}", 1)
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(USER, PASSWORD, "2001:db8:1:2::abcd")


def test_old_login_records_are_purged(accounts: Accounts, storage: Storage, clock: Clock) -> None:
    accounts.authenticate(USER, PASSWORD, HOME)
    fail(accounts, ATTACKER, 3)
    assert rows(storage, "login_failures") == 3 and rows(storage, "login_networks") == 1
    clock.now += timedelta(minutes=16)
    accounts.purge_login_records()
    assert rows(storage, "login_failures") == 0 and rows(storage, "login_networks") == 1
    clock.now += KNOWN_FOR
    assert accounts.purge_login_records() == 1
    assert rows(storage, "login_networks") == 0


def test_a_known_address_is_forgotten_when_the_user_is_removed(
    accounts: Accounts, storage: Storage
) -> None:
    accounts.authenticate(USER, PASSWORD, HOME)
    accounts.remove(USER)
    assert rows(storage, "login_networks") == 0


def test_an_admins_password_reset_lets_the_user_in_again(accounts: Accounts) -> None:
    fail(accounts, HOME, MAX_FAILURES_PER_PAIR)
    accounts.set_password(USER, "a brand new passphrase")
    assert accounts.authenticate(USER, "a brand new passphrase", HOME).email == USER


# -- through the login page ------------------------------------------------------------------


def _post_login(client: Any, address: str, password: str) -> Any:
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(
        "/login",
        data={"email": USER, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_login_page_throttles_the_attacker_with_429_and_lets_the_user_in(
    app_factory, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    app.extensions["botbuilder"].accounts.add(USER, PASSWORD, "manager")
    attacker, user = app.test_client(), app.test_client()
    for _ in range(MAX_FAILURES_PER_PAIR):
        assert _post_login(attacker, ATTACKER, "a wrong guess").status_code == 401
    refused = _post_login(attacker, ATTACKER, PASSWORD)
    assert refused.status_code == 429 and "too many failed logins" in refused.text
    assert _post_login(user, HOME, PASSWORD).status_code == 302
    app.extensions["botbuilder"].storage.close()
