"""New intents go to the topic file they read most like, or where the manager picks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.loader import load_bot
from botbuilder.editing.topics import topic_files
from tests.test_transfer import PARKING_CSV, _token, manager, preview, transfer_app  # noqa: F401

EXAMPLE = Path(__file__).parent.parent / "flows"


def test_a_new_intent_goes_to_the_topic_file_it_reads_most_like() -> None:
    bot = load_bot(EXAMPLE)
    chosen = topic_files(
        bot,
        EXAMPLE,
        [
            (
                "nl",
                "lid_pauzeren",
                "Kan ik mijn lidmaatschap een jaar pauzeren en later weer lid worden?",
            ),
            (
                "nl",
                "shirt_maat",
                "Welke maten heeft het clubshirt in de webshop? Bestellen kan online.",
            ),
            ("nl", "hoofdstad", "Wat is de hoofdstad van Frankrijk?"),
        ],
    )
    assert chosen[("nl", "lid_pauzeren")] == "nl/lidmaatschap.yml"
    assert chosen[("nl", "shirt_maat")] == "nl/webshop.yml"
    assert chosen[("nl", "hoofdstad")] == "nl/imported.yml"  # nothing alike: sorted by hand


def test_a_translation_goes_to_the_file_named_like_its_other_language(tmp_path: Path) -> None:
    bot_dir = tmp_path / "bot"
    shutil.copytree(EXAMPLE, bot_dir)
    sheet = tmp_path / "en.csv"
    sheet.write_text(
        "intent,question,answer,language\n"
        "winterstop,When does the winter break start?,In December.,en\n"
        "winterstop,Wanneer begint de winterstop?,In december.,nl\n"
    )
    # First only English, into en/evenementen.yml by hand; the Dutch one follows it.
    events = bot_dir / "en" / "evenementen.yml"
    events.write_text(
        events.read_text()
        + "  - id: winterstop\n    questions: [When does the winter break start?]\n"
        "    answer: In December.\n"
    )
    result = CliRunner().invoke(main, ["import", "--format", "csv", str(sheet), str(bot_dir)])
    assert result.exit_code == 0, result.output
    assert "winterstop" in (bot_dir / "nl" / "evenementen.yml").read_text()


def test_the_preview_offers_the_topic_file_and_the_manager_can_pick_another(
    manager,  # noqa: F811
    bot_dir: Path,
) -> None:  # type: ignore[no-untyped-def]
    page = preview(manager, PARKING_CSV.encode()).text
    select = re.search(
        r'<select[^>]*name="target:nl/fietsparkeren"[^>]*>(.*?)</select>', page, re.S
    )
    assert select, page
    options = re.findall(r'<option value="([^"]+)"', select.group(1))
    assert "faq.yml" in options and "nl/imported.yml" in options
    done = manager.post(
        "/editor/transfer/confirm",
        data={
            "csrf_token": manager.csrf,
            "token": _token(page),
            "target:nl/fietsparkeren": "faq.yml",
        },
    )
    assert done.status_code == 200, done.text
    assert "fietsparkeren</code> in <code>faq.yml" in done.text
    assert "fietsparkeren" in (bot_dir / "faq.yml").read_text()
    assert not (bot_dir / "nl" / "imported.yml").exists()


def test_a_pick_that_is_not_a_flow_file_of_that_language_is_ignored(
    manager,  # noqa: F811
    bot_dir: Path,
) -> None:  # type: ignore[no-untyped-def]
    page = preview(manager, PARKING_CSV.encode()).text
    done = manager.post(
        "/editor/transfer/confirm",
        data={
            "csrf_token": manager.csrf,
            "token": _token(page),
            "target:nl/fietsparkeren": "../../etc/passwd.yml",
        },
    )
    assert done.status_code == 200, done.text
    assert "fietsparkeren" in (bot_dir / "nl" / "imported.yml").read_text()
