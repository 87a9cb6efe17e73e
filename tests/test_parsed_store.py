"""Parsed flow files kept in the instance folder (content/parsed_store.py)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from botbuilder.content.parsed_store import ParsedStore
from botbuilder.content.yaml_source import parse_yaml

FLOW = """\
# the club's questions
intents:
  - id: opening_hours   # shown first
    questions: [When are you open?, Open on Sunday?]
    answer: |
      Every day
      from 9 to 5.
    since: 2024-01-02
"""


class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch planted-ran",))


def test_a_parse_is_read_back_with_its_line_numbers_comments_and_values(tmp_path: Path) -> None:
    store = ParsedStore(tmp_path / "parsed", "depth 50")
    assert store.get(FLOW) is None
    store.put(FLOW, parse_yaml(FLOW))
    again = ParsedStore(tmp_path / "parsed", "depth 50").get(FLOW)  # as after a restart
    assert again == parse_yaml(FLOW)
    intent = again["intents"][0]
    assert intent.lc.line == 2 and intent.lc.key("answer") == (4, 4)
    assert str(intent["since"]) == "2024-01-02"
    assert again.ca.comment is not None  # the comments too: a save keeps them
    assert ParsedStore(tmp_path / "parsed", "depth 20").get(FLOW) is None  # another parser
    assert store.get(FLOW + "\n# changed\n") is None


def test_a_damaged_or_planted_file_is_a_miss_and_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = ParsedStore(tmp_path / "parsed", "depth 50")
    store.put(FLOW, parse_yaml(FLOW))
    (kept,) = (tmp_path / "parsed").glob("*.pickle")
    kept.write_bytes(pickle.dumps({"intents": [_Planted()]}))
    assert store.get(FLOW) is None
    assert not (tmp_path / "planted-ran").exists()
    kept.write_bytes(b"\x80\x05garbage")
    assert store.get(FLOW) is None
    store.put(FLOW, parse_yaml(FLOW))  # parsed again, kept again
    assert store.get(FLOW) == parse_yaml(FLOW)


def test_the_folder_keeps_the_most_recently_used_parses(tmp_path: Path) -> None:
    store = ParsedStore(tmp_path / "parsed", "depth 50")
    store.put(FLOW, parse_yaml(FLOW))
    for n in range(70):
        store.put(f"n: {n}\n", {"n": n})
        store.get(FLOW)  # in use: never the one pruned
    assert len(list((tmp_path / "parsed").glob("*.pickle"))) == 64
    assert store.get(FLOW) is not None
    assert store.get("n: 0\n") is None and store.get("n: 69\n") == {"n": 69}
    assert not list((tmp_path / "parsed").glob("*.tmp"))
