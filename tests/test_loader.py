"""The flow loader: good bots load, every kind of broken file is reported with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from botbuilder.content.loader import inspect_bot, load_bot
from botbuilder.errors import FlowError

from .conftest import EXAMPLE_FLOWS, SMALL_BOT


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(directory: Path) -> list[str]:
    bot, problems = inspect_bot(directory)
    assert bot is None
    return [str(p) for p in problems if p.severity == "error"]


def test_small_bot_loads_with_languages_buttons_and_handoff_team() -> None:
    bot = load_bot(SMALL_BOT)
    assert bot.settings.name == "Testvereniging"
    assert bot.languages == ("nl", "en")
    opzeggen = bot.intent("opzeggen", "nl")
    assert opzeggen is not None
    assert [b.id for b in opzeggen.buttons] == [
        "goto:opzegtermijn",
        "url:https://example.org/account",
        "handoff",
    ]
    assert bot.intent("opzegtermijn", "nl").context_only  # type: ignore[union-attr]
    assert bot.intent("klacht", "en").handoff_team == "leden"  # type: ignore[union-attr]
    assert "opzegtermijn" not in {i.id for i in bot.matchable()}
    assert bot.intent("opzeggen", "en").answer.startswith("You cancel")  # type: ignore[union-attr]


def test_shipped_example_bot_validates_without_warnings() -> None:
    bot, problems = inspect_bot(EXAMPLE_FLOWS)
    assert bot is not None, "\n".join(map(str, problems))
    assert [str(p) for p in problems] == []
    per_language = {
        lang: {i for (language, i) in bot.intents if language == lang} for lang in ("nl", "en")
    }
    assert len(per_language["nl"]) >= 25 and len(per_language["en"]) >= 25
    assert any(i.handoff_team for i in bot.intents.values()), "a complaint intent hands off"
    assert any(i.buttons for i in bot.intents.values())


def test_directory_with_one_flow_file_and_no_bot_yml_is_a_working_bot(tmp_path: Path) -> None:
    write(tmp_path, "faq.yml", "intents:\n  - id: a\n    questions: [q]\n    answer: x\n")
    bot = load_bot(tmp_path)
    assert bot.settings.language == "nl"
    assert bot.intent("a") is not None


def test_flow_files_are_found_recursively_and_hidden_folders_skipped(tmp_path: Path) -> None:
    write(tmp_path, "deep/er/faq.yaml", "intents:\n  - id: a\n    questions: [q]\n    answer: x\n")
    write(tmp_path, ".git/junk.yml", "not: [valid")
    assert load_bot(tmp_path).intent("a") is not None


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "faq.yml", "intents:\n  - id: a\n   questions: [x]\n")
    (error,) = errors_of(tmp_path)
    assert (
        error.startswith(f"{tmp_path / 'faq.yml'}:3:4: YAML syntax error")
        or ":3:4: YAML syntax error" in error
    )


def test_unknown_key_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    buttns: []\n",
    )
    (error,) = errors_of(tmp_path)
    assert "faq.yml:5:5: unknown key 'buttns' in an intent (did you mean 'buttons'?)" in error


def test_missing_and_empty_answers_are_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n  - id: b\n    questions: [r]\n    answer: '  '\n",
    )
    errors = errors_of(tmp_path)
    assert any(":2:5: intent 'a' has no 'answer'" in e for e in errors)
    assert any(":6:13: 'answer' of intent 'b' is empty" in e for e in errors)


def test_duplicate_intent_id_in_one_language_points_at_both(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "intents:\n  - id: x\n    questions: [q]\n    answer: a\n")
    write(tmp_path, "b.yml", "intents:\n  - id: x\n    questions: [r]\n    answer: b\n")
    (error,) = errors_of(tmp_path)
    assert "b.yml:2:9: duplicate intent id 'x' in language 'nl'" in error
    assert "a.yml:2" in error


def test_same_id_in_two_languages_is_one_intent(tmp_path: Path) -> None:
    write(tmp_path, "bot.yml", "languages: [nl, en]\n")
    write(
        tmp_path, "nl.yml", "language: nl\nintents:\n  - id: x\n    questions: [q]\n    answer: a\n"
    )
    write(
        tmp_path, "en.yml", "language: en\nintents:\n  - id: x\n    questions: [r]\n    answer: b\n"
    )
    bot = load_bot(tmp_path)
    assert bot.intent_ids() == ["x"]
    assert bot.intent("x", "en").answer == "b"  # type: ignore[union-attr]


def test_goto_to_unknown_intent_suggests_the_closest(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        """intents:
  - id: opzeggen
    questions: [Hoe zeg ik op?]
    answer: Zo.
    buttons:
      - label: Termijn
        goto: opzegterm
  - id: opzegtermijn
    context_only: true
    answer: Een maand.
""",
    )
    (error,) = errors_of(tmp_path)
    assert error.endswith(
        "faq.yml:7:15: button 'goto: opzegterm' names no intent (did you mean 'opzegtermijn'?)"
    )


def test_intent_without_questions_must_be_context_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n  - id: b\n    answer: y\n",
    )
    (error,) = errors_of(tmp_path)
    assert ":5:5: intent 'b' has no questions" in error and "context_only: true" in error


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ("answer_threshold: 1.5", "'answer_threshold' must be 'auto' or a number from 0 to 1"),
        ("clarify_threshold: hoog", "'clarify_threshold' must be 'auto' or a number from 0 to 1"),
        (
            "answer_threshold: 0.4\n  clarify_threshold: 0.6",
            "clarify_threshold (0.6) is above answer_threshold (0.4)",
        ),
    ],
)
def test_bad_thresholds_are_errors(tmp_path: Path, matcher: str, message: str) -> None:
    write(tmp_path, "bot.yml", f"matcher:\n  {matcher}\n")
    write(tmp_path, "faq.yml", "intents:\n  - id: a\n    questions: [q]\n    answer: x\n")
    (error,) = errors_of(tmp_path)
    assert "bot.yml:" in error and message in error


def test_unknown_language_code_is_an_error_with_suggestion(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "language: nld\nintents:\n  - id: a\n    questions: [q]\n    answer: x\n",
    )
    (error,) = errors_of(tmp_path)
    assert "faq.yml:1:11: unknown language code 'nld'" in error
    assert "two-letter ISO 639-1" in error


def test_flow_language_must_be_listed_in_bot_yml(tmp_path: Path) -> None:
    write(tmp_path, "bot.yml", "language: nl\nlanguages: [nl]\n")
    write(
        tmp_path,
        "faq.yml",
        "language: de\nintents:\n  - id: a\n    questions: [q]\n    answer: x\n",
    )
    (error,) = errors_of(tmp_path)
    assert "language 'de' is not in bot.yml's languages [nl]; add it there" in error


def test_unsafe_button_url_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    buttons:\n"
        "      - label: klik\n        url: javascript:alert(1)\n",
    )
    (error,) = errors_of(tmp_path)
    assert "url 'javascript:alert(1)' must start with https://" in error


@pytest.mark.parametrize("url", ["//evil.example/x", "/\\\\evil.example", "/\\t/evil.example"])
def test_scheme_relative_button_url_is_refused_with_file_line_and_fix(
    tmp_path: Path, url: str
) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    buttons:\n"
        f'      - label: klik\n        url: "{url}"\n',
    )
    (error,) = errors_of(tmp_path)
    assert "faq.yml:7:14: url '" in error and "starts with two slashes" in error
    assert "write https://" in error


def test_same_site_paths_and_outside_links_stay_allowed_as_button_urls(tmp_path: Path) -> None:
    buttons = "".join(
        f"      - label: b{n}\n        url: {url}\n"
        for n, url in enumerate(["/contact", "https://x.org", "mailto:a@x.org", "tel:+3120"])
    )
    intent = "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    buttons:\n"
    write(tmp_path, "faq.yml", intent + buttons)
    bot, problems = inspect_bot(tmp_path)
    assert bot is not None and problems == []


def test_button_needs_exactly_one_action(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    buttons:\n"
        "      - label: twee\n        goto: a\n        url: https://x.org\n",
    )
    (error,) = errors_of(tmp_path)
    assert "needs exactly one of goto, url or handoff (it has goto, url)" in error


def test_unknown_handoff_team_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "bot.yml", "handoff:\n  teams:\n    leden: {}\n")
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answer: x\n    handoff: leeden\n",
    )
    (error,) = errors_of(tmp_path)
    assert (
        "handoff team 'leeden' is not in bot.yml's handoff.teams (did you mean 'leden'?)" in error
    )


def test_bad_office_hours_are_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        "bot.yml",
        'handoff:\n  teams:\n    leden:\n      hours: {maandag: "09:00-17:00", mon-fri: "9-5"}\n',
    )
    write(tmp_path, "faq.yml", "intents:\n  - id: a\n    questions: [q]\n    answer: x\n")
    errors = errors_of(tmp_path)
    assert any("'maandag' is not a day or day range" in e for e in errors)
    assert any("opening hours '9-5' not understood" in e for e in errors)


def test_all_errors_of_a_directory_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "bot.yml", "language: xx\nmatcher:\n  answer_threshold: 2\n")
    write(tmp_path, "broken.yml", "intents:\n  - id: a\n   questions: [x]\n")
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [q]\n    answr: x\n    buttons:\n      - label: t\n        goto: nergens\n",
    )
    with pytest.raises(FlowError) as caught:
        load_bot(tmp_path)
    message = str(caught.value)
    assert message.startswith("6 errors in the flows:")
    for part in (
        "unknown language code 'xx'",
        "'answer_threshold' must be",
        "YAML syntax error",
        "unknown key 'answr'",
        "has no 'answer'",
        "names no intent",
    ):
        assert part in message
    assert len(caught.value.problems) == 6


def test_question_under_two_intents_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "faq.yml",
        "intents:\n  - id: a\n    questions: [Wat kost het?]\n    answer: x\n"
        "  - id: b\n    questions: [wat kost het]\n    answer: y\n",
    )
    bot, problems = inspect_bot(tmp_path)
    assert bot is not None
    (warning,) = problems
    assert warning.severity == "warning" and "listed under intents 'a' and 'b'" in warning.message


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path)
    assert "no flow files" in error


def test_an_unchanged_file_is_not_parsed_again_and_a_changed_one_is(bot_dir: Path) -> None:
    from botbuilder.content.yaml_source import SourceFile, read_yaml

    path = bot_dir / "faq.yml"
    first = read_yaml(path, SourceFile(path, []))
    assert read_yaml(path, SourceFile(path, [])) is first  # same text: the parse is reused
    path.write_text(path.read_text(encoding="utf-8").replace("opzeggen", "stoppen", 1))
    changed = read_yaml(path, SourceFile(path, []))
    assert changed is not first and changed["intents"][0]["id"] == "stoppen"
    # A file broken after a good version is reported, never served from the cache.
    path.write_text("intents: [oops\n")
    problems: list = []  # type: ignore[type-arg]
    assert read_yaml(path, SourceFile(path, problems)) is None
    assert problems and "YAML syntax error" in problems[0].message


def test_control_characters_from_yaml_escapes_are_refused_with_file_and_line(
    tmp_path: Path,
) -> None:
    # "\0" in a double-quoted YAML string is a NUL, which PostgreSQL cannot store:
    # every member who got this answer would get a 500.
    write(
        tmp_path,
        "faq.yml",
        'intents:\n  - id: a\n    questions: ["hallo\\0", ok]\n    answer: "x\\u0007y"\n',
    )
    errors = errors_of(tmp_path)
    assert any(
        ":3:" in e and "question 1 of" in e and "control character (U+0000)" in e for e in errors
    ), errors
    assert any(":4:" in e and "'answer'" in e and "U+0007" in e for e in errors), errors
