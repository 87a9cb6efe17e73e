"""Import / export in the editor through Flask's test client: preview writes nothing,
confirm writes, records versions and the bot answers; bad rows by row number; CSRF and
roles; exports that read back."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from ruamel.yaml import YAML

from .test_editor import PASSWORD, login

PARKING_CSV = """\
intent,question,answer,language
fietsparkeren,Waar kan ik mijn fiets parkeren?,De fietsenstalling is achter het clubhuis.,nl
fietsparkeren,Is er een fietsenstalling?,,nl
fietsparkeren,Waar zet ik mijn fiets neer?,,nl
fietsparkeren,fiets stallen,,nl
contributie,Hoeveel moet ik per maand betalen voor mijn lidmaatschap?,,nl
"""


def _snapshot(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def transfer_app(app_factory, bot_dir: Path):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    accounts = app.extensions["botbuilder"].accounts
    accounts.add("manager@example.org", PASSWORD, "manager")
    accounts.add("agent@example.org", PASSWORD, "agent")
    yield app
    app.extensions["botbuilder"].storage.close()


@pytest.fixture
def manager(transfer_app):  # type: ignore[no-untyped-def]
    client = transfer_app.test_client()
    client.csrf = login(client, "manager@example.org")
    return client


def preview(client: Any, content: bytes, fmt: str = "csv", name: str = "faq.csv", **extra: Any):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": client.csrf,
        "format": fmt,
        "language": "nl",
        "file": (io.BytesIO(content), name),
        **extra,
    }
    return client.post("/editor/transfer/preview", data=data, content_type="multipart/form-data")


def _token(html: str) -> str:
    import re

    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_page_has_the_form_and_export_links(manager) -> None:  # type: ignore[no-untyped-def]
    page = manager.get("/editor/transfer")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'value="rasa"' in page.text
    assert "/editor/transfer/export?format=rasa&amp;language=en" in page.text
    assert "Import / export" in manager.get("/editor/").text


def test_preview_shows_changes_and_writes_nothing(manager, transfer_app, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(bot_dir)
    response = preview(manager, PARKING_CSV.encode())
    assert response.status_code == 200, response.text
    assert "nl/fietsparkeren" in response.text.split('id="added"')[1].split("</ul>")[0]
    assert "nl/contributie" in response.text.split('id="changed"')[1].split("</ul>")[0]
    assert _snapshot(bot_dir) == before
    uploads = Path(transfer_app.instance_path) / "uploads"
    assert len(list(uploads.iterdir())) == 1  # kept for the confirm, outside the flows


def test_confirm_writes_records_and_the_bot_answers(manager, transfer_app, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    question = {"text": "Waar kan ik mijn fiets parkeren?"}
    assert manager.post("/api/v1/match", json=question).json["intent"] != "fietsparkeren"
    token = _token(preview(manager, PARKING_CSV.encode()).text)
    done = manager.post(
        "/editor/transfer/confirm", data={"csrf_token": manager.csrf, "token": token}
    )
    assert done.status_code == 200, done.text
    assert "2 intents added" not in done.text and "1 intents added, 1 changed" in done.text
    assert "fietsstalling" not in (bot_dir / "faq.yml").read_text(encoding="utf-8")
    assert "fietsenstalling" in (bot_dir / "nl" / "imported.yml").read_text(encoding="utf-8")
    assert "Hoeveel moet ik per maand" in (bot_dir / "faq.yml").read_text(encoding="utf-8")
    assert manager.post("/api/v1/match", json=question).json["intent"] == "fietsparkeren"
    history = manager.get("/editor/history").text
    assert "imported faq.csv (csv)" in history and "nl/imported.yml" in history
    assert not list((Path(transfer_app.instance_path) / "uploads").iterdir())
    again = manager.post(
        "/editor/transfer/confirm", data={"csrf_token": manager.csrf, "token": token}
    )
    assert again.status_code == 404  # an upload is imported once


def test_bad_rows_are_shown_by_number_and_nothing_is_written(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(bot_dir)
    bad = "intent,question,answer,language\nx,Vraag?,Antwoord,nl\n,zonder intent,,nl\ny,Vraag?,Antwoord,xx\n"
    response = preview(manager, bad.encode())
    assert response.status_code == 422
    assert "row 3: no intent id" in response.text and "row 4: unknown language" in response.text
    assert 'name="token"' not in response.text
    assert _snapshot(bot_dir) == before


def test_xlsx_and_qna_and_rasa_uploads_preview(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    book = Workbook()
    for row in csv.reader(io.StringIO(PARKING_CSV)):
        book.active.append(row)  # type: ignore[union-attr]
    xlsx = io.BytesIO()
    book.save(xlsx)
    response = preview(manager, xlsx.getvalue(), "xlsx", "faq.xlsx")
    assert response.status_code == 200 and "nl/fietsparkeren" in response.text
    qna = "Question\tAnswer\tSource\nWaar kan ik parkeren?\tAchter het clubhuis.\tx\n"
    response = preview(manager, qna.encode(), "qna", "kb.tsv")
    assert response.status_code == 200 and "nl/waar_kan_ik_parkeren" in response.text
    nlu = b"version: '3.1'\nnlu:\n  - intent: parkeren\n    examples: |\n      - Waar kan ik parkeren?\n"
    domain = b"version: '3.1'\nintents: [parkeren]\nresponses:\n  utter_parkeren:\n    - text: Achter het clubhuis.\n"
    response = preview(manager, nlu, "rasa", "nlu.yml", domain=(io.BytesIO(domain), "domain.yml"))
    assert response.status_code == 200 and "nl/parkeren" in response.text
    without_domain = preview(manager, nlu, "rasa", "nlu.yml")
    assert without_domain.status_code == 422 and "utter_parkeren" in without_domain.text
    assert "/uploads/" not in without_domain.text  # files named as uploaded, not by server path


def test_csrf_and_roles(manager, transfer_app) -> None:  # type: ignore[no-untyped-def]
    no_token = manager.post(
        "/editor/transfer/preview",
        data={"format": "csv", "language": "nl", "file": (io.BytesIO(b"x"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 403
    assert manager.post("/editor/transfer/confirm", data={"token": "x" * 32}).status_code == 403
    agent = transfer_app.test_client()
    agent.csrf = login(agent, "agent@example.org")
    assert agent.get("/editor/transfer").status_code == 403
    assert agent.get("/editor/transfer/export?format=csv").status_code == 403
    assert preview(agent, PARKING_CSV.encode()).status_code == 403
    anonymous = transfer_app.test_client()
    assert anonymous.get("/editor/transfer").status_code == 302


def test_upload_limit_is_2_mb(manager) -> None:  # type: ignore[no-untyped-def]
    big = b"intent,question,answer,language\n" + b"a,b,c,nl\n" * 10_000  # 90 KB: over 64 KB
    accepted = preview(manager, big)  # over the app's 64 KB, under this page's 2 MB
    assert accepted.status_code == 200 and "nl/a" in accepted.text
    assert preview(manager, b"x" * (2 * 1024 * 1024 + 1)).status_code == 413


def test_exports_download_and_read_back(manager) -> None:  # type: ignore[no-untyped-def]
    response = manager.get("/editor/transfer/export?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
    assert {("nl", "opzeggen"), ("en", "opzeggen")} <= {(r["language"], r["intent"]) for r in rows}

    response = manager.get("/editor/transfer/export?format=xlsx&language=nl")
    assert response.status_code == 200 and "-nl.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("intent", "question", "answer", "language")
    assert {v[3] for v in values[1:]} == {"nl"}

    response = manager.get("/editor/transfer/export?format=rasa&language=en")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "rasa-en.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["domain.yml", "nlu.yml", "rules.yml"]
    domain = YAML(typ="safe").load(archive.read("domain.yml"))
    assert "opzeggen" in domain["intents"] and "utter_opzeggen" in domain["responses"]

    assert manager.get("/editor/transfer/export?format=pdf").status_code == 400
    assert manager.get("/editor/transfer/export?format=csv&language=fr").status_code == 400


def test_an_upload_is_read_once_and_only_its_entries_wait_for_the_confirm(
    manager, transfer_app, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    token = _token(preview(manager, PARKING_CSV.encode()).text)
    folder = Path(transfer_app.instance_path) / "uploads" / token
    assert sorted(p.name for p in folder.iterdir()) == ["entries.json", "meta.json"]
    done = manager.post(
        "/editor/transfer/confirm", data={"csrf_token": manager.csrf, "token": token}
    )
    assert done.status_code == 200, done.text
    versions = transfer_app.extensions["botbuilder"].editor.history.versions("nl/imported.yml")
    assert [v.note for v in versions] == ["imported faq.csv (csv)"]  # one save, one version


def test_upload_bombs_get_a_clear_422_quickly_not_a_500(
    manager, bot_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from .test_upload_safety import alias_bomb, bounded, xlsx

    before = _snapshot(bot_dir)
    sheet = xlsx(tmp_path / "bomb.xlsx", dimension="A1:XFD1048576", rows_after='<row r="1048576"/>')
    with bounded(seconds=5, megabytes=60):
        response = preview(manager, sheet.read_bytes(), "xlsx", "bomb.xlsx")
    assert response.status_code == 422
    assert "bomb.xlsx: the sheet reaches past row 50000" in response.text
    with bounded(seconds=5, megabytes=60):
        response = preview(manager, alias_bomb().encode(), "rasa", "nlu.yml")
    assert response.status_code == 422
    assert "nlu.yml:2: YAML anchors and aliases" in response.text
    assert "/uploads/" not in response.text and "botbuilder-upload-" not in response.text
    assert _snapshot(bot_dir) == before


def test_exported_csv_neutralises_formulas_and_imports_back_unchanged(
    manager, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    sheet = "intent,question,answer,language\nformule,'=1+1 is?,'@iedereen: welkom,nl\n"
    token = _token(preview(manager, sheet.encode()).text)
    confirm = manager.post(
        "/editor/transfer/confirm", data={"csrf_token": manager.csrf, "token": token}
    )
    assert confirm.status_code == 200
    exported = manager.get("/editor/transfer/export?format=csv&language=nl").data.decode("utf-8")
    assert "formule,'=1+1 is?,'@iedereen: welkom,nl" in exported
    again = preview(manager, exported.encode())
    assert again.status_code == 200 and "The bot already has everything in this file." in again.text
