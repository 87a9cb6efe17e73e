"""Unusual but possible states of a real deployment, through the Flask test client on real
files and a real SQLite database: a flow file symlinked from elsewhere, a flow file that
became a folder or lost its UTF-8 after it was saved, dates at the ends of the calendar.
Each gets a page or a clear 4xx, never a 500."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.test_console import PASSWORD
from tests.test_editor import _field, login

MANAGER = "manager@example.org"
STALLING = """\
language: nl
intents:
  - id: stalling
    questions:
      - Waar is de fietsenstalling?
      - fietsen stallen
      - Waar zet ik mijn fiets neer?
      - stalling
    answer: Achter het clubhuis.
"""


@pytest.fixture
def manager_app(app_factory, bot_dir: Path):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    app.extensions["botbuilder"].accounts.add(MANAGER, PASSWORD, "manager")
    yield app
    app.extensions["botbuilder"].storage.close()


def manager(app: Any) -> Any:
    client = app.test_client()
    client.csrf = login(client, MANAGER)
    return client


def save_answer(client: Any, file: str, intent: str, answer: str) -> Any:
    page = client.get(f"/editor/intent?file={file}&id={intent}")
    assert page.status_code == 200, page.text
    return client.post(
        "/editor/intent",
        data={
            "csrf_token": client.csrf,
            "file": file,
            "original_id": intent,
            "revision": _field(page.text, "revision"),
            "id": intent,
            "questions": [
                "Waar is de fietsenstalling?",
                "fietsen stallen",
                "Waar zet ik mijn fiets neer?",
                "stalling",
            ],
            "answer": answer,
            "handoff_mode": "none",
            "save_anyway": "1",
        },
    )


# -- a flow file symlinked from outside the folder ------------------------------------------


def test_a_flow_file_symlinked_from_outside_the_folder_is_edited_by_its_name_in_the_folder(
    app_factory, bot_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "shared" / "stalling.yml"
    outside.parent.mkdir()
    outside.write_text(STALLING, encoding="utf-8")
    os.symlink(outside, bot_dir / "stalling.yml")
    app = app_factory(bot_dir)
    app.extensions["botbuilder"].accounts.add(MANAGER, PASSWORD, "manager")
    client = manager(app)

    overview = client.get("/editor/")
    assert overview.status_code == 200 and "stalling.yml" in overview.text
    assert (
        save_answer(client, "stalling.yml", "stalling", "Links van het clubhuis.").status_code
        == 302
    )

    # the save replaced the link by a file in the folder: nothing outside it was written
    assert outside.read_text(encoding="utf-8") == STALLING
    assert not (bot_dir / "stalling.yml").is_symlink()
    assert "Links van het clubhuis." in (bot_dir / "stalling.yml").read_text(encoding="utf-8")
    app.extensions["botbuilder"].storage.close()


# -- history of a file the server can no longer read -----------------------------------------


def _saved_then(app: Any, bot_dir: Path, breaks: Any) -> tuple[Any, int]:
    (bot_dir / "stalling.yml").write_text(STALLING, encoding="utf-8")
    client = manager(app)
    assert save_answer(client, "stalling.yml", "stalling", "Links.").status_code == 302
    version = app.extensions["botbuilder"].editor.history.latest("stalling.yml").id
    breaks(bot_dir / "stalling.yml")
    return client, version


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _latin1(path: Path) -> None:
    path.write_bytes("language: nl\n# café\nintents: []\n".encode("latin-1"))


@pytest.mark.parametrize(
    ("breaks", "reason"), [(_folder, "is a folder"), (_latin1, "not UTF-8 text")]
)
def test_a_version_of_a_file_that_became_unreadable_is_a_4xx_page_naming_the_file(
    manager_app: Any, bot_dir: Path, breaks: Any, reason: str
) -> None:
    client, version = _saved_then(manager_app, bot_dir, breaks)
    page = client.get(f"/editor/history/{version}")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "stalling.yml cannot be read" in page.text and reason in page.text


def test_a_version_page_refusal_is_in_dutch_for_a_dutch_manager(
    manager_app: Any, bot_dir: Path
) -> None:
    client, version = _saved_then(manager_app, bot_dir, _latin1)
    page = client.get(f"/editor/history/{version}", headers={"Accept-Language": "nl"})
    assert page.status_code == 400
    assert "stalling.yml is niet te lezen" in page.text, page.text
    assert "vergelijk" in page.text


def test_restoring_one_intent_into_a_file_that_is_not_utf8_says_why_instead_of_a_500(
    manager_app: Any, bot_dir: Path
) -> None:
    client, version = _saved_then(manager_app, bot_dir, _latin1)
    response = client.post(
        f"/editor/history/{version}/restore-intent",
        data={"csrf_token": client.csrf, "intent": "stalling"},
    )
    assert response.status_code == 302
    assert "café".encode("latin-1") in (bot_dir / "stalling.yml").read_bytes()  # untouched


# -- dates at the ends of the calendar --------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["since=0001-01-01", "until=9999-12-31", "since=0001-01-01&until=9999-12-31"]
)
def test_browsing_conversations_from_a_date_outside_1970_to_9000_is_a_400_page(
    manager_app: Any, query: str
) -> None:
    response = manager(manager_app).get(f"/conversations?{query}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "must be a date from 1970 to 9000" in response.text
