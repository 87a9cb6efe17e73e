"""Rate limits on /api/v1: per network and per conversation, shared by replicas, from bot.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from botbuilder.content.bot_settings import read_settings
from botbuilder.content.model import LimitSettings
from botbuilder.conversations.rate_limits import (
    DatabaseCounters,
    RateLimitCounter,
    RateLimited,
    RateLimits,
)
from botbuilder.conversations.store import Storage
from botbuilder.errors import FlowProblem

from .conftest import SMALL_BOT
from .servers import free_port, stop, wait_until_healthy

A, B = "203.0.113.7", "198.51.100.9"


def _limits(bot_dir: Path, **limits: str) -> None:
    lines = "".join(f"  {key}: {value}\n" for key, value in limits.items())
    with (bot_dir / "bot.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"limits:\n{lines}")


def _start(client: Any, ip: str) -> Any:
    return client.post("/api/v1/conversations", json={}, environ_base={"REMOTE_ADDR": ip})


def _say(client: Any, ip: str, conversation_id: str, text: str = "hallo") -> Any:
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_flood_of_conversations_from_one_ip_is_refused_on_both_replicas_while_another_ip_is_served(
    app_factory: Any, bot_dir: Path, database_url: str
) -> None:
    first, second = app_factory(bot_dir, database_url), app_factory(bot_dir, database_url)
    replicas = [first.test_client(), second.test_client()]
    began = time.monotonic()
    statuses = [_start(replicas[i % 2], A).status_code for i in range(500)]
    # 500 in about 6 s here; on a loaded machine it may take longer, but all within the minute.
    assert time.monotonic() - began < 50
    allowed = LimitSettings().conversations_per_ip.split("/")[0]  # "30/minute; …"
    assert statuses.count(201) == int(allowed), "the two replicas share one counter"
    assert statuses[: int(allowed)] == [201] * int(allowed)
    assert set(statuses[int(allowed) :]) == {429}
    assert _start(replicas[1], B).status_code == 201
    assert _start(replicas[0], B).status_code == 201
    for app in (first, second):
        app.extensions["botbuilder"].storage.close()


def test_a_refusal_is_the_json_error_shape_with_retry_after(
    app_factory: Any, bot_dir: Path
) -> None:
    _limits(bot_dir, conversations_per_ip="2/minute")
    client = app_factory(bot_dir).test_client()
    _start(client, A), _start(client, A)
    response = _start(client, A)
    assert response.status_code == 429
    assert response.json == {
        "ok": False,
        "error": response.json["error"],
        "status": 429,
    }
    assert "too many new conversations from your network" in response.json["error"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert f"try again in {response.headers['Retry-After']} s" in response.json["error"]


def test_a_refusal_to_an_allowed_origin_lets_its_script_read_retry_after(
    app_factory: Any, bot_dir: Path
) -> None:
    _limits(bot_dir, conversations_per_ip="1/minute")
    client = app_factory(bot_dir).test_client()
    _start(client, A)
    response = client.post(
        "/api/v1/conversations",
        json={},
        headers={"Origin": "https://allowed.example"},
        environ_base={"REMOTE_ADDR": A},
    )
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_messages_per_conversation_from_bot_yml_are_honoured_and_other_conversations_go_on(
    app_factory: Any, bot_dir: Path
) -> None:
    _limits(bot_dir, messages_per_conversation="3/minute")
    client = app_factory(bot_dir).test_client()
    one = _start(client, A).json["conversation_id"]
    two = _start(client, A).json["conversation_id"]
    assert [_say(client, A, one).status_code for _ in range(3)] == [200, 200, 200]
    refused = _say(client, A, one)
    assert refused.status_code == 429
    assert "too many messages in this conversation (at most 3 per minute)" in refused.json["error"]
    assert refused.headers["Retry-After"]
    assert _say(client, A, two).status_code == 200
    assert _say(client, B, one).status_code == 429, "the conversation's limit, from anywhere"


def test_messages_per_ip_count_across_conversations(app_factory: Any, bot_dir: Path) -> None:
    _limits(bot_dir, messages_per_ip="2/minute")
    client = app_factory(bot_dir).test_client()
    ids = [_start(client, A).json["conversation_id"] for _ in range(3)]
    assert [_say(client, A, c).status_code for c in ids] == [200, 200, 429]
    assert _say(client, B, ids[2]).status_code == 200


def test_feedback_and_match_are_limited(app_factory: Any, bot_dir: Path) -> None:
    _limits(bot_dir, feedback_per_conversation="1/minute", match_per_ip="2/minute")
    client = app_factory(bot_dir).test_client()
    started = _start(client, A).json
    url = f"/api/v1/conversations/{started['conversation_id']}/feedback"
    body = {"message_id": started["messages"][0]["id"], "helpful": True}
    assert client.post(url, json=body, environ_base={"REMOTE_ADDR": A}).status_code == 200
    assert client.post(url, json=body, environ_base={"REMOTE_ADDR": A}).status_code == 429
    match = [
        client.post("/api/v1/match", json={"text": "opzeggen"}, environ_base={"REMOTE_ADDR": A})
        for _ in range(3)
    ]
    assert [r.status_code for r in match] == [200, 200, 429]


def test_handoffs_per_ip_stop_new_handoffs_but_not_a_conversation_already_waiting(
    app_factory: Any, bot_dir: Path
) -> None:
    _limits(bot_dir, handoffs_per_ip="1/hour")
    client = app_factory(bot_dir).test_client()
    first = _start(client, A).json["conversation_id"]
    assert _say(client, A, first, "mens").json["state"] == "waiting"
    assert _say(client, A, first, "nog iets").status_code == 200, "waiting: no new handoff"
    second = _start(client, A).json["conversation_id"]
    refused = _say(client, A, second, "mens")
    assert refused.status_code == 429
    assert "too many requests for a person from your network" in refused.json["error"]
    other = _start(client, B).json["conversation_id"]
    assert _say(client, B, other, "mens").json["state"] == "waiting"


def test_retry_after_counts_down_and_the_window_opens_again(
    app_factory: Any, bot_dir: Path
) -> None:
    _limits(bot_dir, conversations_per_ip="2/minute")
    app = app_factory(bot_dir)
    now = [1_000_000.0]
    limits = app.extensions["botbuilder"].rate_limits
    limits.clock = limits.storage.clock = lambda: now[0]
    client = app.test_client()
    assert [_start(client, A).status_code for _ in range(3)] == [201, 201, 429]
    now[0] += 30
    assert _start(client, A).headers["Retry-After"] == "30"
    now[0] += 31
    assert _start(client, A).status_code == 201


def test_counters_hold_no_address_and_no_conversation_id(app_factory: Any, bot_dir: Path) -> None:
    app = app_factory(bot_dir)
    client = app.test_client()
    conversation = _start(client, A).json["conversation_id"]
    _say(client, A, conversation)
    storage: Storage = app.extensions["botbuilder"].storage
    with storage.engine.connect() as c:
        keys = list(c.scalars(select(RateLimitCounter.key)))
    assert keys and not [k for k in keys if A in k or conversation in k]


def test_expired_counters_are_deleted_so_the_table_stays_bounded(tmp_path: Path) -> None:
    now = [5000.0]
    storage = Storage(f"sqlite:///{tmp_path / 'c.sqlite'}")
    counters = DatabaseCounters(storage, clock=lambda: now[0])
    for i in range(50):
        counters.incr(f"key{i}", 60)
    assert counters.get("key1") == 1 and counters.incr("key1", 60) == 2
    now[0] += 61
    assert counters.get("key1") == 0, "an ended window counts nothing"
    counters.incr("fresh", 60)  # counting purges what has expired
    with storage.engine.connect() as c:
        assert list(c.scalars(select(RateLimitCounter.key))) == ["fresh"]


def test_a_window_that_ended_starts_again_from_one(tmp_path: Path) -> None:
    now = [10.0]
    counters = DatabaseCounters(Storage(f"sqlite:///{tmp_path / 'c.sqlite'}"), clock=lambda: now[0])
    assert [counters.incr("k", 10) for _ in range(3)] == [1, 2, 3]
    assert counters.get_expiry("k") == 20.0
    now[0] = 25.0
    assert counters.incr("k", 10) == 1 and counters.get_expiry("k") == 35.0


def test_rate_limits_refuse_with_seconds_until_the_window_ends(tmp_path: Path) -> None:
    now = [100.0]
    counters = DatabaseCounters(Storage(f"sqlite:///{tmp_path / 'c.sqlite'}"), clock=lambda: now[0])
    settings = LimitSettings(match_per_ip="1/hour")
    limits = RateLimits(counters, "secret", lambda: settings, clock=lambda: now[0])
    limits.hit("match", "192.0.2.1")
    now[0] += 600
    with pytest.raises(RateLimited) as refused:
        limits.hit("match", "192.0.2.1")
    assert refused.value.retry_after == 3000 and refused.value.status == 429


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("  messages_per_ip: lots\n", "'messages_per_ip' must be a rate such as \"30/minute\""),
        ("  messages_per_ip: 0/minute\n", "'messages_per_ip' must be a rate"),
        ("  messages_per_ip: 30\n", "(per second, minute, hour or day), not '30'"),
        ("  messages_per_hour: 30/minute\n", "unknown key 'messages_per_hour' in limits settings"),
    ],
)
def test_a_bad_limit_in_bot_yml_is_an_error_at_its_line(
    bot_dir: Path, yaml: str, message: str
) -> None:
    text = (bot_dir / "bot.yml").read_text(encoding="utf-8")
    line = text.count("\n") + 2
    (bot_dir / "bot.yml").write_text(f"{text}limits:\n{yaml}", encoding="utf-8")
    problems: list[FlowProblem] = []
    read_settings(bot_dir, problems)
    (problem,) = problems
    assert problem.line == line and problem.path.endswith("bot.yml")
    assert message in problem.message


def test_limits_from_bot_yml_are_read_and_the_rest_keep_their_defaults(bot_dir: Path) -> None:
    _limits(bot_dir, conversations_per_ip='"10/minute; 100/day"')
    problems: list[FlowProblem] = []
    settings = read_settings(bot_dir, problems)
    assert not problems
    assert settings.limits.conversations_per_ip == "10/minute; 100/day"
    assert settings.limits.messages_per_ip == LimitSettings().messages_per_ip


def test_two_real_server_processes_share_one_counter(tmp_path: Path) -> None:
    """Two `botbuilder serve` replicas on one database: a client flooding both is counted once."""
    flows = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, flows)
    _limits(flows, conversations_per_ip="10/minute")
    env = dict(os.environ, PYTHONUNBUFFERED="1", BOTBUILDER_SCHEDULER="off")
    env["BOTBUILDER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    replicas: list[tuple[subprocess.Popen[Any], str, Any]] = []
    try:
        for n in range(2):  # one after the other: the first makes the secret key both use
            port, log_path = free_port(), tmp_path / f"server{n}.log"
            log = log_path.open("w")
            process = subprocess.Popen(
                [sys.executable, "-m", "botbuilder.cli", "serve", str(flows), "--port", str(port)]
                + ["--instance", str(tmp_path / "instance")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
            )
            replicas.append((process, f"http://127.0.0.1:{port}", log))
            wait_until_healthy(f"http://127.0.0.1:{port}/health", process, log_path)
        statuses = [
            requests.post(f"{replicas[i % 2][1]}/api/v1/conversations", json={}, timeout=30)
            for i in range(40)
        ]
        assert [r.status_code for r in statuses].count(201) == 10
        assert statuses[-1].status_code == 429 and int(statuses[-1].headers["Retry-After"]) >= 1
    finally:
        for process, _, log in replicas:
            stop(process, timeout=30)
            log.close()


def test_threads_counting_one_key_at_once_get_every_count_exactly_once(tmp_path: Path) -> None:
    """The SQLite counting runs on one connection of its own, one thread at a time."""
    import threading

    counters = DatabaseCounters(Storage(f"sqlite:///{tmp_path / 'c.sqlite'}"))
    seen: list[int] = []
    lock = threading.Lock()

    def count() -> None:
        for _ in range(25):
            hits = counters.incr("shared", 60)
            with lock:
                seen.append(hits)

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 201))
    assert counters.get("shared") == 200
    counters.close()
