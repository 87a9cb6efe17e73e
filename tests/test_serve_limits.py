"""A real `botbuilder serve` process: body limits per route, gzip, liveness and readiness.

waitress' own cap sits just above the largest route limit (2 MB uploads), so
each route's limit is the app's, answered in the app's way: the API's 64 KB as
the JSON 413, an upload reaching the editor's login check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from .conftest import ROOT, SMALL_BOT
from .servers import free_port, stop, wait_until_healthy


def test_a_real_server_keeps_the_api_limit_and_lets_uploads_reach_the_app(
    tmp_path: Path, embedding_cache: Path
) -> None:
    port = free_port()
    env = dict(os.environ, BOTBUILDER_DATABASE_URL="", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    command = [sys.executable, "-m", "botbuilder.cli", "serve", str(SMALL_BOT)]
    command += ["--port", str(port), "--instance", str(tmp_path / "instance")]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base}/health", process, log_path)
        ready = requests.get(f"{base}/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["index"] in ("provisional", "complete")
        health = requests.get(f"{base}/health", timeout=10).json()
        assert set(health) == {"status", "version", "bot"}
        assert str(tmp_path) not in str(health) and "/" not in health["bot"]

        big_json = {"text": "x" * (100 * 1024)}
        refused = requests.post(f"{base}/api/v1/match", json=big_json, timeout=10)
        assert refused.status_code == 413
        assert refused.json() == {"ok": False, "error": refused.json()["error"], "status": 413}

        widget = requests.get(f"{base}/widget.js", headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert widget.headers["Content-Encoding"] == "gzip"  # through waitress, no proxy
        assert widget.content == (ROOT / "web" / "static" / "widget.js").read_bytes()

        upload = {"file": ("flows.yml", b"a: " + b"x" * (1536 * 1024), "text/yaml")}
        reached = requests.post(
            f"{base}/editor/transfer/preview", files=upload, timeout=30, allow_redirects=False
        )
        assert reached.status_code != 413, reached.text[:200]  # the app's login check, not waitress
        assert reached.status_code in (302, 303, 401, 403)
    finally:
        stop(process, timeout=30)
        log.close()
