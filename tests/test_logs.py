"""JSON logs (BOTBUILDER_LOG_FORMAT=json) on a real app: one JSON object per line, a line
per request with its route (never the path with ids, nor the query string), and never a
member's words, e-mail address or a token."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from botbuilder.errors import ConfigError
from botbuilder.server.logs import JsonFormatter, OncePerInterval

SECRET_TEXT = "Mijn wachtwoord is paard-batterij-nietje en mijn fiets is gestolen"
ADDRESS = "ann.member@example.org"


@pytest.fixture
def json_app(app_factory, bot_dir: Path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), logging.getLogger("botbuilder").level
    application = app_factory(bot_dir, LOG_FORMAT="json")
    yield application
    application.extensions["botbuilder"].storage.close()
    root.handlers[:] = handlers  # the JSON handler is per process: leave none behind
    logging.getLogger("botbuilder").setLevel(level)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_request_logs_one_json_line_with_its_route_status_and_duration(
    json_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client = json_app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).json["conversation_id"]
    capsys.readouterr()
    response = client.get(
        f"/api/v1/conversations/{conversation}/messages?after=0&token=abc123",
        headers={"X-Request-Id": "req-42"},
    )
    assert response.headers["X-Request-Id"] == "req-42"
    err = capsys.readouterr().err
    (line,) = [entry for entry in _lines(err) if entry["logger"] == "botbuilder.requests"]
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "/api/v1/conversations/<conversation_id>/messages"
    assert line["request_id"] == "req-42" and isinstance(line["duration_ms"], float)
    assert {"time", "level", "logger", "message"} <= set(line) and line["level"] == "info"
    assert line["time"].endswith("Z")
    assert conversation not in err and "abc123" not in err and "after=" not in err


def test_a_members_message_and_address_never_appear_in_the_logs(
    json_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client = json_app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).json["conversation_id"]
    url = f"/api/v1/conversations/{conversation}/messages"
    client.post(url, json={"text": SECRET_TEXT})
    client.post(url, json={"text": f"medewerker, mail me op {ADDRESS}"})
    client.post(url, json={"text": "x" * 100_000})  # refused: too long
    logging.getLogger("botbuilder.test").warning("could not mail %s", ADDRESS)
    err = capsys.readouterr().err
    lines = _lines(err)
    assert len([e for e in lines if e["logger"] == "botbuilder.requests"]) >= 4
    assert all(
        line == json.dumps(entry, ensure_ascii=False)
        for line, entry in zip(
            [x for x in err.splitlines() if x.startswith("{")], lines, strict=True
        )
    )
    for word in ("wachtwoord", "paard", "fiets", "medewerker", ADDRESS, "example.org"):
        assert word not in err
    assert any(e["message"] == "could not mail [e-mail]" for e in lines)


def test_start_up_warnings_are_json_lines_too(
    app_factory, bot_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), logging.getLogger("botbuilder").level
    try:
        app = app_factory(bot_dir, LOG_FORMAT="json")  # no accounts yet: a warning at start
        err = capsys.readouterr().err
        app.extensions["botbuilder"].storage.close()
    finally:
        root.handlers[:] = handlers
        logging.getLogger("botbuilder").setLevel(level)
    lines = [line for line in err.splitlines() if line.strip()]
    assert any("No accounts yet" in json.loads(line)["message"] for line in lines)
    assert all(line.startswith("{") for line in lines), lines


def test_the_formatter_keeps_exceptions_on_one_line_without_addresses() -> None:
    try:
        raise ValueError(f"no account for {ADDRESS}")
    except ValueError:
        record = logging.LogRecord("botbuilder.x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line and ADDRESS not in line
    assert "ValueError" in json.loads(line)["exception"]


def test_an_unknown_log_format_is_refused_at_start(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        app_factory(bot_dir, LOG_FORMAT="xml")


def test_waitress_queue_warnings_come_once_a_minute_not_once_per_waiting_request(
    app_factory: Any, bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """waitress warns "Task queue depth is N" for each request that waits for a thread:
    with 16 connections on 8 threads that was a log line per request."""
    from waitress.task import ThreadedTaskDispatcher

    queue_log = logging.getLogger("waitress.queue")
    queue_log.filters[:] = [f for f in queue_log.filters if not isinstance(f, OncePerInterval)]
    application = app_factory(bot_dir)
    dispatcher = ThreadedTaskDispatcher()  # no threads: every task waits
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(50):
            dispatcher.add_task(object())
    warnings = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
    assert warnings == ["Task queue depth is 1"]
    application.extensions["botbuilder"].storage.close()


def test_the_next_warning_let_through_says_how_many_were_held_back() -> None:
    now = [100.0]
    log = logging.getLogger("botbuilder.tests.once")
    once = OncePerInterval(60, clock=lambda: now[0])
    records = []
    for depth in range(1, 5):
        record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "depth %d", (depth,), None)
        if once.filter(record):
            records.append(record.getMessage())
    now[0] += 60
    record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "depth %d", (9,), None)
    assert once.filter(record)
    assert records == ["depth 1"]
    assert record.getMessage() == "depth 9 (and 3 more such warnings before it)"
