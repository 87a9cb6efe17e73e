"""Start-up: what a server's start imports and does (issue 14: cached start ≤ 2 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BOT = """\
language: en
intents:
  - id: opening_hours
    questions: [When are you open?, What are your opening hours?, Are you open on Sunday?]
    answer: Every day from 9 to 5.
  - id: membership_fee
    questions: [How much is the membership?, What does it cost to join?, Membership fee]
    answer: 30 euros a year.
  - id: parking
    questions: [Where can I park?, Is there parking nearby?, Can I park my car?]
    answer: Behind the club house.
"""

_CHILD = """
import hashlib, json, sys
hashes = []  # scrypt runs: password hashes made (werkzeug calls hashlib.scrypt)
scrypt = hashlib.scrypt
hashlib.scrypt = lambda *a, **k: hashes.append(1) or scrypt(*a, **k)
import botbuilder.content.yaml_source as yaml_source
parses = []  # flow files parsed, not read back from the instance folder
parse = yaml_source.parse_yaml
yaml_source.parse_yaml = lambda text: parses.append(1) or parse(text)
from botbuilder.server import create_app
app = create_app({"FLOWS_DIR": sys.argv[1], "INSTANCE_PATH": sys.argv[2]})
matcher = app.extensions["botbuilder"].runtime.current().matcher
print(json.dumps({
    "loaded": matcher.stats.loaded,
    "imported": sorted(
        m for m in ("sklearn", "torch", "alembic", "scipy", "sqlalchemy.dialects.postgresql")
        if m in sys.modules
    ),
    "password_hashes": len(hashes),
    "parsed": len(parses),
}))
"""


def _start(flows: Path, instance: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(flows), str(instance)],
        capture_output=True,
        text=True,
        check=True,
        env={"BOTBUILDER_SCHEDULER": "off", "PATH": "/usr/bin:/bin"},
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_a_restarted_server_loads_its_saved_index_without_importing_sklearn_torch_or_alembic(
    tmp_path: Path,
) -> None:
    # Nor SciPy (only training needs it) or PostgreSQL's dialect on SQLite, nor does it
    # make a password hash (accounts' dummy hash for unknown addresses: ~0.15 s of CPU,
    # made on first use), nor parse the flow files it parsed before.
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "bot.yml").write_text("name: Start-up bot\nlanguage: en\n", encoding="utf-8")
    (flows / "intents.yml").write_text(BOT, encoding="utf-8")
    instance = tmp_path / "instance"
    first = _start(flows, instance)
    assert first["loaded"] is False
    assert {"alembic", "scipy"} <= set(first["imported"])  # a new database; a first fit
    assert first["parsed"] == 2
    restarted = _start(flows, instance)
    assert restarted == {"loaded": True, "imported": [], "password_hashes": 0, "parsed": 0}
    (flows / "intents.yml").write_text(BOT.replace("30 euros", "35 euros"), encoding="utf-8")
    assert _start(flows, instance)["parsed"] == 1  # the changed file, not bot.yml
