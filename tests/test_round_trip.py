"""Flow files parsed for editing (editing/round_trip.py): written back unchanged, parsed once."""

from __future__ import annotations

from botbuilder.content.files import dump_yaml, round_trip_yaml
from botbuilder.editing import round_trip
from botbuilder.editing.round_trip import load_round_trip

FILE = """\
language: en
# opening hours
intents:
    - id: hours # the club house
      questions:
          - When are you open?
          - 'Opening hours'
      answer: |
          Monday to Friday, 9 to 17.
      buttons:
          - {title: Contact, goto: contact}
"""


def test_a_file_indented_another_way_is_written_back_unchanged_and_keeps_its_indentation() -> None:
    yaml, data = load_round_trip(FILE)
    assert dump_yaml(data, yaml) == FILE
    data["intents"][0]["questions"].append("When is the club house open?")
    changed = dump_yaml(data, yaml)
    assert changed == FILE.replace(
        "'Opening hours'\n", "'Opening hours'\n          - When is the club house open?\n"
    )


def test_a_file_no_indentation_writes_back_is_written_in_the_projects_own() -> None:
    wrapped = "intents:\n- id: a\n  questions: [one,\n    two]\n  answer: x\n"
    yaml, data = load_round_trip(wrapped)
    assert (yaml.map_indent, yaml.sequence_indent, yaml.sequence_dash_offset) == (2, 4, 2)
    assert dump_yaml(data, yaml) == dump_yaml(data, round_trip_yaml())


def test_a_text_parsed_again_is_a_copy_of_the_first_parse_not_the_same_tree() -> None:
    text = FILE.replace("hours", "hours_again")  # not parsed by another test
    first = load_round_trip(text)[1]
    assert text in round_trip._parsed  # kept: the save that follows a page reads it from memory
    first["intents"][0]["id"] = "changed"
    yaml, second = load_round_trip(text)
    assert second["intents"][0]["id"] == "hours_again"
    assert dump_yaml(second, yaml) == text
    assert second["intents"][0].lc.line == 3  # line numbers survive the copy (messages use them)
