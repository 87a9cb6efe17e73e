"""What stops an import (or an export) reaches a Dutch manager in Dutch: every problem of
a file to import is a `Message`, its template translated, the upload named as the manager
knows it; broken flow files are listed one a line, each problem in Dutch; why the system
cannot read a file is said in words, not the C library's English; a teach form of a
deleted conversation says it may have been deleted. `botbuilder import`, logs and scripts
keep the English text. Real files in tmp_path, the real catalogue, the Flask test client."""

from __future__ import annotations

import errno
import re
import zipfile
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.loader import inspect_bot
from botbuilder.content.os_reasons import os_reason
from botbuilder.errors import BadRequest, ImportFileError, Message, Phrase
from botbuilder.interchange.limits import check_xlsx_zip, load_yaml
from botbuilder.interchange.qna import import_qna
from botbuilder.interchange.rasa import import_rasa
from botbuilder.interchange.registry import format_named
from botbuilder.interchange.spreadsheet import read_rows, rows_to_entries
from botbuilder.privacy.requests import delete_member, find_member
from tests.test_editor import PASSWORD, editor_app, login  # noqa: F401 (a fixture)
from tests.test_i18n_advice import dutch_client
from tests.test_i18n_errors import asked_and_a_dutch_manager, break_by_hand, teach
from tests.test_i18n_loader import CATALOGUE, _templates
from tests.test_transfer import PARKING_CSV, _token, preview, transfer_app  # noqa: F401
from tests.test_upload_safety import xlsx

TEMPLATES = CATALOGUE.parent.parent.parent / "messages.pot"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _import_problems(tmp: Path) -> list[str]:
    """Every problem the readers find in a collection of broken and hostile files."""
    nlu = _write(tmp / "nlu.yml", "nlu:\n  - intent: a\n    examples: |\n      - q\n")
    sheet_rows = [
        {"intent": "", "question": "q"},
        {"intent": "a", "question": "q", "language": "xx"},
        {"intent": "b", "question": "", "answer": ""},
        {"intent": "c", "question": "q", "answer": "een"},
        {"intent": "c", "question": "q", "answer": "twee"},
        {"intent": "d", "question": "q"},
    ]
    cells = "".join(f'<row r="{r}">' + "<c/>" * 16_000 + "</row>" for r in range(1, 20))
    calls: list[Callable[[], Any]] = [
        lambda: read_rows(_write(tmp / "empty.csv", "")),
        lambda: read_rows(_write(tmp / "one.csv", "intent,answer\n")),
        lambda: read_rows(_write(tmp / "two.csv", "answer\n")),
        lambda: read_rows(_write(tmp / "latin1.csv", "intent,question\né,x\n".encode("latin-1"))),
        lambda: read_rows(tmp / "gone.csv"),
        lambda: read_rows(_write(tmp / "long.csv", 'intent,question\na,"' + "x" * 200_000 + '"\n')),
        lambda: read_rows(_write(tmp / "many.csv", "intent,question\n" + "a,b\n" * 50_000)),
        lambda: rows_to_entries(sheet_rows, "nl"),
        lambda: read_rows(_write(tmp / "fake.xlsx", b"intent,question\n")),
        lambda: read_rows(xlsx(tmp / "far.xlsx", rows_after='<row r="1048576"/>')),
        lambda: read_rows(
            xlsx(tmp / "wide.xlsx", rows_after='<row r="3">' + "<c/>" * 16_385 + "</row>")
        ),
        lambda: read_rows(xlsx(tmp / "tall.xlsx", rows_after="<row/>" * 50_001)),
        lambda: read_rows(xlsx(tmp / "cells.xlsx", rows_after=cells)),
        lambda: read_rows(xlsx(tmp / "many.xlsx", extra={f"x/{n}": b"" for n in range(1001)})),
        lambda: read_rows(xlsx(tmp / "big.xlsx", extra={"x/0": bytes(33 * 1024 * 1024)})),
        lambda: read_rows(
            xlsx(tmp / "dtd.xlsx", extra={"xl/sharedStrings.xml": b"<!DOCTYPE x []><sst/>"})
        ),
        lambda: read_rows(
            xlsx(
                tmp / "wordy.xlsx",
                extra={"xl/sharedStrings.xml": b"<sst>" + b"<si/>" * 300_001 + b"</sst>"},
            )
        ),
        lambda: read_rows(
            xlsx(
                tmp / "styled.xlsx", extra={"xl/styles2.xml": b"<s>" + b"<xf/>" * 20_001 + b"</s>"}
            )
        ),
        lambda: read_rows(_zip(tmp / "nobook.xlsx", {"notes.txt": b"no workbook here"})),
        lambda: import_qna(_write(tmp / "empty.tsv", ""), "nl"),
        lambda: import_qna(_write(tmp / "header.tsv", "Vraag\tAntwoord\n"), "nl"),
        lambda: import_qna(
            _write(tmp / "latin1.tsv", "Question\tAnswer\né\tx\n".encode("cp1252")), "nl"
        ),
        lambda: import_qna(
            _write(
                tmp / "kb.tsv",
                "QnaId\tQuestion\tAnswer\n1\tq\n2\t\ta\n3\tq\t\n4\tq\ta\n4\tr\tb\n",
            ),
            "nl",
        ),
        lambda: import_rasa(_write(tmp / "list.yml", "- a\n"), None, "nl"),
        lambda: import_rasa(nlu, _write(tmp / "domain.yml", "responses: [a]\n"), "nl"),
        lambda: import_rasa(nlu, None, "nl"),
        lambda: import_rasa(_write(tmp / "bare.yml", "nlu:\n  - intent: b\n"), None, "nl"),
        lambda: load_yaml(_write(tmp / "alias.yml", "a: &x 1\nb: *x\n")),
        lambda: load_yaml(_write(tmp / "merge.yml", "a: {x: 1}\nb:\n  <<: {y: 2}\n")),
        lambda: load_yaml(_write(tmp / "deep.yml", "a: " + "[" * 30 + "]" * 30 + "\n")),
        lambda: load_yaml(_write(tmp / "int.yml", "a: " + "1" * 5000 + "\n")),
        lambda: load_yaml(_write(tmp / "syntax.yml", "a: [\n")),
        lambda: check_xlsx_zip(_write(tmp / "broken.xlsx", b"PK\x03\x04 broken")),
    ]
    problems: list[str] = []
    for call in calls:
        with pytest.raises(ImportFileError) as caught:
            call()
        problems += caught.value.problems
    return problems


def test_every_problem_a_file_to_import_can_have_is_marked_text_with_a_dutch_translation(
    tmp_path: Path,
) -> None:
    problems = _import_problems(tmp_path)
    english = [p for p in problems if not isinstance(p, Message)]
    assert not english, "\n".join(english)
    catalogue = list(read_po(CATALOGUE.open("rb")))
    untranslated = {m.id for m in catalogue if m.id and not m.string}
    used = {t for p in problems for t in _templates(p)}
    for refusal in (lambda: format_named("pdf"), lambda: format_named("qna", export=True)):
        with pytest.raises(BadRequest) as caught:
            refusal()
        used.add(caught.value.template)
    assert used <= {m.id for m in catalogue} and not used & untranslated
    # Every text the import code marks is one a file can cause, and was caused here.
    marked = {
        m.id
        for m in read_po(TEMPLATES.open("rb"))
        if any(path.startswith("botbuilder/interchange/") for path, _ in m.locations)
    }
    assert marked <= used, marked - used
    # `botbuilder import`, logs and scripts read the English text, as before.
    assert f"{tmp_path / 'empty.csv'}: the file is empty" in problems
    assert (
        "row 6: answer for 'c' (nl) differs from the one on row 5; give the answer once per intent"
        in problems
    )
    assert f"{tmp_path / 'gone.csv'}: cannot read file: it does not exist (any more)" in problems
    assert (
        f"{tmp_path / 'alias.yml'}:1: YAML anchors and aliases (&name, *name) are not "
        "accepted in files to import; write the text out in full" in problems
    )


def test_a_dutch_manager_reads_in_dutch_what_is_wrong_in_a_file_to_import(
    transfer_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    client = dutch_client(transfer_app, "manager@example.org")
    bad = "intent,question,answer,language\nx,Vraag?,Antwoord,nl\n,zonder intent,,nl\ny,Vraag?,Antwoord,xx\n"
    rows = preview(client, bad.encode())
    text = unescape(rows.text)
    assert rows.status_code == 422, text
    assert (
        "<li>rij 3: geen intent-id</li>" in text and "<li>rij 4: onbekende taal 'xx'</li>" in text
    )
    assert "no intent id" not in text and "unknown language" not in text

    nlu = b"version: '3.1'\nnlu:\n  - intent: parkeren\n    examples: |\n      - Waar kan ik parkeren?\n"
    rasa = unescape(preview(client, nlu, "rasa", "mijn-nlu.yml").text)
    # The upload is named as the manager uploaded it, not by its place on the server.
    assert (
        "<li>mijn-nlu.yml: intent 'parkeren' heeft geen response 'utter_parkeren' met een tekst; "
        "geef ook domain.yml met de antwoorden mee</li>"
    ) in rasa
    latin1 = unescape(
        preview(client, "intent,question\né,x\n".encode("latin-1"), name="oud.csv").text
    )
    assert "<li>oud.csv: het bestand is geen UTF-8-tekst; sla het op als UTF-8</li>" in latin1
    # What the editor's checks find in the bot the import would make is Dutch too.
    bell = preview(client, b"intent,question,answer\nbel,Hallo\a,Hoi\n")
    assert bell.status_code == 422
    assert "bevat een stuurteken (U+0007) op positie 6; haal het weg</li>" in unescape(bell.text)
    fake = unescape(preview(client, b"geen zip", "xlsx", "lijst.xlsx").text)
    assert "<li>lijst.xlsx: geen leesbaar .xlsx-bestand (" in fake and "/tmp" not in fake

    # The form's own refusals, and what the import saved, are Dutch as well.
    none = client.post(
        "/editor/transfer/preview",
        data={"csrf_token": client.csrf, "format": "csv", "language": "nl"},
        content_type="multipart/form-data",
    )
    assert none.status_code == 400 and "kies een bestand om te importeren" in none.text
    token = _token(preview(client, PARKING_CSV.encode()).text)
    done = client.post("/editor/transfer/confirm", data={"csrf_token": client.csrf, "token": token})
    assert "Opgeslagen: 1 intents toegevoegd, 1 gewijzigd, 0 ongewijzigd; " in unescape(done.text)
    again = client.post(
        "/editor/transfer/confirm", data={"csrf_token": client.csrf, "token": token}
    )
    assert again.status_code == 404
    assert "Deze upload is verlopen of al geïmporteerd; upload het bestand opnieuw." in unescape(
        again.text
    )

    # `botbuilder import` keeps the English text.
    sheet = _write(bot_dir.parent / "bad.csv", bad)
    result = CliRunner().invoke(main, ["import", "--format", "csv", str(sheet), str(bot_dir)])
    assert result.exit_code == 1
    assert (
        "row 3: no intent id" in result.output and "row 4: unknown language 'xx'" in result.output
    )


def test_a_dutch_manager_reads_in_dutch_which_problems_of_the_flow_files_stop_an_import(
    transfer_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    break_by_hand(bot_dir, "      - {label: Meer, goto: nergens}\n      - {label: Bel}\n")
    client = dutch_client(transfer_app, "manager@example.org")
    for refused in (
        client.get("/editor/transfer/export?format=csv"),
        preview(client, PARKING_CSV.encode()),
    ):
        text = unescape(refused.text)
        assert refused.status_code == 400, text
        alert = re.search(r'<p role="alert">(.*?)</p>', text, re.S)[1]  # type: ignore[index]
        lines = alert.split("<br>")
        assert lines[0] == (
            "De flowbestanden bevatten fouten; herstel ze (of zet een eerdere versie terug) "
            "voordat je importeert of exporteert:"
        )
        # One problem a line, named by its place in the bot's folder, in Dutch.
        assert len(lines) == 3, alert
        assert lines[1].startswith("faq.yml:34:")
        assert "knop 'goto: nergens' noemt geen bestaande intent" in lines[1]
        assert lines[2].startswith("faq.yml:35:")
        for english in ("names no intent", "fix them", "errors in the flows"):
            assert english not in alert
    # A manager whose pages are in English reads the same in English.
    transfer_app.extensions["botbuilder"].accounts.add("en@example.org", PASSWORD, "manager")
    manager = transfer_app.test_client()
    login(manager, "en@example.org")
    english = unescape(manager.get("/editor/transfer/export?format=csv").text)
    assert "before importing or exporting:<br>faq.yml:34:" in english
    assert "button 'goto: nergens' names no intent" in english


def test_why_the_system_cannot_read_a_file_is_said_in_words_in_dutch_and_english(
    editor_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    catalogue = {m.id: m.string for m in read_po(CATALOGUE.open("rb")) if m.id}
    for number in (
        errno.ENOENT,
        errno.EACCES,
        errno.EPERM,
        errno.EISDIR,
        errno.ENOSPC,
        errno.EROFS,
    ):
        reason = os_reason(OSError(number, "the C library's text"))
        assert isinstance(reason, Phrase) and catalogue.get(reason), number
    assert (
        os_reason(OSError(errno.EXDEV, "Invalid cross-device link")) == "Invalid cross-device link"
    )

    # bot.yml turned into a folder: the loader says so, and the editor's banner in Dutch.
    client = dutch_client(editor_app, "manager@example.org")
    settings = bot_dir / "bot.yml"
    kept = settings.read_text(encoding="utf-8")
    settings.unlink()
    settings.mkdir()
    (settings / "notes.txt").write_text(kept, encoding="utf-8")
    problems = [str(p) for p in inspect_bot(bot_dir)[1]]
    assert any(
        p.endswith("bot.yml:1:1: cannot read file: it is a folder, not a file") for p in problems
    ), problems
    banner = unescape(client.get("/conversations").text)
    assert "bot.yml:1:1: kan het bestand niet lezen: het is een map, geen bestand" in banner
    assert "Is a directory" not in banner


def test_a_dutch_manager_teaching_from_a_deleted_conversation_is_told_it_may_have_been_deleted(
    editor_app: Any,  # noqa: F811
) -> None:
    conversation, question, client = asked_and_a_dutch_manager(editor_app)
    page = client.get(f"/conversations/{conversation}")  # the teach forms, open in a tab
    assert page.status_code == 200
    storage = editor_app.extensions["botbuilder"].storage
    delete_member(storage, find_member(storage, conversation_id=conversation))
    for action, gone in teach(client, conversation, question):
        text = unescape(gone.text)
        assert gone.status_code == 404, text
        assert f"geen gesprek '{conversation}'; misschien is het verwijderd" in text, action
        assert "POST /api/v1" not in text and "geen bericht" not in text
