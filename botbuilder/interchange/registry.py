"""Every outside format in one table: its name, how to read it, how to write it.

`botbuilder import` / `botbuilder export` and the editor's Import / export
page both look a format up here, so a new format is one `Format` added to
`FORMATS` and both offer it. A reader turns files into entries; a writer
writes a bot (one language, or all) to a file or, for Rasa, a folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from botbuilder.content.model import Bot
from botbuilder.errors import N_, BadRequest
from botbuilder.interchange.entries import Entry, bot_entries
from botbuilder.interchange.qna import import_qna
from botbuilder.interchange.rasa import export_rasa, import_rasa
from botbuilder.interchange.spreadsheet import read_rows, rows_to_entries, write_csv, write_xlsx

__all__ = ["FORMATS", "Format", "Reader", "Writer", "export_formats", "format_named"]

# files (as the format wants them), the language of the questions, the bot merged into (or None)
Reader = Callable[[Sequence[Path], str, Bot | None], list[Entry]]
# the bot, where to write (a file, or a folder for a `folder` format), one language or None for all
Writer = Callable[[Bot, Path, str | None], list[Path]]


@dataclass(frozen=True)
class Format:
    name: str
    label: str  # as the editor's form offers it
    suffix: str  # of the (first) file read
    read: Reader
    write: Writer | None = None  # None: import only
    folder: bool = False  # written as several files in a folder (a .zip to download)
    mimetype: str = ""  # of a written file


def _read_rasa(files: Sequence[Path], language: str, bot: Bot | None) -> list[Entry]:
    """nlu.yml, and optionally domain.yml with the answers."""
    return import_rasa(files[0], files[1] if len(files) > 1 else None, language)


def _read_qna(files: Sequence[Path], language: str, bot: Bot | None) -> list[Entry]:
    taken = set(bot.intent_ids()) if bot else set()
    return [e for f in files for e in import_qna(f, language, taken)]


def _read_sheet(files: Sequence[Path], language: str, bot: Bot | None) -> list[Entry]:
    # An intent the bot has needs no answer in the sheet: its own stays.
    known = set(bot.intents) if bot else set()
    return [e for f in files for e in rows_to_entries(read_rows(f), language, known)]


def _write_rasa(bot: Bot, out: Path, language: str | None) -> list[Path]:
    return export_rasa(bot, out, language)


def _write_csv(bot: Bot, out: Path, language: str | None) -> list[Path]:
    write_csv(bot_entries(bot, language), out)
    return [out]


def _write_xlsx(bot: Bot, out: Path, language: str | None) -> list[Path]:
    write_xlsx(bot_entries(bot, language), out)
    return [out]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", "Spreadsheet (.csv)", ".csv", _read_sheet, _write_csv, mimetype="text/csv"),
        Format(
            "xlsx",
            "Excel (.xlsx)",
            ".xlsx",
            _read_sheet,
            _write_xlsx,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        Format("qna", "QnA Maker (.tsv)", ".tsv", _read_qna),
        Format(
            "rasa",
            "Rasa (nlu.yml + domain.yml)",
            ".yml",
            _read_rasa,
            _write_rasa,
            folder=True,
            mimetype="application/zip",
        ),
    )
}


def export_formats() -> list[str]:
    """The names of the formats a bot can be written in."""
    return [name for name, f in FORMATS.items() if f.write is not None]


def format_named(name: str, export: bool = False) -> Format:
    """The format called `name`; BadRequest naming the choices if there is none (to export)."""
    if export and name not in export_formats():
        *first, last = export_formats()
        raise BadRequest(
            N_("export as %(formats)s or %(last)s"), formats=", ".join(first), last=last
        )
    if name not in FORMATS:
        raise BadRequest(N_("choose one of the formats: %(formats)s"), formats=", ".join(FORMATS))
    return FORMATS[name]
