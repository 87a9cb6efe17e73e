"""The gettext catalogues in web/translations/ are complete, compiled and consistent.

No app needed: the catalogues are read as files with Babel, the same library
`make translations` runs. A text marked in a checked file but missing from
messages.pot means `make translations` was not run; a Dutch msgstr missing means
a Dutch team would see English there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from .conftest import ROOT

TRANSLATIONS = ROOT / "web" / "translations"
SOURCE_LANGUAGE = "en"
# The files whose marked text must have a translation in every language: every page and
# every module, so a new text without its Dutch fails here, not in front of a Dutch team.
CHECKED = ("web/templates/", "botbuilder/")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _languages() -> list[str]:
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def _checked(locations: list[tuple[str, int | None]]) -> bool:
    return any(file.startswith(CHECKED) for file, _ in locations)


def _strings(message: object) -> tuple[str, ...]:
    value = message.string  # type: ignore[attr-defined]
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _ids(message: object) -> tuple[str, ...]:
    value = message.id  # type: ignore[attr-defined]
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _key(message: object) -> tuple[str | None, object]:
    """(context, msgid): the same English text may have several contexts."""
    value = message.id  # type: ignore[attr-defined]
    return message.context, (value if isinstance(value, str) else tuple(value))  # type: ignore[attr-defined]


def _tuple(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (str(value),)


def _normal(messages: dict[object, object]) -> dict[object, object]:
    return {k: (tuple(v) if isinstance(v, list | tuple) else v) for k, v in messages.items()}


def test_dutch_and_english_catalogues_are_present() -> None:
    assert {"en", "nl"} <= set(_languages())


@pytest.mark.parametrize("language", _languages())
def test_every_catalogue_is_compiled_from_its_po_file(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    po = _po(folder / "messages.po")
    assert (folder / "messages.mo").exists(), f"run `make translations` for {language}"
    with (folder / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    expected = {
        _key(m): m.string for m in po if m.id and "fuzzy" not in m.flags and all(_strings(m))
    }
    compiled = {_key(m): m.string for m in mo if m.id}
    # A text translated as itself ("Online") shows the same either way: left out of both.
    compiled = {k: v for k, v in _normal(compiled).items() if v != k[1] and any(_tuple(v))}
    expected = {k: v for k, v in _normal(expected).items() if v != k[1]}
    assert compiled == expected, (
        f"{language}: messages.mo is older than messages.po; run `make translations`"
    )


def test_every_marked_text_of_the_checked_files_is_in_the_template() -> None:
    template = {_ids(m)[0] for m in _po(TRANSLATIONS / "messages.pot") if m.id}
    marked: dict[str, str] = {}
    for prefix in CHECKED:
        paths = [ROOT / prefix] if (ROOT / prefix).is_file() else []
        if not paths:
            base = ROOT / prefix
            paths = (
                sorted(base.glob("*.html"))
                if base.is_dir()
                else sorted(base.parent.glob(base.name + "*.py"))
            )
        for path in paths:
            method = "jinja2" if path.suffix == ".html" else "python"
            keywords = {
                "_": None,
                "gettext": None,
                "ngettext": (1, 2),
                "pgettext": ((1, "c"), 2),
                "lazy_gettext": None,
            }
            for _, message, _, _ in extract_from_file(method, str(path), keywords=keywords):
                first = message if isinstance(message, str) else message[0]
                marked[first] = str(path.relative_to(ROOT))
    missing = sorted(f"{file}: {text!r}" for text, file in marked.items() if text not in template)
    assert not missing, "run `make translations`; not in messages.pot:\n" + "\n".join(missing)


@pytest.mark.parametrize("language", [code for code in _languages() if code != SOURCE_LANGUAGE])
def test_every_checked_text_has_a_translation(language: str) -> None:
    template = [m for m in _po(TRANSLATIONS / "messages.pot") if m.id and _checked(m.locations)]
    assert template, "no marked text found in the checked files"
    catalogue = _po(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    untranslated = []
    for message in template:
        found = catalogue.get(message.id, context=message.context)
        if found is None or "fuzzy" in found.flags or not all(_strings(found)):
            untranslated.append(f"{message.locations[0][0]}: {_ids(message)[0]!r}")
    assert not untranslated, f"no {language} translation for:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("language", _languages())
def test_translations_keep_every_placeholder(language: str) -> None:
    """A `%(name)s` left out or misspelt would fail at run time (or lose the number)."""
    wrong = []
    for message in _po(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(_ids(message))))
        for text in _strings(message):
            if (
                text
                and set(PLACEHOLDER.findall(text)) != wanted
                and not (
                    # a singular may say "een" instead of the number
                    message.pluralizable and set(PLACEHOLDER.findall(text)) <= wanted
                )
            ):
                wrong.append(f"{_ids(message)[0]!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)
