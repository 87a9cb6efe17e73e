"""The dashboard and the 👎 review in real Chromium, against a real `botbuilder serve`.

Members' conversations go through the widget API; then a manager signs in,
opens the dashboard from the menu and sees every chart drawn by the vendored
Chart.js (pixels on each canvas) next to its table, under the staff pages'
strict Content-Security-Policy (any violation fails the test), and opens the
feedback review. Then the example bot on 2,000 generated conversations
(benchmarks.generated_db) over half a year: the charts, the trend per week,
and the review's pages. Screenshots in test-output/screenshots/: dashboard.png,
dashboard-top.png, dashboard-feedback.png, dashboard-busy.png (of which
docs/img/dashboard.png in the README is a copy) and dashboard-busy-full.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.csp import watch_csp
from tests.browser.helpers import watch_script_errors
from tests.browser.test_editor_browser import (  # noqa: F401  (fixtures)
    EMAIL,
    PASSWORD,
    chromium,
    editor_server,
)
from tests.servers import free_port, stop, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
CHARTS = ("decisions", "trend", "intents", "feedback", "handoffs", "hours", "weekdays")
QUESTIONS = [
    ("Hoe zeg ik mijn lidmaatschap op?", True),
    ("Wat is de contributie?", False),
    ("Hoeveel kost het lidmaatschap?", False),
    ("Wat is de contributie?", True),
    ("Ik ben mijn wachtwoord vergeten", True),
    ("Ik kan niet inloggen", False),
    ("Wanneer is de volgende activiteit?", None),
    ("ik wil een medewerker", None),
    ("Hoe zeg ik mijn lidmaatschap op?", None),
]

# Whether a canvas has any painted pixel: a chart that failed to draw is blank.
_PAINTED = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}"""


def _members_ask(request: Any, url: str) -> int:
    """Send QUESTIONS through the widget API, rating the first answer; the 👎 given."""
    thumbs_down = 0
    for text, helpful in QUESTIONS:
        started = request.post(f"{url}/api/v1/conversations", data={"language": "nl"}).json()
        conversation = started["conversation_id"]
        turn = request.post(
            f"{url}/api/v1/conversations/{conversation}/messages", data={"text": text}
        ).json()
        if helpful is not None and turn["messages"]:
            request.post(
                f"{url}/api/v1/conversations/{conversation}/feedback",
                data={"message_id": turn["messages"][0]["id"], "helpful": helpful},
            )
            thumbs_down += not helpful
    return thumbs_down


def test_manager_sees_the_dashboard_charts_and_tables_and_the_feedback_review(
    chromium: Any,  # noqa: F811
    editor_server: tuple[str, Path],  # noqa: F811
) -> None:
    url, _flows = editor_server
    context = chromium.new_context(viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(15_000)
    thumbs_down = _members_ask(context.request, url)
    page = context.new_page()
    violations = watch_csp(page)
    errors = watch_script_errors(page)

    page.goto(f"{url}/editor/stats")
    assert "/login" in page.url
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/stats")

    # Every chart is drawn: the script marked it, and its canvas has pixels on it.
    for name in CHARTS:
        canvas = page.locator(f"canvas[data-chart={name}][data-drawn=true]")
        canvas.wait_for()
        assert canvas.evaluate(_PAINTED), f"the {name} chart is blank"
        box = canvas.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, name
    assert page.inner_text("#tile-conversations") == str(len(QUESTIONS))
    assert page.locator("#table-summary").is_visible()
    assert page.locator("#table-intents").is_visible()
    intents = page.locator("#table-intents tbody th").all_inner_texts()
    assert "contributie" in intents and "opzeggen" in intents
    assert page.locator("#table-handoffs").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    top = {"x": 0, "y": 0, "width": LAPTOP["width"], "height": 1300}
    page.screenshot(path=str(SCREENSHOTS / "dashboard-top.png"), full_page=True, clip=top)
    assert not page.locator("#table-trend").is_visible()  # long tables wait behind a summary
    page.click("#h-trend ~ details summary")
    assert page.locator("#table-trend").is_visible()

    # A narrower period from the form: the charts draw again.
    page.fill("#since", "2020-01-01")
    page.fill("#until", "2020-01-31")
    page.click(".period button[type=submit]")
    page.wait_for_url("**/editor/stats?since=2020-01-01&until=2020-01-31*")
    assert page.inner_text("#tile-conversations") == "0"
    page.locator("canvas[data-chart=trend][data-drawn=true]").wait_for()

    # The feedback review from the menu.
    page.click("nav >> text=Feedback")
    page.wait_for_url(f"{url}/editor/feedback")
    assert page.locator(".thumbs-down-item").count() == thumbs_down
    assert (
        page.locator("#feedback-groups caption")
        .inner_text()
        .startswith(f"{thumbs_down} × not helpful")
    )
    first = page.locator(".feedback-group h2").first.inner_text()
    assert "contributie" in first  # the intent with the most 👎 comes first
    page.screenshot(path=str(SCREENSHOTS / "dashboard-feedback.png"), full_page=True)

    # Each one opens its conversation's transcript at the rated answer.
    link = page.locator(".thumbs-down-item a", has_text="Open the conversation").first
    anchor = link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_url(f"**/conversations/*#{anchor}")
    assert page.locator(f"#{anchor}").is_visible()

    context.close()
    assert not violations, violations
    assert not errors, errors


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`botbuilder serve` of the example bot on 2,000 generated conversations over half a year."""
    from benchmarks.generated_db import generated_database, generated_url
    from botbuilder.accounts import Accounts
    from botbuilder.conversations.store import Storage

    work = tmp_path_factory.mktemp("busy")
    database = work / "busy.sqlite"
    shutil.copy(generated_database(2_000), database)
    storage = Storage(generated_url(database))
    Accounts(storage).add(EMAIL, PASSWORD, "manager")
    storage.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BOTBUILDER_DATABASE_URL": generated_url(database)}
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "botbuilder.cli",
                "serve",
                str(ROOT / "flows"),
                "--port",
                str(port),
                "--instance",
                str(work / "instance"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
        )
    try:
        # The example bot's index is built at start: slow on a busy 2-core machine.
        wait_until_healthy(url + "/health", process, log_path, timeout=300)
        yield url
    finally:
        stop(process)


def test_dashboard_of_a_busy_half_year_draws_and_pages_through_the_feedback(
    chromium: Any,  # noqa: F811
    busy_server: str,
) -> None:
    url = busy_server
    context = chromium.new_context(viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(20_000)
    page = context.new_page()
    violations = watch_csp(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/login?next=/editor/stats")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/stats")
    for name in CHARTS:
        canvas = page.locator(f"canvas[data-chart={name}][data-drawn=true]")
        canvas.wait_for()
        assert canvas.evaluate(_PAINTED), f"the {name} chart is blank"
    assert int(page.inner_text("#tile-conversations")) > 100
    top = {"x": 0, "y": 0, "width": LAPTOP["width"], "height": 1300}
    page.screenshot(path=str(SCREENSHOTS / "dashboard-busy.png"), full_page=True, clip=top)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-busy-full.png"), full_page=True)

    # Half a year: the trend turns to weeks.
    since = date.today() - timedelta(days=179)
    page.goto(f"{url}/editor/stats?since={since}")
    assert page.inner_text("#h-trend") == "Trend per week"
    page.locator("canvas[data-chart=trend][data-drawn=true]").wait_for()
    page.goto(f"{url}/editor/feedback?since={since}")
    assert page.locator(".thumbs-down-item").count() == 50
    page.click("a[rel=next]")
    page.wait_for_url("**/editor/feedback?page=2*")
    assert page.locator(".thumbs-down-item").count() > 0
    context.close()
    assert not violations, violations
    assert not errors, errors
