"""The dashboard and the 👎 review in real Chromium, against a real `botbuilder serve`.

Members' conversations go through the widget API; then a manager signs in,
opens the dashboard from the menu and sees every chart drawn by the vendored
Chart.js (pixels on each canvas) next to its table, under the staff pages'
strict Content-Security-Policy (any violation fails the test), and opens the
feedback review. Screenshots: test-output/screenshots/dashboard.png (and its
top, dashboard-top.png, of which docs/img/dashboard.png in the README is a copy)
and dashboard-feedback.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.csp import watch_csp
from tests.browser.test_editor_browser import (  # noqa: F401  (fixtures)
    EMAIL,
    PASSWORD,
    chromium,
    editor_server,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
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
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )

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
