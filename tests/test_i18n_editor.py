"""The editor's, admin's and conversation pages in Dutch for a Dutch manager or admin.

Every page renders in Dutch from the real catalogue (a msgstr whose placeholders
do not match its msgid would raise here), the menu and the scripts' words are
Dutch, and English stays the default for a browser that names no language.
Real app, real SQLite file, the Flask test client.
"""

# ruff: noqa: F811  (the editor's fixtures are imported, then named as parameters)
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.test_editor import PASSWORD, editor_app, login  # noqa: F401

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}
PAGES = [
    ("/editor/", "Nieuwe intent"),
    ("/editor/intent/new", "Voorbeeldvragen"),
    ("/editor/settings", "Hoe zeker de bot moet zijn"),
    ("/editor/history", "Elke opslag vanuit de editor"),
    ("/editor/transfer", "Formaat"),
    ("/editor/stats", "Drukste uren en weekdagen"),
    ("/editor/feedback", "Feedback: antwoorden die niet nuttig waren"),
    ("/editor/inbox", "Gemiste vragen waar nog niets op lijkt"),
    ("/editor/announcements/", "Nieuwe mededeling"),
    ("/conversations", "Zoek in wat leden schreven"),
    ("/admin/users", "Iemand uitnodigen"),
    ("/admin/teams", "Teams en kantooruren"),
    ("/admin/teams/new", "Kantooruren"),
]


@pytest.fixture
def dutch_admin(editor_app: Any) -> Any:
    accounts = editor_app.extensions["botbuilder"].accounts
    admin = accounts.set_password("admin@example.org", PASSWORD)
    accounts.set_preferences(admin.id, "nl", "Europe/Amsterdam", ("en", "nl"))
    client = editor_app.test_client()
    login(client, "admin@example.org")
    return client


@pytest.mark.parametrize(("path", "dutch"), PAGES)
def test_an_admin_who_chose_dutch_gets_every_editor_page_in_dutch(
    dutch_admin: Any, path: str, dutch: str
) -> None:
    page = dutch_admin.get(path, follow_redirects=True)
    assert page.status_code == 200, page.text[:500]
    assert '<html lang="nl">' in page.text
    assert dutch in page.text
    menu = page.text.split("</nav>", 1)[0]
    assert (
        ">Instellingen</a>" in menu and ">Geschiedenis</a>" in menu and "Mensen &amp; teams" in menu
    )
    assert "Uitloggen" in page.text and "Sign out" not in page.text


def test_the_editors_scripts_get_their_words_in_dutch(dutch_admin: Any) -> None:
    page = dutch_admin.get("/editor/").text
    words = json.loads(re.search(r'id="editor-text">(.*?)</script>', page, re.S).group(1))
    assert words["draft_restore"] == "Mijn wijzigingen terugzetten"
    assert words["then_team"] == "Zet daarna door naar team {team}."
    assert words["chart"]["member_messages"] == "Berichten van leden"


def test_the_dashboard_tables_and_weekdays_are_dutch(dutch_admin: Any) -> None:
    page = dutch_admin.get("/editor/stats").text
    assert "<caption>Drukste weekdagen: berichten van leden per dag van de week</caption>" in page
    assert '<th scope="row">maandag</th>' in page
    assert '<th scope="row">Gesprekken</th>' in page  # the summary's own words
    assert '<th scope="col">Dag</th>' in page  # the daily trend's first column
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert charts["weekdays"]["labels"][:2] == ["ma", "di"]


def test_a_manager_whose_browser_asks_for_dutch_gets_dutch_without_choosing(
    editor_app: Any,
) -> None:
    client = editor_app.test_client()
    login(client, "manager@example.org")
    page = client.get("/editor/settings", headers=DUTCH).text
    assert '<html lang="nl">' in page and "Instellingen opslaan" in page


def test_a_browser_that_names_no_language_gets_the_editor_in_english(editor_app: Any) -> None:
    client = editor_app.test_client()
    login(client, "manager@example.org")
    page = client.get("/editor/settings").text
    assert '<html lang="en">' in page and "Save settings" in page
    assert f"{PASSWORD}" not in page
