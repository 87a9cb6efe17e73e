"""Import and export: Rasa, CSV, Excel and QnA Maker TSV round-trip on the example bot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.loader import load_bot

from .conftest import EXAMPLE_FLOWS


def same_content(a: Path, b: Path, language: str | None = None) -> None:
    """Both bots have the same intents, questions and answers (in `language`, or all)."""
    left, right = load_bot(a), load_bot(b)

    def content(bot):  # type: ignore[no-untyped-def]
        return {
            key: (tuple(i.questions), i.answer.strip())
            for key, i in bot.intents.items()
            if language is None or key[0] == language
        }

    assert content(left) == content(right)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_rasa_round_trip_keeps_intents_questions_and_answers(tmp_path: Path) -> None:
    run("export", str(EXAMPLE_FLOWS), "--format", "rasa", str(tmp_path / "rasa"))
    for name in ("nlu.yml", "domain.yml", "rules.yml"):
        assert (tmp_path / "rasa" / name).exists()
    domain = (tmp_path / "rasa" / "domain.yml").read_text()
    assert "utter_opzeggen:" in domain and "payload: /opzegtermijn" in domain
    output = run(
        "import",
        "--format",
        "rasa",
        str(tmp_path / "rasa" / "nlu.yml"),
        str(tmp_path / "rasa" / "domain.yml"),
        str(tmp_path / "back"),
    )
    assert "42 intents added" in output
    same_content(EXAMPLE_FLOWS, tmp_path / "back", "nl")
    assert load_bot(tmp_path / "back").intent("opzegtermijn").context_only  # type: ignore[union-attr]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_spreadsheet_round_trip_in_both_languages(tmp_path: Path, suffix: str) -> None:
    sheet = tmp_path / f"bot.{suffix}"
    run("export", str(EXAMPLE_FLOWS), "--format", suffix, str(sheet))
    run("import", "--format", suffix, str(sheet), str(tmp_path / "back"))
    back = load_bot(tmp_path / "back")
    original = load_bot(EXAMPLE_FLOWS)
    assert back.languages == ("nl", "en") or set(back.languages) == {"nl", "en"}
    for key, intent in original.intents.items():
        assert back.intents[key].questions == intent.questions
        assert back.intents[key].answer.strip() == intent.answer.strip()


def test_spreadsheet_merges_into_an_existing_bot_and_reports_it(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(EXAMPLE_FLOWS, bot)
    before = (bot / "nl" / "contributie.yml").read_text()
    sheet = tmp_path / "new.csv"
    sheet.write_text(
        "intent,question,answer,language\n"
        "contributie_bedrag,wat moet ik betalen voor een jaar fietsen,,nl\n"
        "parkeren,Waar kan ik parkeren bij het clubhuis?,Er is gratis parkeren achter het clubhuis.,nl\n"
        "parkeren,parkeerplaats clubhuis,,nl\n"
    )
    output = run("import", "--format", "csv", str(sheet), str(bot))
    assert "added    nl/parkeren" in output and "changed  nl/contributie_bedrag" in output
    loaded = load_bot(bot)
    assert (
        "wat moet ik betalen voor een jaar fietsen"
        in loaded.intent("contributie_bedrag", "nl").questions
    )  # type: ignore[union-attr]
    assert loaded.intent("parkeren", "nl").questions == (  # type: ignore[union-attr]
        "Waar kan ik parkeren bij het clubhuis?",
        "parkeerplaats clubhuis",
    )
    after = (bot / "nl" / "contributie.yml").read_text()
    assert after.startswith(before.split("\n", 1)[0])  # comments and layout kept
    added = set(after.splitlines()) - set(before.splitlines())
    assert added == {"      - wat moet ik betalen voor een jaar fietsen"}


def test_bad_rows_are_reported_by_number_and_nothing_is_imported(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(EXAMPLE_FLOWS, bot)
    snapshot = {p: p.read_text() for p in bot.rglob("*.yml")}
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "intent,question,answer,language\n"
        "nieuw,Een goede vraag?,Antwoord A,nl\n"
        "nieuw,Nog een vraag,Antwoord B,nl\n"
        ",zonder intent,x,nl\n"
        "leeg,,,nl\n"
        "zonder_antwoord,Waar is dat?,,nl\n"
    )
    result = CliRunner().invoke(main, ["import", "--format", "csv", str(sheet), str(bot)])
    assert result.exit_code == 1
    assert "row 3: answer for 'nieuw' (nl) differs from the one on row 2" in result.output
    assert "row 4: no intent id" in result.output
    assert "row 5: empty question for intent 'leeg'" in result.output
    assert "intent 'zonder_antwoord' (nl): no row has its answer" in result.output
    assert "nothing was imported" in result.output
    assert {p: p.read_text() for p in bot.rglob("*.yml")} == snapshot


def test_missing_columns_are_reported(tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("vraag;antwoord\nhoi;hallo\n")
    result = CliRunner().invoke(
        main, ["import", "--format", "csv", str(sheet), str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "row 1: missing columns intent, question" in result.output
    assert not (tmp_path / "out").exists()


def test_qna_maker_tsv_groups_alternate_questions(tmp_path: Path) -> None:
    tsv = tmp_path / "kb.tsv"
    tsv.write_text(
        "Question\tAnswer\tSource\tMetadata\tSuggestedQuestions\tIsContextOnly\tPrompts\tQnaId\n"
        "Hoe zeg ik op?\tVia **Mijn account**.\\nEen maand opzegtermijn.\tfaq.docx\tcat:lid\t[]\tfalse\t[]\t1\n"
        "Lidmaatschap stoppen\tVia **Mijn account**.\\nEen maand opzegtermijn.\tfaq.docx\tcat:lid\t[]\tfalse\t[]\t1\n"
        "Wat kost het?\t25 euro per jaar.\tfaq.docx\t\t[]\tfalse\t[]\t2\n"
    )
    output = run("import", "--format", "qna", "--language", "nl", str(tsv), str(tmp_path / "bot"))
    assert "2 intents added" in output
    bot = load_bot(tmp_path / "bot")
    opzeggen = bot.intent("hoe_zeg_ik_op", "nl")
    assert opzeggen is not None
    assert opzeggen.questions == ("Hoe zeg ik op?", "Lidmaatschap stoppen")
    assert opzeggen.answer.strip() == "Via **Mijn account**.\nEen maand opzegtermijn."


def test_rasa_nlu_without_answers_asks_for_the_domain(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n  - intent: groet\n    examples: |\n      - hoi [Piet](name)\n'
    )
    result = CliRunner().invoke(
        main, ["import", "--format", "rasa", str(nlu), str(tmp_path / "bot")]
    )
    assert result.exit_code == 1
    assert (
        "intent 'groet' has no response 'utter_groet' with a text; give domain.yml" in result.output
    )


def test_the_command_offers_the_formats_of_the_one_registry() -> None:
    from botbuilder.interchange.registry import FORMATS, export_formats

    options = {
        name: next(p for p in main.commands[name].params if p.name == "fmt")
        for name in ("import", "export")
    }
    assert list(options["import"].type.choices) == list(FORMATS)  # type: ignore[attr-defined]
    assert list(options["export"].type.choices) == export_formats()  # type: ignore[attr-defined]
    assert "qna" in FORMATS and "qna" not in export_formats()  # QnA Maker is import only


def test_an_import_that_would_not_load_writes_nothing(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(EXAMPLE_FLOWS, bot)
    snapshot = {p: p.read_text() for p in bot.rglob("*.yml")}
    sheet = tmp_path / "bad-id.csv"
    sheet.write_text("intent,question,answer,language\nnieuw intent,Een vraag?,Een antwoord,nl\n")
    result = CliRunner().invoke(main, ["import", "--format", "csv", str(sheet), str(bot)])
    assert result.exit_code == 1, result.output
    assert "nothing was imported" in result.output
    assert re.search(
        r"nl/\w+\.yml:\d+:\d+: intent id 'nieuw intent' must be one word", result.output
    )
    assert {p: p.read_text() for p in bot.rglob("*.yml")} == snapshot
    assert not (bot / "nl" / "imported.yml").exists()
