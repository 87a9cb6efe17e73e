"""`make loadtest`'s script runs end to end in a tiny bounded configuration.

Phase 1 only, on the example bot (phases 2 and 3 need a PostgreSQL cluster
of their own and a minute's lease): a real `botbuilder serve` started cold
and restarted, a few questions at each number of connections, and the
table with its targets. Timings are not checked: only that it runs, answers without a
5xx, and exits 0.
"""

from __future__ import annotations

from typing import Any

from benchmarks import loadtest


def test_the_load_test_runs_a_tiny_bounded_phase_1(capsys: Any) -> None:
    status = loadtest.main(
        ["--phases", "1", "--bot", "example", "--seconds", "1", "--max-questions", "12"]
        + ["--rounds", "10"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "distinct, 16 conn." in out and "repeated, 16 conn." in out
    assert "bare encode, 64 at once" in out
    assert "targets (issue 14)" in out and "RSS per replica" in out
    assert "OK: no lost acknowledged message" in out
