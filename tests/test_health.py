"""`/health` (liveness) and `/ready` (database and bot) tell the public nothing private."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def test_health_says_only_status_version_and_bot_even_when_the_flows_break(
    app_factory: Any, bot_dir: Path, tmp_path: Path
) -> None:
    app = app_factory(bot_dir)
    (bot_dir / "bot.yml").write_text("name: [unclosed\n", encoding="utf-8")
    app.extensions["botbuilder"].runtime.current()  # tries the broken files, keeps the last bot
    data = app.test_client().get("/health").json
    assert set(data) == {"status", "version", "bot"} and data["status"] == "ok"
    assert str(tmp_path) not in str(data)
    app.extensions["botbuilder"].storage.close()


def test_ready_answers_200_with_a_database_and_a_bot(app_factory: Any, bot_dir: Path) -> None:
    app = app_factory(bot_dir)
    response = app.test_client().get("/ready")
    assert response.status_code == 200 and response.json == {"status": "ready", "index": "complete"}
    app.extensions["botbuilder"].storage.close()


def test_ready_answers_a_503_without_details_when_the_database_is_gone(
    app_factory: Any, bot_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    app = app_factory(bot_dir, f"sqlite:///{folder / 'bot.sqlite'}")
    app.extensions["botbuilder"].storage.engine.dispose()
    shutil.rmtree(folder)  # SQLite cannot open a file in a folder that is gone
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.json == {
        "ok": False,
        "error": "not ready: the database or the bot is unavailable",
        "status": 503,
    }
    assert str(tmp_path) not in response.get_data(as_text=True)
