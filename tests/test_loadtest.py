"""`make loadtest`'s script runs end to end in a tiny bounded configuration.

Phase 1 only, on the example bot (phases 2 and 3 need a PostgreSQL cluster
of their own and a minute's lease): a real `botbuilder serve` started cold
and restarted, a few questions at each number of connections, and the
table with its targets. Timings are not checked: only that it runs, answers without a
5xx, and exits 0.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

import pytest

from benchmarks import loadtest, native_load


def test_the_load_test_runs_a_tiny_bounded_phase_1(capsys: Any) -> None:
    status = loadtest.main(
        ["--phases", "1", "--bot", "example", "--seconds", "1", "--max-questions", "12"]
        + ["--rounds", "10"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "distinct, 16 conn." in out and "repeated, 16 conn." in out
    assert "bare encode, 64 at once" in out
    assert "cached questions, 16 conn.: Python client" in out and "GET /health a second" in out
    assert "targets (issue 14)" in out and "RSS per replica" in out
    assert "p50 over HTTP / bare, same questions" in out and "questions: p50 over HTTP" in out
    assert "OK: no lost acknowledged message" in out


@pytest.mark.skipif(not native_load.available(), reason="wrk is not installed")
def test_wrk_posts_the_bodies_in_turn_and_its_figures_are_read() -> None:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body["text"])
            status = 200 if body["text"] != "refused" else 503
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        bodies = [{"text": "a"}, {"text": "b"}, {"text": "refused"}]
        result = native_load.run([port], "/api/v1/match", bodies, 2, 1)
    finally:
        server.shutdown()
        server.server_close()
    # wrk leaves out the requests in flight when its time is up (at most one a connection)
    assert 3 <= result.requests <= len(seen) <= result.requests + 2
    assert set(seen) == {"a", "b", "refused"}
    assert 0 < result.errors <= seen.count("refused")  # a 503 counts as an error
    assert 0 < result.p50_ms <= result.p95_ms and 0.5 < result.seconds < 5
