"""Fuzzing /api/v1 from web/openapi.yaml with schemathesis, against a real `botbuilder serve`.

Every operation of the description gets generated requests (valid and
invalid bodies, odd path ids, strange query strings); each answer must not be
a 5xx and must match the description: a documented status, the documented
content type, and a body that fits the documented schema. Bounded so the run
stays well under three minutes: a few dozen examples per operation, and no
shrinking deadline. The server's rate limits are raised for the run, so the
fuzzer sees what it sends rather than 429s (whose shape `test_rate_limits`
checks).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import ROOT, SMALL_BOT
from .servers import free_port, stop, wait_until_healthy

MAX_EXAMPLES = int(os.environ.get("BOTBUILDER_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
LIMITS = {
    "conversations_per_ip": "100000/minute",
    "messages_per_ip": "100000/minute",
    "messages_per_conversation": "100000/minute",
    "feedback_per_ip": "100000/minute",
    "feedback_per_conversation": "100000/minute",
    "match_per_ip": "100000/minute",
    "handoffs_per_ip": "100000/minute",
    "handoffs_per_conversation": "100000/minute",
}

schema = schemathesis.openapi.from_path(ROOT / "web" / "openapi.yaml")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedding_cache: Path) -> Iterator[str]:
    """A real server on a copy of the small bot, with its rate limits out of the way."""
    root = tmp_path_factory.mktemp("fuzz")
    flows = root / "flows"
    shutil.copytree(SMALL_BOT, flows)
    lines = "".join(f"  {key}: {value}\n" for key, value in LIMITS.items())
    with (flows / "bot.yml").open("a", encoding="utf-8") as fh:
        fh.write(f"limits:\n{lines}")
    instance = root / "instance"
    instance.mkdir()
    if embedding_cache.exists():
        shutil.copy(embedding_cache, instance / "embeddings.sqlite")
    port = free_port()
    env = dict(os.environ, BOTBUILDER_DATABASE_URL="", PYTHONUNBUFFERED="1")
    env["BOTBUILDER_SCHEDULER"] = "off"
    log_path = root / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "botbuilder.cli", "serve", str(flows), "--port", str(port)]
            + ["--instance", str(instance)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(f"{base}/health", process, log_path)
            yield base
        finally:
            stop(process, timeout=30)
    assert "Traceback" not in log_path.read_text(encoding="utf-8"), log_path.read_text()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run, so CI is repeatable
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_of_the_api_matches_its_description(
    case: Any, server: str, session: requests.Session
) -> None:
    generated = (case.path_parameters or {}).get("conversation_id")
    if isinstance(generated, str) and len(generated) % 4:
        # Random ids only reach the 404; most cases get a real conversation instead, so
        # the fuzzed bodies and queries reach the dialogue, the feedback and the polling.
        started = session.post(f"{server}/api/v1/conversations", json={}, timeout=30)
        case.path_parameters["conversation_id"] = started.json()["conversation_id"]
    case.call_and_validate(base_url=server, session=session, checks=CHECKS, timeout=30)
