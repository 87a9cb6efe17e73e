"""Property tests: whatever a file holds, the readers of files people write either read it or
raise their own error naming the problem, never another exception.

- flow files and bot.yml: a bot, or FlowError whose every problem names file and line;
- files to import (CSV, XLSX, QnA TSV, Rasa nlu.yml + domain.yml): entries, or ImportFileError;
- evaluation files: cases, or EvaluationFileError.

Each property is tried on random bytes, random text (control characters, lone surrogates)
and YAML-ish or spreadsheet-ish documents built from the keys the reader knows. The example
counts are bounded and the examples derandomized, so CI runs the same few hundred files in
seconds; a failure found once is kept below as an explicit @example.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from ruamel.yaml import YAML

from botbuilder.content.bot_settings import (
    BOT_KEYS,
    HANDOFF_KEYS,
    MATCHER_KEYS,
    TEAM_KEYS,
    WIDGET_KEYS,
)
from botbuilder.content.loader import load_bot
from botbuilder.errors import EvaluationFileError, FlowError, ImportFileError
from botbuilder.interchange.registry import FORMATS
from botbuilder.matching.evaluation import load_cases

# Bounded and reproducible: the same examples on every run, nothing saved between runs.
BOUNDED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(BOUNDED, max_examples=25)  # for the slower readers (openpyxl)

VALID_FLOW = "intents:\n  - id: a\n    questions: [q]\n    answer: x\n"
FLOW_KEYS = ("language", "intents", "id", "questions", "answer", "buttons", "context_only")
FLOW_KEYS += ("handoff", "label", "goto", "url", "q", "expect", "nlu", "intent", "examples")
FLOW_KEYS += ("responses", "text", "version", "mon-fri", "sat", "timezone", "closed_days")

# YAML fragments that exercise the parser's corners: anchors, aliases, merge keys, tags,
# documents, escapes the loader turns into control characters or lone surrogates.
TRICKS = (
    "&a ",
    "*a",
    "<<: *a",
    "<<: {}",
    "!!binary ",
    "!!timestamp ",
    "!!float ",
    "!!int ",
    "!!set ",
    "!!bool ",
    "!!",
    "!!omap ",
    "!!python/object:os.system ",
    "!custom ",
    "? ",
    "- ",
    ": ",
    "\t",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "---\n",
    "...\n",
    '"\\0"',
    '"\\ud800"',
    '"\\x85"',
    "2024-13-45",
    "2024-02-30 25:61:00",
    "\nwhen: 2024-13-45\n",
    "\n- !!int abc\n",
    "\nn: !!float abc\n",
    "\nn: " + "9" * 5000 + "\n",
    "- " * 1100,
    "[" * 3000,
    "{" * 60,
    "0x_",
    "1e999",
    ".nan",
    "9" * 400,
    "{",
    "[",
    "|",
    ">-",
    "'",
    '"',
    "#",
    "\ufeff",
    "\x00",
    "\u2028",
    "[" * 60 + "]" * 60,
    "{a: " * 200 + "}" * 200,
    "- " * 200 + "x",
)

keys = st.sampled_from(FLOW_KEYS + BOT_KEYS + MATCHER_KEYS + HANDOFF_KEYS + TEAM_KEYS + WIDGET_KEYS)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["nl", "en", "xx", "auto", "09:00-17:00", "25:00-26:00", "#0b6e4f"]),
    st.sampled_from(["https://example.org", "//evil.example", "mailto:a@b", "2026-12-25"]),
    st.sampled_from(["Europe/Amsterdam", "../../etc/passwd", "mon-sun", "handoff", "true"]),
    st.dates(),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(keys, st.text(max_size=10)), children, max_size=5),
    ),
    max_leaves=25,
)


def _dump(document: Any) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.dump(document, out)
    return out.getvalue()


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """A YAML document, often with a trick spliced into one of its lines."""
    text = _dump(draw(documents)) if draw(st.booleans()) else _flow_like(draw)
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        cut = draw(st.integers(0, len(line)))
        lines[at] = line[:cut] + draw(st.sampled_from(TRICKS)) + line[cut:]
    return "".join(lines)


def _flow_like(draw: st.DrawFn) -> str:
    """A flow file as people write it, each value a random YAML scalar (JSON is YAML)."""

    def value() -> str:
        return json.dumps(draw(scalars), default=str, allow_nan=True)

    intents = []
    for _ in range(draw(st.integers(0, 3))):
        intents.append(
            f"  - id: {value()}\n    questions:\n      - {value()}\n      - {value()}\n"
            f"    answer: {value()}\n    {draw(keys)}: {value()}\n"
            f"    buttons:\n      - label: {value()}\n        {draw(keys)}: {value()}\n"
        )
    return f"language: {value()}\nintents:\n{''.join(intents)}"


# Files that crashed a reader once (each is also tried by every YAML property below).
BAD_DATE = b"intents:\n  - id: 2024-13-45\n"  # ValueError from the date constructor
BAD_INT = b"x: !!int abc\n"  # ValueError from the int constructor
HUGE_INT = b"x: " + b"9" * 5000 + b"\n"  # ValueError past Python's 4,300 digits
DEEP = b"- " * 1100 + b"x"  # RecursionError in ruamel's composer
NOT_UTF8 = b"\x80"  # UnicodeDecodeError (the evaluation file)
LIST_LANGUAGE = b"languages: [null]\n"  # IndexError: the position of a list item as a value
CLOSED_DAYS_TRUE = b"handoff:\n  teams:\n    t:\n      closed_days: true\n"  # TypeError
# A tag on the wrong kind of value: IndexError, AttributeError, KeyError inside ruamel.
WRONG_TAGS = (b"!!float", b"!!set", b"a: !!omap x\n", b"!!bool x")
UNTAGGED_LINE = b"!!"  # a tagged scalar without a line: TypeError adding 1 to None
CRASHED = (BAD_DATE, BAD_INT, HUGE_INT, DEEP, NOT_UTF8, LIST_LANGUAGE, CLOSED_DAYS_TRUE)
CRASHED += (*WRONG_TAGS, UNTAGGED_LINE)


def crashed_before(test: Any) -> Any:
    for content in CRASHED:
        test = example(content=content)(test)
    return test


any_file = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    yaml_texts().map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def assert_loads_or_names_file_and_line(directory: Path, file: Path) -> None:
    try:
        load_bot(directory)
    except FlowError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1, str(problem)
            assert Path(problem.path).resolve() in (file.resolve(), directory.resolve()), str(
                problem
            )
            assert str(problem).startswith(f"{problem.path}:{problem.line}:{problem.column}: ")


@BOUNDED
@crashed_before
@given(content=any_file)
def test_any_flow_file_loads_or_gives_flow_errors_with_file_and_line(content: bytes) -> None:
    with folder() as bot:
        flow = bot / "faq.yml"
        flow.write_bytes(content)
        assert_loads_or_names_file_and_line(bot, flow)


@BOUNDED
@crashed_before
@given(content=any_file)
def test_any_bot_yml_loads_or_gives_flow_errors_with_file_and_line(content: bytes) -> None:
    with folder() as bot:
        (bot / "faq.yml").write_text(VALID_FLOW, encoding="utf-8")
        settings_file = bot / "bot.yml"
        settings_file.write_bytes(content)
        assert_loads_or_names_file_and_line(bot, settings_file)


def _structured_settings(draw: st.DrawFn) -> str:
    """bot.yml with every section, each with its own keys and random values."""
    section_keys = {
        "matcher": MATCHER_KEYS,
        "handoff": HANDOFF_KEYS,
        "widget": WIDGET_KEYS + ("welcome",),
    }
    document: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(BOT_KEYS), max_size=len(BOT_KEYS), unique=True)):
        if key in section_keys:
            document[key] = {
                k: draw(documents) for k in draw(st.sets(st.sampled_from(section_keys[key])))
            }
        else:
            document[key] = draw(documents)
    if isinstance(document.get("handoff"), dict) and draw(st.booleans()):
        team = {k: draw(documents) for k in draw(st.sets(st.sampled_from(TEAM_KEYS)))}
        document["handoff"]["teams"] = {draw(st.text(max_size=8)): team}
    return _dump(document)


@BOUNDED
@given(data=st.data())
def test_structured_bot_yml_loads_or_gives_flow_errors_with_file_and_line(
    data: st.DataObject,
) -> None:
    text = _structured_settings(data.draw)
    with folder() as bot:
        (bot / "faq.yml").write_text(VALID_FLOW, encoding="utf-8")
        settings_file = bot / "bot.yml"
        settings_file.write_text(text, encoding="utf-8")
        assert_loads_or_names_file_and_line(bot, settings_file)


# Files to import --------------------------------------------------------------------------

cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["intent", "question", "answer", "language", "nl", "EN", "xx", "=1+1"]),
    st.sampled_from(["'=cmd", "", " ", "\r", '"', "a;b", "a,b", "\\n"]),
)
tables = st.lists(st.lists(cells, max_size=6), max_size=8)


def import_or_refuse(name: str, files: list[Path], known_bot: bool = False) -> None:
    try:
        FORMATS[name].read(files, "nl", None)
    except ImportFileError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


def _csv_bytes(table: list[list[str]], delimiter: str) -> bytes:
    out = io.StringIO()
    header = ["intent", "question", "answer", "language"]
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *table])
    return out.getvalue().encode("utf-8", "surrogatepass")


@BOUNDED
@given(
    content=st.one_of(
        any_file, tables.map(lambda t: _csv_bytes(t, ",")), tables.map(lambda t: _csv_bytes(t, ";"))
    )
)
def test_any_csv_imports_or_gives_import_file_error(content: bytes) -> None:
    with folder() as tmp:
        (tmp / "sheet.csv").write_bytes(content)
        import_or_refuse("csv", [tmp / "sheet.csv"])


@BOUNDED
@given(
    content=st.one_of(
        any_file,
        tables.map(lambda t: _csv_bytes([["Question", "Answer", "Source", "QnaId"], *t], "\t")),
    )
)
def test_any_qna_tsv_imports_or_gives_import_file_error(content: bytes) -> None:
    with folder() as tmp:
        (tmp / "kb.tsv").write_bytes(content)
        import_or_refuse("qna", [tmp / "kb.tsv"])


def _xlsx_bytes(table: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


xlsx_cells = st.one_of(cells, st.integers(), st.floats(allow_nan=False), st.none(), st.datetimes())
xlsx_tables = st.lists(st.lists(xlsx_cells, max_size=6), max_size=6)


@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    """`good` with a few bytes overwritten or the end cut off."""
    data = bytearray(good)  # its length varies with the time openpyxl writes into it
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, 2**20)) % len(data)] = draw(st.integers(0, 255))
    return bytes(data[: len(data) * draw(st.integers(50, 100)) // 100])


@FEW
@given(
    content=st.one_of(
        st.binary(max_size=300),
        xlsx_tables.map(lambda t: _xlsx_bytes([["intent", "question", "answer", "language"], *t])),
        xlsx_tables.map(_xlsx_bytes),
        xlsx_tables.map(_xlsx_bytes).flatmap(damaged),
    )
)
def test_any_xlsx_imports_or_gives_import_file_error(content: bytes) -> None:
    with folder() as tmp:
        (tmp / "sheet.xlsx").write_bytes(content)
        import_or_refuse("xlsx", [tmp / "sheet.xlsx"])


@st.composite
def rasa_files(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """nlu.yml and domain.yml: Rasa-shaped with random values, or anything at all."""
    if draw(st.booleans()):
        return draw(any_file), draw(any_file)
    items = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {"intent": documents},
                    optional={
                        "examples": st.one_of(documents, st.text().map(lambda t: f"- {t}\n"))
                    },
                ),
                documents,
            ),
            max_size=4,
        )
    )
    responses = draw(
        st.dictionaries(
            st.one_of(st.text(max_size=10).map(lambda t: f"utter_{t}"), st.text(max_size=5)),
            st.one_of(st.lists(st.fixed_dictionaries({}, optional={"text": documents})), documents),
            max_size=4,
        )
    )
    domain = {"intents": draw(documents), "responses": responses}
    encode = lambda text: text.encode("utf-8", "surrogatepass")  # noqa: E731
    return encode(_dump({"version": "3.1", "nlu": items})), encode(_dump(domain))


@BOUNDED
@given(files=rasa_files())
def test_any_rasa_files_import_or_give_import_file_error(files: tuple[bytes, bytes]) -> None:
    with folder() as tmp:
        (tmp / "nlu.yml").write_bytes(files[0])
        (tmp / "domain.yml").write_bytes(files[1])
        import_or_refuse("rasa", [tmp / "nlu.yml", tmp / "domain.yml"])
        import_or_refuse("rasa", [tmp / "nlu.yml"])


# Evaluation files -------------------------------------------------------------------------

case_lists = st.lists(
    st.one_of(st.fixed_dictionaries({}, optional={"q": documents, "expect": documents}), documents),
    max_size=5,
).map(lambda cases: _dump(cases).encode("utf-8", "surrogatepass"))


@BOUNDED
@example(content=NOT_UTF8, known=None)
@example(content=BAD_DATE, known=None)
@example(content=DEEP, known={"a"})
@given(content=st.one_of(any_file, case_lists), known=st.one_of(st.none(), st.just({"a", "b"})))
def test_any_evaluation_file_loads_or_gives_evaluation_file_error(
    content: bytes, known: set[str] | None
) -> None:
    with folder() as tmp:
        (tmp / "eval.yml").write_bytes(content)
        try:
            cases = load_cases(tmp / "eval.yml", known)
        except EvaluationFileError as exc:
            assert "eval.yml" in str(exc)
        else:
            assert all(c.question and c.expect and c.line >= 1 for c in cases)


# The crashes above, as the messages people get ----------------------------------------------


def flow_errors(flow: str, settings_text: str | None = None) -> list[str]:
    with folder() as bot:
        (bot / "faq.yml").write_text(flow, encoding="utf-8")
        if settings_text is not None:
            (bot / "bot.yml").write_text(settings_text, encoding="utf-8")
        try:
            load_bot(bot)
        except FlowError as exc:
            return [f"{Path(p.path).name}:{p.line}:{p.column}: {p.message}" for p in exc.problems]
    return []


def test_a_value_yaml_cannot_convert_is_reported_at_its_line() -> None:
    errors = flow_errors("intents:\n  - id: a\n    questions: [2024-13-45]\n    answer: x\n")
    assert errors == [
        "faq.yml:3:17: YAML syntax error: the value '2024-13-45' cannot be read "
        "(month must be in 1..12); check indentation, colons and quotes"
    ]


def test_nesting_deeper_than_any_bot_file_needs_is_reported_where_it_passes_the_bound() -> None:
    (error,) = flow_errors("intents:\n" + "  " + "- " * 1100 + "x\n")
    assert error.startswith("faq.yml:2:") and "nested more than 50 levels deep" in error


def test_a_line_opening_thousands_of_brackets_is_refused_at_once_not_scanned_for_seconds() -> None:
    started = time.monotonic()
    (error,) = flow_errors("intents:\n  - id: " + "[" * 3000 + "\n")
    assert time.monotonic() - started < 1  # ruamel's scanner took 12 s to reach its recursion limit
    assert (
        error
        == "faq.yml:2:59: YAML syntax error: nested more than 50 levels deep; check indentation, colons and quotes"
    )


def test_bot_yml_settings_of_the_wrong_shape_are_reported_not_crashed_on() -> None:
    errors = flow_errors(
        VALID_FLOW, "languages: [null]\nhandoff:\n  teams:\n    t:\n      closed_days: true\n"
    )
    assert [e.split(": ")[0] for e in errors] == ["bot.yml:1:13", "bot.yml:5:20"]
    assert "unknown language code 'None'" in errors[0]
    assert errors[1].endswith("closed_days must be a list of dates")


def test_an_evaluation_file_that_is_not_utf8_is_an_evaluation_file_error() -> None:
    with folder() as tmp:
        (tmp / "eval.yml").write_bytes(b"- q: caf\xe9\n  expect: a\n")
        try:
            load_cases(tmp / "eval.yml")
        except EvaluationFileError as exc:
            assert "eval.yml: the file is not UTF-8 text" in str(exc)
        else:
            raise AssertionError("no EvaluationFileError")
