"""The botbuilder command through click's CliRunner, and `serve` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from botbuilder.cli import main

from .conftest import SMALL_BOT
from .servers import free_port, stop, wait_until_healthy

EVALUATION_KEYS = {
    "n",
    "accuracy",
    "in_scope_accuracy",
    "oos_recall",
    "handoff_precision",
    "wrong_answer_rate",
    "clarify_rate",
    "clarify_hit_rate",
    "in_scope_resolved",
    "latency_ms_p50",
    "latency_ms_p95",
}


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BOTBUILDER_INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()


def test_check_ok_prints_a_one_line_summary(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", str(SMALL_BOT)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[-1] == "OK: 6 intents (5 matchable) in nl, en, 60 example questions, 1 warning"
    assert "faq_en.yml:18:5: warning: 3 of the 6 questions of 'contributie'" in lines[0]


def test_check_lists_every_error_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text(
        "intents:\n  - id: a\n    questions: [q]\n    answr: x\n    buttons:\n      - label: t\n        goto: b\n"
    )
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert any(
        line.endswith(
            "faq.yml:4:5: unknown key 'answr' in an intent (did you mean 'answer'?); "
            "allowed: id, questions, answer, buttons, context_only, handoff"
        )
        for line in lines
    )
    assert any("faq.yml:2:5: intent 'a' has no 'answer'" in line for line in lines)
    assert any("faq.yml:7:15: button 'goto: b' names no intent" in line for line in lines)
    assert lines[-1] == f"Error: 3 errors in {tmp_path}; fix them and check again"


def test_evaluate_json_has_every_documented_key(runner: CliRunner, tmp_path: Path) -> None:
    tests = tmp_path / "tests.yml"
    tests.write_text(
        "- q: hoe stop ik met mijn lidmaatschap\n  expect: opzeggen\n"
        "- q: I forgot my password, help\n  expect: wachtwoord\n"
        "- q: wat wordt het weer morgen in Utrecht\n  expect: handoff\n"
    )
    result = runner.invoke(main, ["evaluate", str(SMALL_BOT), "--tests", str(tests), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert EVALUATION_KEYS <= set(figures)
    assert figures["n"] == 3
    assert 0 <= figures["wrong_answer_rate"] <= 1 and figures["latency_ms_p50"] > 0


def test_evaluate_report_is_readable(runner: CliRunner, tmp_path: Path) -> None:
    tests = tmp_path / "tests.yml"
    tests.write_text(
        "- q: Hoe zeg ik op?\n  expect: opzeggen\n- q: welke film draait er vanavond\n  expect: handoff\n"
    )
    result = runner.invoke(main, ["evaluate", str(SMALL_BOT), "--tests", str(tests)])
    assert result.exit_code == 0
    assert "2 questions (1 with an answer, 1 without)" in result.output
    assert "wrong answers" in result.output


def test_evaluate_with_unknown_intent_in_tests_names_the_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    tests = tmp_path / "tests.yml"
    tests.write_text("- q: a\n  expect: opzeggen\n- q: b\n  expect: nietsbestaand\n")
    result = runner.invoke(main, ["evaluate", str(SMALL_BOT), "--tests", str(tests)])
    assert result.exit_code == 1
    assert "tests.yml:3: expect 'nietsbestaand' is not an intent of the bot" in result.output


def test_chat_shows_decision_intent_and_confidence(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["chat", str(SMALL_BOT)],
        input="Hoe kan ik mijn lidmaatschap opzeggen?\n1\nmens\nquit\n",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "bot> Hoi! Waar kan ik je mee helpen?" in out
    assert "[answer · opzeggen · " in out
    assert (
        "[1] Wat is de opzegtermijn?" in out
        and "↗ Naar mijn account (https://example.org/account)" in out
    )
    assert "bot> De opzegtermijn is *een maand*." in out
    assert "[handoff · - · " in out and "state waiting" in out


def test_serve_runs_a_real_server_that_answers_over_http(
    tmp_path: Path, embedding_cache: Path
) -> None:
    port = free_port()
    env = dict(os.environ, BOTBUILDER_DATABASE_URL="", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "server.log"
    log = log_path.open("w")  # a file, not a pipe nobody reads while it fills
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "botbuilder.cli",
            "serve",
            str(SMALL_BOT),
            "--port",
            str(port),
            "--instance",
            str(tmp_path / "instance"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base}/health", process, log_path)
        started = requests.post(f"{base}/api/v1/conversations", json={}, timeout=10).json()
        conversation = started["conversation_id"]
        reply = requests.post(
            f"{base}/api/v1/conversations/{conversation}/messages",
            json={"text": "Wat kost het lidmaatschap per jaar?"},
            timeout=30,
        )
        assert reply.status_code == 200
        assert reply.json()["messages"][0]["text"] == "De contributie is 25 euro per jaar."
        assert reply.headers["Server"] == "botbuilder"  # waitress, not Flask's development server
        assert (tmp_path / "instance" / "botbuilder.sqlite").exists()
        assert (
            requests.get(f"{base}/api/v1/conversations/nope/messages", timeout=10).status_code
            == 404
        )
    finally:
        stop(process, timeout=30)
        log.close()


def test_cross_validation_scores_a_bot_without_a_tests_file(runner: CliRunner) -> None:
    result = runner.invoke(main, ["evaluate", str(SMALL_BOT), "--cross-validate", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["cross_validated"] is True
    assert figures["n"] == 60 and figures["n_out_of_scope"] == 0  # every example held out once
    assert EVALUATION_KEYS <= set(figures)
    assert figures["closed_set_accuracy"] >= 0.6


def test_evaluate_needs_tests_or_cross_validate(runner: CliRunner) -> None:
    result = runner.invoke(main, ["evaluate", str(SMALL_BOT)])
    assert result.exit_code == 2 and "give either --tests FILE or --cross-validate" in result.output


def test_user_add_and_set_password_refuse_an_easily_guessed_password(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    instance = ["--instance", str(tmp_path / "instance")]
    weak = runner.invoke(
        main, ["user", "add", "a@example.org", "--password-stdin", *instance], input="aaaaaaaaaa\n"
    )
    assert weak.exit_code == 1 and "too easy to guess" in weak.output
    assert "one character repeated" in weak.output
    added = runner.invoke(
        main,
        ["user", "add", "a@example.org", "--password-stdin", *instance],
        input="correct horse battery\n",
    )
    assert added.exit_code == 0, added.output
    common = runner.invoke(
        main,
        ["user", "set-password", "a@example.org", "--password-stdin", *instance],
        input="Password2024!\n",
    )
    assert common.exit_code == 1 and "most used passwords" in common.output
