"""The gap inbox in a real browser against a real `botbuilder serve` (issue 12's done-when):
members ask about a topic the bot has no answer for, through /api/v1; a manager opens the
inbox, accepts the suggestion made from their questions, lands in the editor prefilled,
writes the answer and saves; the member's next question on that topic is answered
(through /api/v1), and the suggestion has left the inbox. Then the conversations browser.

Its own server (a copy of the small bot, one manager), so the session server of the
widget tests never learns the new intent. Fails on any CSP violation or script error, and
on serious or critical accessibility violations (axe-core) in the inbox and a transcript.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.browser.accessibility import axe_violations
from tests.browser.csp import watch_csp
from tests.browser.helpers import screenshot
from tests.servers import serve_with_account
from tests.test_gaps import TOPICS

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
LAPTOP = {"width": 1366, "height": 900}
EMAIL, PASSWORD = "manager@example.org", "een route voor de garmin graag"
ANSWER = "Alle GPX-bestanden van de clubritten staan op **example.org/routes**."


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)  # type: ignore[no-any-return]


def _ask(url: str, text: str) -> dict[str, Any]:
    """A member asks `text` in a new conversation; 👎 after an answer, a person after
    "Bedoelde je…?", as members who did not get what they wanted do."""
    conversation = _post(f"{url}/api/v1/conversations", {"language": "nl"})["conversation_id"]
    messages = f"{url}/api/v1/conversations/{conversation}/messages"
    turn = _post(messages, {"text": text})
    if turn["decision"] == "answer":
        body = {"message_id": turn["messages"][0]["id"], "helpful": False}
        _post(f"{url}/api/v1/conversations/{conversation}/feedback", body)
    elif turn["decision"] == "clarify":
        _post(messages, {"text": "ik wil een medewerker spreken"})
    return turn


@pytest.fixture(scope="module")
def inbox_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`botbuilder serve` on a free port with a copy of the small bot and one manager."""
    work = tmp_path_factory.mktemp("inbox")
    flows = work / "flows"
    shutil.copytree(SMALL_BOT, flows)
    settings = yaml.safe_load((flows / "bot.yml").read_text(encoding="utf-8"))
    settings["limits"] = {"handoffs_per_ip": "1000/hour"}  # every member here is 127.0.0.1
    (flows / "bot.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    with serve_with_account(work, flows, EMAIL, PASSWORD, "manager") as url:
        yield url


def _answered(url: str, question: str, expected: str, within: float = 3.0) -> dict[str, Any]:
    """The first turn within `within` seconds whose answer contains `expected` (others reload
    the files within a second), else the last turn."""
    deadline = time.monotonic() + within
    while True:
        conversation = _post(f"{url}/api/v1/conversations", {"language": "nl"})["conversation_id"]
        turn = _post(f"{url}/api/v1/conversations/{conversation}/messages", {"text": question})
        said = turn["messages"][0]["text"] if turn["messages"] else ""
        if expected in said or time.monotonic() > deadline:
            return turn
        time.sleep(0.2)


def test_manager_accepts_a_suggestion_saves_it_and_members_get_the_answer(
    browser: Any, inbox_server: str
) -> None:
    url = inbox_server
    for text in TOPICS["gpx"]:
        _ask(url, text)

    context = browser.new_context(viewport=LAPTOP, locale="nl-NL")
    context.set_default_timeout(30_000)  # the first inbox view encodes and groups the questions
    page = context.new_page()
    violations = watch_csp(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{url}/editor/inbox")
    assert "/login" in page.url
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/inbox")
    gpx = page.locator("article.suggestion", has_text="gpx").first
    gpx.wait_for()
    suggestion_id = (gpx.get_attribute("id") or "").removeprefix("suggestion-")
    kind = gpx.get_attribute("data-kind")
    assert suggestion_id and kind in ("new_intent", "add_phrasings")
    screenshot(page, "inbox")
    assert axe_violations(page) == []  # WCAG 2.1 AA: nothing serious or critical

    # Accept: the editor opens with the members' questions in the form, not saved.
    gpx.locator("button[data-accept]").click()
    page.wait_for_selector("#intent-form")
    assert "/editor/intent" in page.url
    # The manager's browser asks for Dutch (nl-NL), so the editor speaks Dutch.
    assert "Nog niet opgeslagen." in page.inner_text("#from-inbox")
    intent_id = page.input_value("#intent-id")
    assert intent_id
    questions = [q.input_value() for q in page.locator("#questions input[name=questions]").all()]
    handed_over = [q for q in TOPICS["gpx"] if q in questions]
    assert len(handed_over) >= 3, questions
    if kind == "new_intent":
        assert page.input_value("#answer") == ""
        page.fill("#answer", ANSWER)
    expected = page.input_value("#answer").split("**")[0][:20]
    screenshot(page, "inbox-accepted-editor")

    # Save (past any advice check gives), then the bot answers the topic.
    page.click("#save")
    if page.locator("#save-anyway").count():
        page.click("#save-anyway")
    page.wait_for_selector(".banner.ok")
    assert f"'{intent_id}' opgeslagen" in page.inner_text(".banner.ok")
    question = handed_over[0].capitalize().rstrip("?") + "?"
    turn = _answered(url, question, expected)
    assert turn["decision"] == "answer", turn
    assert expected in turn["messages"][0]["text"]

    # The suggestion has left the inbox: not new, not waiting as accepted.
    for state in ("new", "accepted"):
        page.goto(f"{url}/editor/inbox?state={state}")
        assert page.locator(f"#suggestion-{suggestion_id}").count() == 0, state

    # The conversations browser: the members' questions, newest first; one transcript.
    page.goto(f"{url}/conversations?q=gpx")
    rows = page.locator("#conversations tbody tr")
    assert rows.count() >= sum("gpx" in q.lower() for q in TOPICS["gpx"])
    screenshot(page, "conversations")
    rows.first.locator("a").first.click()
    page.wait_for_selector("#transcript")
    assert page.locator("#transcript .decision").count() >= 1
    screenshot(page, "conversation-transcript")
    assert axe_violations(page) == []

    context.close()
    assert not violations, violations
    assert not errors, errors
