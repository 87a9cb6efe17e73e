"""`check`'s advice reaches a Dutch manager in Dutch: the warnings about thin,
alike or off-tone intents are marked templates with their values apart
(`errors.Message`), the editor translates them, and `botbuilder check` keeps
printing the English text. Flask test client and click's CliRunner on real
files, a real SQLite file."""

from __future__ import annotations

import pickle
import re
import shutil
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.advice import advise
from botbuilder.content.loader import load_bot
from botbuilder.errors import N_, Message
from botbuilder.server.i18n import translations_folder
from tests.conftest import SMALL_BOT
from tests.test_editor import editor_app, intent_form, login  # noqa: F401 (a fixture)

THIN_IN_A_JE_BOT = """\
language: nl
intents:
  - id: fietsenstalling
    questions: [Waar kan ik mijn fiets stallen?, fietsenstalling]
    answer: Stalt u uw fiets achter het clubhuis.
"""


@pytest.fixture
def bot_dir(tmp_path: Path) -> Path:
    """The small test bot, saying 'je' to its members (bot.yml tone.address)."""
    target = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, target)
    with (target / "bot.yml").open("a", encoding="utf-8") as settings:
        settings.write("tone:\n  address: je\n")
    return target


def dutch_client(app: Any, email: str) -> Any:
    """A test client signed in as `email`, whose pages are in Dutch; its CSRF token in `.csrf`."""
    accounts = app.extensions["botbuilder"].accounts
    user = next(u for u in accounts.users() if u.email == email)
    accounts.set_preferences(user.id, "nl", None, ("en", "nl"))
    client = app.test_client()
    client.csrf = login(client, email)
    return client


def dutch_manager(app: Any) -> Any:
    return dutch_client(app, "manager@example.org")


def new_intent(client: Any, **fields: Any) -> Any:
    form = {
        "csrf_token": client.csrf,
        "file": "faq.yml",
        "original_id": "",
        "revision": "",
        "id": "fietsenstalling",
        "questions": ["Waar kan ik mijn fiets stallen?", "fietsenstalling", ""],
        "answer": "Je zet je fiets achter het clubhuis.",
        "handoff_mode": "none",
        **fields,
    }
    return client.post("/editor/intent", data=form)


def test_a_dutch_manager_reads_the_advice_on_a_thin_off_tone_intent_in_dutch(
    editor_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    manager = dutch_manager(editor_app)
    advised = new_intent(manager, answer="Stalt u uw fiets achter het clubhuis.")
    assert advised.status_code == 422
    text = advised.text
    assert "intent &#39;fietsenstalling&#39; heeft 2 voorbeeldvragen; met 4 of meer" in text
    # A marked value inside the warning ('u' and 'uw') is translated too.
    assert (
        "het antwoord van &#39;fietsenstalling&#39; zegt &#39;u&#39;, maar deze bot zegt "
        "&#39;je&#39; (tone.address in bot.yml); herschrijf &#39;u&#39; en &#39;uw&#39;"
    ) in text
    assert "example questions" not in text and "but this bot says" not in text
    assert 'name="save_anyway" value="1"' in text
    assert "fietsenstalling" not in (bot_dir / "faq.yml").read_text(encoding="utf-8")


def test_a_dutch_manager_reads_why_the_editor_did_not_save_next_to_the_field_in_dutch(
    editor_app: Any,  # noqa: F811
) -> None:
    manager = dutch_manager(editor_app)
    refused = new_intent(
        manager,
        questions=["Waar kan ik mijn fiets stallen?", "fietsenstalling", "stalling", "fiets kwijt"],
        answer="",
        button_label=["Termijn"],
        button_kind=["goto"],
        button_goto=["opzegtermjn"],
        button_url=[""],
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "intent 'fietsenstalling' heeft geen 'answer'; voeg 'answer: …' toe" in text
    assert (
        "knop 'goto: opzegtermjn' noemt geen bestaande intent (bedoel je 'opzegtermijn'?)" in text
    )
    assert "has no 'answer'" not in text and "names no intent" not in text
    # The place in the file stays in front, as `botbuilder check` prints it.
    assert re.search(r"faq\.yml:\d+:\d+: knop 'goto: opzegtermjn'", text)


def test_a_dutch_manager_reads_why_the_settings_were_not_saved_in_dutch(
    editor_app: Any,  # noqa: F811
) -> None:
    manager = dutch_manager(editor_app)
    page = manager.get("/editor/settings").text
    revision = re.search(r'name="revision" value="([^"]*)"', page)
    assert revision is not None
    refused = manager.post(
        "/editor/settings",
        data={
            "csrf_token": manager.csrf,
            "revision": revision.group(1),
            "greeting_nl": "Hallo! Wat wil je weten?",
            "greeting_en": "Hi! How can I help?",
            "answer_threshold": "0.4",
            "clarify_threshold": "0.6",
            "widget_title": "Vraag het ons",
            "widget_color": "groen",
        },
    )
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert (
        "clarify_threshold (0.6) ligt boven answer_threshold (0.4); hij moet lager of gelijk zijn"
    ) in text
    assert "color 'groen' moet een hexadecimale kleur zijn zoals \"#0b6e4f\"" in text
    assert "must be lower or equal" not in text and "must be a hex colour" not in text


def test_an_english_manager_still_reads_the_advice_in_english(
    editor_app: Any,  # noqa: F811
) -> None:
    client = editor_app.test_client()
    client.csrf = login(client, "manager@example.org")
    advised = new_intent(client, answer="Stalt u uw fiets achter het clubhuis.")
    assert advised.status_code == 422
    assert "intent &#39;fietsenstalling&#39; has 2 example questions; 4 or more" in advised.text
    assert "rewrite &#39;u&#39; and &#39;uw&#39;" in advised.text


def test_check_prints_its_advice_in_english_and_keeps_the_parts_for_the_pages(
    tmp_path: Path,
) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "bot.yml").write_text("language: nl\ntone:\n  address: je\n", encoding="utf-8")
    (bot / "faq.yml").write_text(THIN_IN_A_JE_BOT, encoding="utf-8")
    result = CliRunner(env={"LANG": "nl_NL.UTF-8", "LANGUAGE": "nl"}).invoke(
        main, ["check", str(bot)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "faq.yml:3:5: warning: intent 'fietsenstalling' has 2 example questions; 4 or more, "
        "phrased differently, make matching much better"
    ) in [line[line.index("faq.yml") :] for line in lines if "faq.yml" in line]
    assert any(
        line.endswith(
            "warning: the answer of 'fietsenstalling' says 'u' but this bot says 'je' "
            "(tone.address in bot.yml); rewrite 'u' and 'uw'"
        )
        for line in lines
    )
    # Every warning keeps its marked template, and the Dutch catalogue translates each one.
    with (translations_folder() / "nl" / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        dutch = read_mo(mo)
    warnings = [p.message for p in advise(load_bot(bot))]
    assert warnings and all(isinstance(w, Message) for w in warnings)
    assert all(dutch.get(w.template) is not None and dutch[w.template].string for w in warnings)


def test_a_message_is_its_english_text_for_logs_and_survives_a_pickle() -> None:
    message = Message(
        N_("intent '%(intent)s' has %(count)s example questions"), intent="x", count=2
    )
    assert message == "intent 'x' has 2 example questions"
    assert f"faq.yml:3:5: {message}" == "faq.yml:3:5: intent 'x' has 2 example questions"
    again = pickle.loads(pickle.dumps(message))
    assert again == message and again.template == message.template
    assert again.params == {"intent": "x", "count": 2}


def test_a_dutch_admin_reads_what_is_wrong_with_a_team_next_to_its_field_in_dutch(
    editor_app: Any,  # noqa: F811
) -> None:
    client = dutch_client(editor_app, "admin@example.org")
    data: dict[str, Any] = {
        "csrf_token": client.csrf,
        "name": "week end",
        "timezone": "Europe/Atlantis",
    }
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data.update({f"{day}_from": "", f"{day}_to": "", f"{day}_more": ""})
    data.update({"sat_from": "16:00", "sat_to": "10:00", "closed_days": ["", ""]})
    refused = client.post("/admin/teams/new", data=data)
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "bot.yml: een teamnaam heeft 1 tot 40 letters, cijfers, - of _, bijv. 'weekend'" in text
    assert "bot.yml: sat: '16:00-10:00' is geen van-tot, bijv. 09:00-17:00" in text
    assert "bot.yml: onbekende tijdzone 'Europe/Atlantis'; bijv. Europe/Amsterdam" in text
    assert "a team name has" not in text and "unknown time zone" not in text
    kept = client.post("/admin/teams/leden/delete", data={"csrf_token": client.csrf})
    assert kept.status_code == 422
    assert "team 'leden' is het standaardteam; kies eerst een ander standaardteam" in unescape(
        kept.text
    )


def test_a_dutch_manager_reads_in_dutch_why_an_intent_a_button_goes_to_was_not_deleted(
    editor_app: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    manager = dutch_manager(editor_app)

    def delete(file: str) -> Any:
        form = intent_form(manager, file, "opzegtermijn")
        fields = ("csrf_token", "file", "original_id", "revision")
        return manager.post("/editor/intent/delete", data={k: form[k] for k in fields})

    assert delete("faq_en.yml").status_code == 302  # the Dutch one still answers the buttons
    refused = delete("faq.yml")
    assert refused.status_code == 409
    text = unescape(refused.text)
    assert "'opzegtermijn' is niet verwijderd:" in text
    assert "knop 'goto: opzegtermijn' noemt geen bestaande intent" in text
    assert "was not deleted" not in text and "names no intent" not in text
    assert "id: opzegtermijn" in (bot_dir / "faq.yml").read_text(encoding="utf-8")
