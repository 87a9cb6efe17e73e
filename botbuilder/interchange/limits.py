"""Bounds on files to import, checked while reading, so a small file cannot take the server down.

An upload is at most 2 MB, but two formats can grow far past their size:
- an .xlsx is a zip, and its sheet may claim 16,384 columns by 1,048,576
  rows; openpyxl pads every row it yields to the claimed width, and fills the
  gap before a far-away row with empty rows. A 1.5 KB file asked for
  terabytes. So the zip is measured before openpyxl opens it (the sizes in its
  directory bound what `zipfile` unpacks), and the sheet is read with our own
  row and column bounds (`spreadsheet.read_rows`), never the file's.
- YAML aliases repeat a node wherever they appear: nine levels of nine
  aliases in a 500-byte nlu.yml took 26 s and 2.7 GB once turned into text.
  Training data has no use for them, so `load_yaml` refuses anchors, aliases
  and merge keys, and nesting deeper than any Rasa file needs, before
  anything is built.
CSV and TSV stop at the same row cap, and a field over Python's csv limit is
a problem on its row, not a crash.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable
from pathlib import Path
from pyexpat import ParserCreate
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from botbuilder.errors import N_, ImportFileError
from botbuilder.interchange.problems import at, not_xlsx, unreadable

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_XLSX_BYTES",
    "MAX_XLSX_MEMBERS",
    "MAX_YAML_DEPTH",
    "check_xlsx_zip",
    "csv_rows",
    "load_yaml",
]

MAX_ROWS = 50_000  # rows of a sheet, CSV or TSV file, the header included
MAX_COLUMNS = 100  # columns of a header looked at for the names we need
# Cells of a sheet, and texts of a workbook: openpyxl reads about 100,000 cells a second.
MAX_CELLS = 300_000
MAX_XLSX_MEMBERS = 1_000  # files inside an .xlsx (a real one has about ten)
MAX_XLSX_BYTES = 32 * 1024 * 1024  # those files unpacked, together
_EXCEL_COLUMNS = 16_384  # cells in one row, as Excel allows
_OTHER_ELEMENTS = 20_000  # XML elements of any other part (styles: openpyxl builds an object each)
MAX_YAML_DEPTH = 20  # nested mappings and lists; a Rasa file needs five


def check_xlsx_zip(path: Path) -> None:
    """ImportFileError unless `path` is a zip that unpacks to a bounded size, with bounded XML.

    Every XML part is streamed through expat (no tree is built) and counted:
    rows, cells and cells per row of each sheet, the shared strings, the
    elements of any other part; a DTD is refused. openpyxl then only meets
    what it can hold.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_sizes(path, members)
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as stream:
                        _scan_xml(path, member.filename, stream)
    except ImportFileError:
        raise
    except Exception as exc:  # zipfile, its decompressors and expat raise many kinds
        raise not_xlsx(path, exc) from exc


def _check_sizes(path: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_XLSX_MEMBERS:
        holds = N_("holds %(count)s files; an .xlsx has at most %(limit)s")
        raise ImportFileError([at(path, holds, count=len(members), limit=MAX_XLSX_MEMBERS)])
    unpacked = sum(m.file_size for m in members)  # zipfile never unpacks past these
    if unpacked > MAX_XLSX_BYTES:
        too_big = N_(
            "unpacks to %(size)s bytes, more than %(limit)s; save the sheet again "
            "without other sheets, pictures or formatting, or as .csv"
        )
        problem = at(path, too_big, size=f"{unpacked:,}", limit=f"{MAX_XLSX_BYTES:,}")
        raise ImportFileError([problem])


def _scan_xml(path: Path, name: str, stream: Any) -> None:
    """Count the elements of one XML part as expat streams it; ImportFileError past a bound."""
    sheet = name.startswith("xl/worksheets/")
    strings = name == "xl/sharedStrings.xml"
    counts = {"elements": 0, "row": 0, "c": 0, "in_row": 0, "si": 0}

    def refuse(template: str, **params: object) -> None:
        raise ImportFileError([at(path, template, **params)])

    def start(tag: str, _attributes: Any) -> None:
        local = tag.rpartition(" ")[2]
        counts["elements"] += 1
        if sheet and local == "row":
            counts["row"], counts["in_row"] = counts["row"] + 1, 0
            if counts["row"] > MAX_ROWS:
                refuse(N_("more than %(limit)s rows"), limit=MAX_ROWS)
        elif sheet and local == "c":
            counts["c"], counts["in_row"] = counts["c"] + 1, counts["in_row"] + 1
            if counts["in_row"] > _EXCEL_COLUMNS:
                refuse(N_("row %(row)s: more cells than a sheet may have"), row=counts["row"])
            if counts["c"] > MAX_CELLS:
                refuse(
                    N_(
                        "more than %(limit)s cells; keep only the columns to import, or save as .csv"
                    ),
                    limit=f"{MAX_CELLS:,}",
                )
        elif strings and local == "si":
            counts["si"] += 1
            if counts["si"] > MAX_CELLS:
                refuse(
                    N_("more than %(limit)s texts; save the sheet as .csv"), limit=f"{MAX_CELLS:,}"
                )
        elif not (sheet or strings) and counts["elements"] > _OTHER_ELEMENTS:
            refuse(
                N_(
                    "%(part)s has more than %(limit)s elements; "
                    "save the sheet again without formatting, or as .csv"
                ),
                part=name,
                limit=f"{_OTHER_ELEMENTS:,}",
            )

    def doctype(*_args: Any) -> None:
        refuse(N_("%(part)s declares a DTD, which an .xlsx never has"), part=name)

    parser = ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    parser.ParseFile(stream)


def csv_rows(path: Path, lines: Iterable[str], **dialect: Any) -> list[list[str]]:
    """The rows of CSV/TSV `lines`; ImportFileError past MAX_ROWS or on a broken field."""
    reader = csv.reader(lines, **dialect)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(rows) == MAX_ROWS:
                raise ImportFileError([at(path, N_("more than %(limit)s rows"), limit=MAX_ROWS)])
            rows.append(row)
    except csv.Error as exc:  # a field over csv.field_size_limit(), for one
        problem = at(path, N_("row %(row)s: %(reason)s"), row=reader.line_num, reason=str(exc))
        raise ImportFileError([problem]) from exc
    return rows


def load_yaml(path: Path) -> Any:
    """A YAML upload as plain data; ImportFileError naming file and line if it is unsafe or broken.

    The events are checked first (the parser builds nothing), so an alias bomb
    is refused before a single copy is made.
    """
    try:
        text = path.read_text(encoding="utf-8")
        _check_events(path, YAML(typ="safe", pure=True).parse(text))
        return YAML(typ="safe", pure=True).load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc
    except YAMLError as exc:
        problem = at(path, N_("not valid YAML: %(problem)s"), problem=str(exc))
        raise ImportFileError([problem]) from exc
    except ValueError as exc:  # a date like 2024-13-45, an integer of 5,000 digits
        problem = at(path, N_("a value cannot be read: %(problem)s"), problem=str(exc))
        raise ImportFileError([problem]) from exc


def _check_events(path: Path, events: Iterable[Any]) -> None:
    # Per open collection: -1 for a list, else the number of keys and values seen in a mapping.
    open_nodes: list[int] = []
    for event in events:
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            anchors = N_(
                "YAML anchors and aliases (&name, *name) are not accepted in files to import; "
                "write the text out in full"
            )
            raise ImportFileError([at(f"{path}:{line}", anchors)])
        is_key = bool(open_nodes) and open_nodes[-1] >= 0 and open_nodes[-1] % 2 == 0
        if isinstance(event, ScalarEvent) and is_key and event.value == "<<" and not event.style:
            merge = N_("YAML merge keys (<<) are not accepted in files to import")
            raise ImportFileError([at(f"{path}:{line}", merge)])
        if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent):
            if open_nodes and open_nodes[-1] >= 0:
                open_nodes[-1] += 1
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            open_nodes.append(0 if isinstance(event, MappingStartEvent) else -1)
            if len(open_nodes) > MAX_YAML_DEPTH:
                deep = N_("nested more than %(limit)s levels deep")
                raise ImportFileError([at(f"{path}:{line}", deep, limit=MAX_YAML_DEPTH)])
        elif isinstance(event, CollectionEndEvent):
            open_nodes.pop()
