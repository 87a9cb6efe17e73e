"""BOTBUILDER_TRUSTED_PROXIES: X-Forwarded-For names the client only when a trusted proxy sent it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from botbuilder.accounts import LoginFailure
from botbuilder.config import server_settings
from botbuilder.errors import ConfigError
from botbuilder.server.proxies import client_address, parse_networks

from .conftest import SMALL_BOT
from .servers import free_port, stop, wait_until_healthy
from .test_console import _token

PROXIES = parse_networks("10.0.0.1, 10.1.0.0/16, ::1")


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("203.0.113.7", "1.2.3.4", PROXIES) == ("203.0.113.7", None)


def test_without_trusted_proxies_the_header_is_always_ignored() -> None:
    assert client_address("10.0.0.1", "1.2.3.4", ()) == ("10.0.0.1", None)


def test_from_a_trusted_proxy_the_client_is_the_last_hop() -> None:
    assert client_address("10.0.0.1", "198.51.100.9", PROXIES) == ("198.51.100.9", 0)


def test_in_a_chain_the_rightmost_untrusted_hop_is_the_client_and_what_it_wrote_is_ignored() -> (
    None
):
    # The client wrote "6.6.6.6" itself; our two proxies appended the client and the first proxy.
    chain = "6.6.6.6, 198.51.100.9, 10.1.2.3"
    assert client_address("10.0.0.1", chain, PROXIES) == ("198.51.100.9", 1)


def test_a_chain_of_only_trusted_proxies_names_the_first() -> None:
    assert client_address("10.0.0.1", "10.1.0.5, 10.1.0.6", PROXIES) == ("10.1.0.5", 0)


def test_a_hop_that_is_no_address_counts_against_the_proxy() -> None:
    assert client_address("10.0.0.1", "garbage", PROXIES) == ("10.0.0.1", None)


def test_ports_and_ipv6_are_understood() -> None:
    assert client_address("::1", "[2001:db8::5]:443", PROXIES) == ("2001:db8::5", 0)
    assert client_address("10.0.0.1", "192.0.2.4:5555", PROXIES) == ("192.0.2.4", 0)
    assert client_address("::ffff:10.0.0.1", "192.0.2.4", PROXIES) == ("192.0.2.4", 0)


def test_a_bad_trusted_proxy_setting_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="'10.0.0.300' is not an IP address or network"):
        parse_networks("10.0.0.1,10.0.0.300")


def test_the_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOTBUILDER_TRUSTED_PROXIES", "127.0.0.1")
    settings = server_settings({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert parse_networks(settings["TRUSTED_PROXIES"]) == parse_networks(["127.0.0.1"])


# -- through the app: rate limits, login limits, https ------------------------------------


def _flood(client: Any, peer: str, forwarded: str) -> list[int]:
    return [
        client.post(
            "/api/v1/conversations",
            json={},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": peer},
        ).status_code
        for _ in range(3)
    ]


def _limit_conversations(bot_dir: Path) -> None:
    with (bot_dir / "bot.yml").open("a", encoding="utf-8") as fh:
        fh.write("limits:\n  conversations_per_ip: 2/minute\n")


def test_rate_limits_ignore_forwarded_for_from_an_untrusted_peer(
    app_factory: Any, bot_dir: Path
) -> None:
    _limit_conversations(bot_dir)
    client = app_factory(bot_dir).test_client()
    # A client that rotates its X-Forwarded-For still counts as its own address.
    statuses = [
        client.post(
            "/api/v1/conversations",
            json={},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
            environ_base={"REMOTE_ADDR": "203.0.113.7"},
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_rate_limits_count_the_client_behind_a_trusted_proxy(
    app_factory: Any, bot_dir: Path
) -> None:
    _limit_conversations(bot_dir)
    client = app_factory(bot_dir, TRUSTED_PROXIES="10.0.0.1").test_client()
    assert _flood(client, "10.0.0.1", "198.51.100.1") == [201, 201, 429]
    assert _flood(client, "10.0.0.1", "198.51.100.2")[0] == 201, "another client, same proxy"


def test_login_limits_key_on_the_client_behind_a_trusted_proxy(
    app_factory: Any, bot_dir: Path
) -> None:
    app = app_factory(bot_dir, TRUSTED_PROXIES="10.0.0.1")
    storage = app.extensions["botbuilder"].storage
    app.extensions["botbuilder"].accounts.add("admin@example.org", "a long Passphrase 42", "admin")
    client = app.test_client()
    for peer in ("10.0.0.1", "203.0.113.7"):  # through the proxy, then a spoofer direct
        token = _token(client.get("/login").text)
        client.post(
            "/login",
            data={"email": "admin@example.org", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": "198.51.100.1"},
            environ_base={"REMOTE_ADDR": peer},
        )
    with storage.engine.connect() as c:
        networks = set(c.scalars(select(LoginFailure.address)))
    assert networks == {"198.51.100.1", "203.0.113.7"}


def test_forwarded_proto_from_a_trusted_proxy_makes_the_request_https(
    app_factory: Any, bot_dir: Path
) -> None:
    client = app_factory(bot_dir, TRUSTED_PROXIES="10.0.0.1").test_client()
    trusted = client.get(
        "/health",
        headers={"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    spoofed = client.get(
        "/health",
        headers={"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert "Strict-Transport-Security" in trusted.headers
    assert "Strict-Transport-Security" not in spoofed.headers


def test_a_real_server_behind_a_trusted_proxy_counts_each_client_apart(
    tmp_path: Path, embedding_cache: Path
) -> None:
    """Through waitress (`botbuilder serve`), which passes X-Forwarded-For on untouched."""
    flows = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, flows)
    _limit_conversations(flows)
    port = free_port()
    env = dict(os.environ, BOTBUILDER_DATABASE_URL="", PYTHONUNBUFFERED="1")
    env.update(BOTBUILDER_TRUSTED_PROXIES="127.0.0.1", BOTBUILDER_SCHEDULER="off")
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "botbuilder.cli", "serve", str(flows), "--port", str(port)]
            + ["--instance", str(tmp_path / "instance")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(f"{base}/health", process, log_path)

            def start(client: str) -> int:
                headers = {"X-Forwarded-For": client}
                url = f"{base}/api/v1/conversations"
                return requests.post(url, json={}, headers=headers, timeout=30).status_code

            assert [start("198.51.100.1") for _ in range(3)] == [201, 201, 429]
            assert start("198.51.100.2") == 201
        finally:
            stop(process, timeout=30)
