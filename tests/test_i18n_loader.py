"""What a hand edit breaks reaches a Dutch manager in Dutch: every problem the loader
finds in bot.yml and the flow files (YAML syntax, unknown keys, wrong kinds of value,
control characters) is a `Message`, its template and the marked text in it translated;
`botbuilder check` and logs keep the English text. Real files in tmp_path, the real
catalogue, the Flask test client."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from botbuilder.content.loader import inspect_bot
from botbuilder.errors import FlowProblem, Message, Phrase
from tests.test_editor import editor_app, login  # noqa: F401 (a fixture)
from tests.test_i18n_advice import dutch_client

CATALOGUE = Path(__file__).parent.parent / "web/translations/nl/LC_MESSAGES/messages.po"

SETTINGS = """\
name: [Testvereniging]
language: nx
languages: nl
colour: red
greeting: [Hoi]
matcher: 3
handoff:
  default_team: lden
  abandoned_after: 0
  extra: 1
  teams:
    leden:
      hours: {mon-fry: "09:00-17:00", tue: "9-5"}
      timezone: Europe/Nowhere
      closed_days: [kerst]
      webhook: ftp://example.org
      email: geen-adres
      colour: red
    nacht: 3
privacy: {retention_days: 0, mask: ja, keep: 1}
tone: {address: jij, style: kort}
digest: {to: [geen-adres], teams: [ledn], weekday: zon, hour: 25, when: x}
limits: {messages_per_conversation: veel, speed: 1}
widget:
  position: top
  privacy_url: example.org
  allowed_origins: [example.org]
  colour: red
  title: {nl: [Vraag]}
"""

SETTINGS_OF_THE_WRONG_KIND = """\
languages: [nl]
tone: je
privacy: 30
digest: weekly
limits: 30/minute
widget: {allowed_origins: https://x.example}
handoff: {teams: [leden]}
"""

FLOW = """\
language: en
colour: red
intents:
  - just text
  - id: a
    context_only: ja
    questions: Hoe?
    answer: "Hallo\\a"
    handoff: 3
    extra: 1
  - id: b
    questions: ["Wat\\a?"]
    answer: b
    buttons: x
  - id: c
    questions: [c?]
    answer: c
    buttons:
      - {label: L, handoff: ja, colour: red}
      - {label: M, goto: "a\\a"}
"""

BROKEN_FILES: dict[str, dict[str, str | bytes]] = {
    "settings": {"bot.yml": SETTINGS, "faq.yml": "intents: [{id: a, questions: [a], answer: a}]"},
    "kinds": {
        "bot.yml": SETTINGS_OF_THE_WRONG_KIND,
        "faq.yml": "intents: [{id: a, questions: [a], answer: a}]",
    },
    "not a mapping": {"bot.yml": "- name\n", "faq.yml": FLOW},
    "files": {
        "bot.yml": "languages: [nl]\ndigest: {to: 3}\n"
        "handoff: {teams: {leden: {hours: 9-5, closed_days: kerst}}}\n",
        "faq.yml": FLOW,
        "empty.yml": "",
        "list.yml": "- a\n",
        "none.yml": "language: nl\n",
        "kind.yml": "intents: x\n",
        "syntax.yml": "intents:\n  - id: a\n   answer: [\n",
        "latin1.yml": "intents: [{id: é}]\n".encode("latin-1"),
    },
    "nothing to match": {"faq.yml": "intents: [{id: a, answer: a, context_only: true}]"},
    "no flow files": {},
}


def _write(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir()
    for name, text in files.items():
        path = directory / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return directory


def _problems(tmp_path: Path) -> list[FlowProblem]:
    found: list[FlowProblem] = []
    for number, files in enumerate(BROKEN_FILES.values()):
        found += inspect_bot(_write(tmp_path / f"bot{number}", files))[1]
    found += inspect_bot(tmp_path / "missing")[1]
    return found


def _templates(text: object) -> list[str]:
    """The marked texts a page translates to show `text`: its template, and its values'."""
    if isinstance(text, Message):
        return [text.template, *(t for v in text.params.values() for t in _templates(v))]
    return [str(text)] if isinstance(text, Phrase) else []


def test_every_problem_a_hand_edit_can_cause_is_marked_text_with_a_dutch_translation(
    tmp_path: Path,
) -> None:
    problems = _problems(tmp_path)
    untranslated = {m.id for m in read_po(CATALOGUE.open("rb")) if m.id and not m.string}
    english = [str(p) for p in problems if not isinstance(p.message, Message)]
    assert not english, "\n".join(english)
    missing = {t for p in problems for t in _templates(p.message) if t in untranslated}
    assert not missing
    known = {m.id for m in read_po(CATALOGUE.open("rb"))}
    assert {t for p in problems for t in _templates(p.message)} <= known
    texts = [p.message for p in problems]
    assert len(texts) > 70, len(texts)
    # `botbuilder check` prints the English text, as before.
    assert (
        "unknown key 'colour' in widget settings (did you mean 'color'?); allowed: title, color, "
        "allowed_origins, position, logo, welcome, privacy_url"
    ) in texts
    assert "'name' must be text, not a list" in texts
    assert (
        "'answer' of intent 'a' contains a control character (U+0007) at position 6; remove it"
        in texts
    )
    assert any(t.startswith("YAML syntax error: ") for t in texts)


def test_a_dutch_manager_reads_what_a_hand_edit_broke_in_dutch_above_the_editor(
    editor_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    client = dutch_client(editor_app, "manager@example.org")
    english = editor_app.test_client()
    login(english, "other@example.org")
    settings = bot_dir / "bot.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "widget:\n",
            "tone: {address: jij}\nprivacy: {retention_days: [1]}\nwidget:\n  colour: red\n",
        ),
        encoding="utf-8",
    )
    (bot_dir / "extra.yml").write_text(
        'intents:\n  - id: extra\n    questions: ["Hallo\\a"]\n    answer: x\n  - id: [\n',
        encoding="utf-8",
    )
    page = client.get("/editor/")
    banner = unescape(re.search(r'id="flows-problem">(.*?)</section>', page.text, re.S)[1])
    for dutch in (
        "'address' moet 'je' (informeel) of 'u' (formeel) zijn, niet 'jij'",
        "'retention_days' moet een heel aantal dagen zijn, 1 of meer, niet een lijst",
        "onbekende sleutel 'colour' in de widget-instellingen (bedoel je 'color'?); toegestaan: ",
        "YAML-syntaxfout: ",
        "; controleer het inspringen, de dubbele punten en de aanhalingstekens",
    ):
        assert dutch in banner, banner
    for word in ("must be", "unknown key", "syntax error", "check indentation"):
        assert word not in banner, banner
    # Fix the syntax: the control character in the question is told in Dutch too.
    (bot_dir / "extra.yml").write_text(
        'intents:\n  - id: extra\n    questions: ["Hallo\\a"]\n    answer: x\n', encoding="utf-8"
    )
    banner = unescape(client.get("/editor/").text)
    assert (
        "vraag 1 van intent 'extra' bevat een stuurteken (U+0007) op positie 6; haal het weg"
        in banner
    )
    # An English reader's page keeps the English text.
    assert "question 1 of intent 'extra' contains a control character" in unescape(
        english.get("/editor/").text
    )
