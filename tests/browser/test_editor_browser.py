"""The editor in a real browser against a real `botbuilder serve`: a manager logs in,
edits an answer, adds a phrasing, sees a validation error next to the field, tries the
unsaved version, saves, and the widget API answers with the new text; then restores
the old version from the history.

Fixtures live here (not in conftest.py): their own server with its own flows copy and
account, and their own Chromium, so the widget tests' session server stays untouched.
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

from tests.browser.csp import watch_csp
from tests.browser.helpers import watch_script_errors
from tests.servers import serve_with_account

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
EMAIL, PASSWORD = "manager@example.org", "fietsen zonder zijwieltjes"


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def chromium(browser: Any) -> Any:
    """The browser of tests/browser/conftest.py (skipped without Chromium, failing in CI)."""
    return browser


@pytest.fixture(scope="module")
def editor_server(
    chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """`botbuilder serve` on a free port with a copy of the small bot and one manager."""
    work = tmp_path_factory.mktemp("editor")
    flows = work / "flows"
    shutil.copytree(SMALL_BOT, flows)
    with serve_with_account(work, flows, EMAIL, PASSWORD, "manager") as url:
        yield url, flows


def _bot_says(url: str, question: str, expected: str, within: float = 2.0) -> str:
    """Ask through the widget API until the answer contains `expected` or time is up."""
    deadline = time.monotonic() + within
    while True:
        conversation = _post(f"{url}/api/v1/conversations", {"language": "nl"})["conversation_id"]
        turn = _post(f"{url}/api/v1/conversations/{conversation}/messages", {"text": question})
        text = turn["messages"][0]["text"] if turn["messages"] else ""
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_manager_edits_tries_saves_and_restores_in_the_browser(
    chromium: Any, editor_server: tuple[str, Path]
) -> None:
    url, flows = editor_server
    context = chromium.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp(page)  # the strict CSP must not block anything the editor does
    errors = watch_script_errors(page)

    # Log in: the editor sends people to the login page first.
    page.goto(f"{url}/editor/")
    assert "/login" in page.url
    _shot(page, "editor-login-laptop")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/")
    assert page.locator("table.intents").first.is_visible()
    _shot(page, "editor-intents-laptop")

    # Open the Dutch 'contributie' intent.
    page.click("tr:has(code:text-is('contributie')) td >> nth=0 >> a")
    page.wait_for_selector("#intent-form")
    assert page.input_value("#intent-id") == "contributie"

    # Edit the answer with the toolbar; the preview shows what the member will see.
    page.fill("#answer", "De contributie is 30 euro per jaar. ")
    page.press("#answer", "End")
    page.click("[data-md=bold]")
    page.wait_for_selector("#answer-preview strong")
    assert page.inner_text("#answer-preview strong") == "vet"
    page.fill("#answer", "De contributie is **30 euro** per jaar.")
    page.locator("#answer-preview strong", has_text="30 euro").wait_for()

    # Add a phrasing.
    page.click("#add-question")
    page.locator("#questions input[name=questions]").last.fill(
        "Wat kost een jaar lid zijn bij jullie?"
    )

    # A button with a link that is not allowed: the error appears next to that button.
    page.click("button[data-add=buttons]")
    row = page.locator("#buttons .button-row").last
    row.locator("input[name=button_label]").fill("Betalen")
    row.locator("select[name=button_kind]").select_option("url")
    row.locator("input[name=button_url]").fill("ftp://example.org/betalen")
    page.click("#save")
    problem = page.locator('.field-problem[data-field="button-0"]')
    problem.wait_for()
    assert "must start with https://" in problem.inner_text()
    assert page.input_value("#answer") == "De contributie is **30 euro** per jaar."
    assert "Wat kost een jaar lid zijn bij jullie?" in [
        q.input_value() for q in page.locator("#questions input[name=questions]").all()
    ]
    assert "30 euro" not in (flows / "faq.yml").read_text()  # nothing written
    _shot(page, "editor-validation-error-laptop")

    # Fix it, then try the unsaved version.
    page.locator("#buttons .button-row").last.locator("input[name=button_url]").fill(
        "https://example.org/betalen"
    )
    page.fill("#try-question", "wat kost een jaar lid zijn bij jullie")
    page.click("#try-form button")
    page.wait_for_selector("#try-result .bubble strong")
    assert page.inner_text("#try-result .decision") == "Answers"
    assert "30 euro" in page.inner_text("#try-result .bubble")
    assert page.locator("#try-result .chips span").first.inner_text() == "Betalen"
    _shot(page, "editor-try-it-laptop")

    # Save: written, and the widget API answers with the new text within 2 seconds.
    page.click("#save")
    page.wait_for_selector(".banner.ok")
    assert "Saved 'contributie'" in page.inner_text(".banner.ok")
    saved = time.monotonic()
    answer = _bot_says(url, "Wat is de contributie?", "30 euro")
    assert answer == "De contributie is **30 euro** per jaar.", answer
    assert time.monotonic() - saved < 2.5
    assert "- Wat kost een jaar lid zijn bij jullie?" in (flows / "faq.yml").read_text()

    page.set_viewport_size(TABLET)
    _shot(page, "editor-intent-tablet")
    page.goto(f"{url}/editor/")
    _shot(page, "editor-intents-tablet")

    # Restore the version as it was on disk before the edit.
    page.goto(f"{url}/editor/history")
    _shot(page, "editor-history-tablet")
    page.click("a:text('as found on disk before this edit')")
    page.wait_for_selector("#restore")
    assert page.locator(".diff .remove").count() > 0
    assert page.locator(".intent-change code", has_text="contributie").count() > 0
    page.set_viewport_size(LAPTOP)
    _shot(page, "editor-version-laptop")
    page.click("#restore")
    page.wait_for_selector(".banner.ok")
    assert "Restored version" in page.inner_text(".banner.ok")
    answer = _bot_says(url, "Wat is de contributie?", "25 euro")
    assert answer == "De contributie is 25 euro per jaar.", answer
    assert (flows / "faq.yml").read_text() == (SMALL_BOT / "faq.yml").read_text()

    assert not errors, errors
    assert not violations, violations
    context.close()


def test_agent_cannot_open_the_editor_and_a_bad_password_is_refused(
    chromium: Any, editor_server: tuple[str, Path]
) -> None:
    url, _ = editor_server
    context = chromium.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", "wrong password here")
    page.click("button[type=submit]")
    assert "do not match" in page.inner_text("[role=alert]")
    assert page.input_value("#email") == EMAIL
    _shot(page, "editor-login-refused-tablet")
    context.close()
