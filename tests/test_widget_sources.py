"""The widget ships as one file built from web/widget/: the two must agree,
and the transport's own tests (tests/js, Node's test runner) pass."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.build_widget import OUTPUT, PARTS, SOURCES, build

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_widget_js_is_the_build_of_its_sources():
    assert OUTPUT.read_text(encoding="utf-8") == build(), (
        "web/static/widget.js differs from web/widget/*.js: edit the sources, then `make widget`"
    )


def test_every_source_file_is_built_in():
    assert sorted(p.name for p in SOURCES.glob("*.js")) == sorted(("header.js", *PARTS))


def test_transport_unit_tests_pass_in_node():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the widget's transport tests (tests/js) need Node 18+")
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
