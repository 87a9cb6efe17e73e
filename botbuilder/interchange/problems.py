"""Why a file cannot be imported, as `Message`s: English for `botbuilder import`, logs and
scripts, and in the page's language in the editor's import preview (server/i18n.py
`localized`), as the loader's problems are.

A problem names where it is (`place`: the file, or `file:line`) apart from what is
wrong there, so the editor can name an upload as the manager knows it rather than by
its place on the server; a row's problem ("row 3: …") names its row itself.
"""

from __future__ import annotations

from pathlib import Path

from botbuilder.content.os_reasons import os_reason
from botbuilder.errors import N_, ImportFileError, Message

__all__ = ["at", "not_xlsx", "unreadable"]

# TRANSLATORS: where in which file (faq.csv, nlu.yml:12), then what is wrong there.
_PLACED = N_("%(place)s: %(message)s")


def at(place: Path | str, template: str, **params: object) -> Message:
    """`place: problem`, the problem an `N_`-marked template with its values."""
    return Message(_PLACED, place=str(place), message=Message(template, **params))


def unreadable(path: Path, exc: OSError | UnicodeDecodeError) -> ImportFileError:
    """The refusal of a file that cannot be read as text: not UTF-8, or the system's reason."""
    if isinstance(exc, UnicodeDecodeError):
        return ImportFileError([at(path, N_("file is not UTF-8 text; save it as UTF-8"))])
    return ImportFileError([at(path, N_("cannot read file: %(reason)s"), reason=os_reason(exc))])


def not_xlsx(path: Path, exc: Exception) -> ImportFileError:
    """The refusal of a file that zipfile or openpyxl cannot read as a workbook."""
    return ImportFileError(
        [at(path, N_("not a readable .xlsx file (%(reason)s)"), reason=str(exc))]
    )
