"""Files to import that are built to take the server down are refused quickly, in bounded
memory, with a problem that names the file; exports never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
import io
import re
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from botbuilder.errors import ImportFileError
from botbuilder.interchange.entries import Entry
from botbuilder.interchange.qna import import_qna
from botbuilder.interchange.rasa import import_rasa
from botbuilder.interchange.spreadsheet import read_rows, write_csv, write_xlsx

HEADER = ["intent", "question", "answer", "language"]


@contextmanager
def bounded(seconds: float = 30.0, megabytes: float = 40.0) -> Iterator[None]:
    """The block finishes within `seconds` and allocates at most `megabytes` at its peak.

    The memory bound is the real guard; the time bound only catches a hang (a bomb
    runs for minutes), so it is loose enough for a busy shared machine.
    """
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert peak < megabytes, f"peak {peak:.0f} MB"


def refused(call: Callable[[], Any], seconds: float = 30.0) -> str:
    """The problems of the ImportFileError that `call` raises, in bounded time and memory."""
    with bounded(seconds), pytest.raises(ImportFileError) as caught:
        call()
    return "\n".join(caught.value.problems)


def xlsx(
    path: Path,
    *,
    dimension: str | None = None,
    rows_after: str = "",
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A real two-row workbook made by openpyxl, with its sheet XML patched as an attacker would."""
    book = Workbook()
    for row in (HEADER, ["parkeren", "Waar parkeer ik?", "Achter het clubhuis.", "nl"]):
        book.active.append(row)  # type: ignore[union-attr]
    made = io.BytesIO()
    book.save(made)
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if dimension is not None:  # "": no dimension at all
                    new = f'<dimension ref="{dimension}"/>' if dimension else ""
                    text = re.sub(r'<dimension ref="[^"]*" ?/>', new, text)
                data = text.replace("</sheetData>", rows_after + "</sheetData>").encode()
            out.writestr(info, data)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


# -- xlsx --------------------------------------------------------------------------------


def test_xlsx_claiming_the_largest_sheet_with_a_far_row_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    bomb = xlsx(tmp_path / "bomb.xlsx", dimension="A1:XFD1048576", rows_after='<row r="1048576"/>')
    assert bomb.stat().st_size < 6000
    assert "bomb.xlsx: the sheet reaches past row 50000" in refused(lambda: read_rows(bomb))


def test_xlsx_with_a_forged_dimension_reads_only_its_real_cells(tmp_path: Path) -> None:
    forged = xlsx(tmp_path / "forged.xlsx", dimension="A1:XFD1048576")
    with bounded():
        rows = read_rows(forged)
    assert rows == [
        {
            "intent": "parkeren",
            "question": "Waar parkeer ik?",
            "answer": "Achter het clubhuis.",
            "language": "nl",
        }
    ]


def test_xlsx_rows_reaching_the_last_column_are_not_padded_to_it(tmp_path: Path) -> None:
    far = "".join(f'<row r="{n}"><c r="XFD{n}" t="b"><v>1</v></c></row>' for n in range(3, 5003))
    sheet = xlsx(tmp_path / "far.xlsx", dimension="", rows_after=far)
    assert sheet.stat().st_size < 40_000
    with bounded():
        rows = read_rows(sheet)
    assert len(rows) == 5001 and all(len(row) == 4 for row in rows)


def test_xlsx_row_with_more_cells_than_excel_allows_is_refused(tmp_path: Path) -> None:
    flood = xlsx(tmp_path / "flood.xlsx", rows_after='<row r="3">' + "<c/>" * 16_385 + "</row>")
    assert "flood.xlsx: row 3: more cells than a sheet may have" in refused(
        lambda: read_rows(flood)
    )


def test_xlsx_unpacking_past_the_limit_is_refused_before_openpyxl_reads_it(tmp_path: Path) -> None:
    big = xlsx(tmp_path / "big.xlsx", extra={"xl/media/zeros.bin": bytes(33 * 1024 * 1024)})
    assert big.stat().st_size < 100_000
    assert "big.xlsx: unpacks to " in refused(lambda: read_rows(big))
    many = xlsx(tmp_path / "many.xlsx", extra={f"x/{n}.txt": b"" for n in range(1001)})
    assert "many.xlsx: holds 10" in refused(lambda: read_rows(many))


def test_xlsx_with_bloated_styles_or_too_many_texts_is_refused(tmp_path: Path) -> None:
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    styles = f"<styleSheet {ns}><cellXfs>" + "<xf/>" * 20_001 + "</cellXfs></styleSheet>"
    bloated = xlsx(tmp_path / "styles.xlsx", extra={"xl/styles2.xml": styles.encode()})
    assert "xl/styles2.xml has more than 20,000 elements" in refused(lambda: read_rows(bloated))
    texts = f"<sst {ns}>" + "<si/>" * 300_001 + "</sst>"
    wordy = xlsx(tmp_path / "texts.xlsx", extra={"xl/sharedStrings.xml": texts.encode()})
    # 300,000 elements counted under tracemalloc, which slows every allocation down
    assert "texts.xlsx: more than 300,000 texts" in refused(lambda: read_rows(wordy), seconds=60)


def test_xlsx_part_with_a_dtd_is_refused(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "]><sst>&i;</sst>"
    )
    bomb = xlsx(tmp_path / "laughs.xlsx", extra={"xl/sharedStrings.xml": laughs.encode()})
    assert "declares a DTD" in refused(lambda: read_rows(bomb))


def test_a_file_that_is_no_zip_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"intent,question\n")
    assert "fake.xlsx: not a readable .xlsx file" in refused(lambda: read_rows(fake))


# -- YAML --------------------------------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    lines = ["version: '3.1'", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join([*lines, "nlu:", "  - intent: boom", f"    examples: *a{levels - 1}", ""])


def test_rasa_alias_bomb_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(alias_bomb(), encoding="utf-8")
    assert nlu.stat().st_size < 600
    problems = refused(lambda: import_rasa(nlu, None, "nl"))
    assert f"{nlu}:2: YAML anchors and aliases (&name, *name) are not accepted" in problems


def test_rasa_domain_with_aliases_is_refused_too(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text("nlu:\n  - intent: a\n    examples: |\n      - q\n", encoding="utf-8")
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "intents: [a]\nresponses:\n  utter_a:\n    - text: &t hallo\n  utter_b:\n    - text: *t\n",
        encoding="utf-8",
    )
    assert f"{domain}:4: YAML anchors" in refused(lambda: import_rasa(nlu, domain, "nl"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("base: {x: 1}\nnlu:\n  - <<: {intent: a}\n", ":3: YAML merge keys (<<) are not accepted"),
        ("nlu: " + "[" * 600 + "]" * 600 + "\n", ":1: nested more than 20 levels deep"),
        ("nlu: []\nn: " + "1" * 5000 + "\n", ": a value cannot be read"),
        ("nlu: [\n", ": not valid YAML"),
        ("nlu:\n  - intent: a\n    examples: 7\n", "intent 'a' (item 1) has no examples"),
    ],
)
def test_broken_or_hostile_nlu_is_a_problem_not_a_crash(
    tmp_path: Path, text: str, problem: str
) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(text, encoding="utf-8")
    assert problem in refused(lambda: import_rasa(nlu, None, "nl"))


def test_a_quoted_double_angle_value_is_text_not_a_merge_key(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        "nlu:\n  - intent: a\n    '<<': x\n    examples: |\n      - <<\n", encoding="utf-8"
    )
    domain = tmp_path / "domain.yml"
    domain.write_text("intents: [a]\nresponses:\n  utter_a:\n    - text: hallo\n", encoding="utf-8")
    (entry,) = import_rasa(nlu, domain, "nl")
    assert entry.questions == ["<<"] and entry.answer == "hallo"


def test_domain_that_is_not_a_mapping_is_a_problem(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text("nlu:\n  - intent: a\n    examples: |\n      - q\n", encoding="utf-8")
    domain = tmp_path / "domain.yml"
    domain.write_text("responses: [a, b]\n", encoding="utf-8")
    assert "not a Rasa domain" in refused(lambda: import_rasa(nlu, domain, "nl"))


# -- CSV and TSV -------------------------------------------------------------------------


def test_csv_field_over_the_csv_limit_is_a_problem_on_its_row(tmp_path: Path) -> None:
    sheet = tmp_path / "long.csv"
    sheet.write_text('intent,question\na,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    assert "long.csv: row 2: field larger than field limit" in refused(lambda: read_rows(sheet))


def test_csv_and_tsv_stop_reading_at_the_row_cap(tmp_path: Path) -> None:
    sheet = tmp_path / "many.csv"
    sheet.write_text("intent,question\n" + "a,b\n" * 50_000, encoding="utf-8")
    assert "many.csv: more than 50000 rows" in refused(lambda: read_rows(sheet))
    tsv = tmp_path / "many.tsv"
    tsv.write_text("Question\tAnswer\n" + "a\tb\n" * 50_000, encoding="utf-8")
    assert "many.tsv: more than 50000 rows" in refused(lambda: import_qna(tsv, "nl"))


def test_tsv_line_over_the_csv_limit_is_a_problem(tmp_path: Path) -> None:
    tsv = tmp_path / "kb.tsv"
    tsv.write_text("Question\tAnswer\n" + "x" * 200_000 + "\tb\n", encoding="utf-8")
    assert "kb.tsv: row 2:" in refused(lambda: import_qna(tsv, "nl"))


# -- formulas in exports -----------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example","klik")',
    "+31 20 123",
    "-2 graden",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "'=al gequote",
    "''+twee keer",
    "'gewoon",
    "gewoon = prima",
]


def hostile_entries() -> list[Entry]:
    return [Entry(f"i{n}", "nl", [text], text) for n, text in enumerate(HOSTILE)]


def test_csv_export_prefixes_formula_cells_with_a_quote(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(hostile_entries(), path)
    with path.open(encoding="utf-8", newline="") as fh:
        cells = [row[1] for row in csv.reader(fh)][1:]
    assert cells == [
        '\'=HYPERLINK("http://evil.example","klik")',
        "'+31 20 123",
        "'-2 graden",
        "'@SUM(A1)",
        "'\tTAB",
        "\nCR",  # a lone CR would end the row: it becomes a line break, which no program runs
        "''=al gequote",
        "'''+twee keer",
        "'gewoon",
        "gewoon = prima",
    ]


def test_xlsx_export_writes_every_cell_as_text_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_xlsx(hostile_entries(), path)
    sheet = load_workbook(path).worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert [cell.value for cell in cells][:4] == HOSTILE[:4]
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_and_import_give_back_exactly_the_texts(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out.{suffix}"
    (write_csv if suffix == "csv" else write_xlsx)(hostile_entries(), path)
    rows = read_rows(path)
    # Import strips the whitespace around a cell, so "\tTAB" comes back as it was written minus the tab.
    assert [r["question"] for r in rows] == [h.strip() for h in HOSTILE]
    assert [r["answer"] for r in rows] == [h.strip() for h in HOSTILE]


def test_hand_written_csv_quote_before_a_formula_character_is_removed(tmp_path: Path) -> None:
    sheet = tmp_path / "hand.csv"
    sheet.write_text(
        "intent,question,answer\na,'-5 graden?,'@home\nb,'gewoon,x\n", encoding="utf-8"
    )
    rows = read_rows(sheet)
    assert [(r["question"], r["answer"]) for r in rows] == [
        ("-5 graden?", "@home"),
        ("'gewoon", "x"),
    ]
