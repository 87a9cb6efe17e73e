"""People and teams in a real browser against a real `botbuilder serve`: an admin invites
a colleague (without mail, the one-time link shown once lets them choose a password, and
it signs in; History lists the invitation), adds a team "weekend" open all week,
makes it the default team, and a member's handoff through /api/v1 waits in its queue;
then the admin closes the team today with closed days, and the next handoff gets the
offline message. No CSP violation, no script error, no serious axe-core violation.

Fixtures live here, like test_editor_browser.py's: a server with its own flows copy
and admin account, so the session server of the widget tests stays untouched.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.accessibility import axe_violations
from tests.browser.csp import watch_csp
from tests.browser.helpers import screenshot, watch_script_errors
from tests.servers import serve_with_account

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
LAPTOP = {"width": 1366, "height": 900}
EMAIL, PASSWORD = "admin@example.org", "fietsen zonder zijwieltjes"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFLINE = "We zijn er weer op maandag om 9:00"  # the small bot's offline message
QUEUED = "Je bent nummer"  # the place in the queue, said only while the team is open


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


def _handoff_says(url: str, expected: str, within: float = 3.0) -> str:
    """A member asks for a person through the widget API until the reply has `expected`."""
    deadline = time.monotonic() + within
    while True:
        conversation = _post(f"{url}/api/v1/conversations", {"language": "nl"})["conversation_id"]
        turn = _post(
            f"{url}/api/v1/conversations/{conversation}/messages",
            {"text": "ik wil een medewerker spreken"},
        )
        assert turn["decision"] == "handoff", turn
        text = " ".join(m["text"] for m in turn["messages"])
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


@pytest.fixture(scope="module")
def admin_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`botbuilder serve` on a free port with a copy of the small bot and one admin."""
    work = tmp_path_factory.mktemp("admin")
    flows = work / "flows"
    shutil.copytree(SMALL_BOT, flows)
    with serve_with_account(work, flows, EMAIL, PASSWORD, "admin") as url:
        yield url


def _page(browser: Any) -> tuple[Any, Any, list[str], list[str]]:
    # This admin's browser asks for English (the staff pages follow it; Dutch pages are
    # tested in test_i18n_editor.py and test_i18n_browser.py).
    context = browser.new_context(viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp(page)
    errors = watch_script_errors(page)
    return context, page, violations, errors


def _sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def test_an_admin_adds_a_team_with_hours_and_the_bots_handoffs_use_them(
    browser: Any, admin_server: str
) -> None:
    url = admin_server
    context, page, violations, errors = _page(browser)

    # Sign in; the menu has People & teams for an admin.
    page.goto(f"{url}/admin/teams")
    assert "/login" in page.url
    _sign_in(page, url, EMAIL, PASSWORD)
    page.goto(f"{url}/editor/")
    page.get_by_role("link", name="People & teams").click()
    page.wait_for_url(f"{url}/admin/users")

    # Invite a colleague: without mail the one-time link is shown; they choose a password.
    page.fill("#invite-email", "agent@example.org")
    page.select_option("#invite-role", "agent")
    page.click("form[aria-labelledby=invite] button[type=submit]")
    link = page.inner_text("#password-link code.link")
    assert link.startswith(f"{url}/password/")
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, "admin-users")
    colleague = browser.new_context(viewport=LAPTOP)
    other = colleague.new_page()
    other_violations = watch_csp(other)
    other.goto(link)
    other.wait_for_url(f"{url}/password")
    other.fill("#new-password", "drie fietsen op het dak")
    other.fill("#confirm-password", "drie fietsen op het dak")
    assert not axe_violations(other), axe_violations(other)
    screenshot(other, "choose-password")
    other.click("button[type=submit]")
    other.locator("#password-set").wait_for()
    _sign_in(other, url, "agent@example.org", "drie fietsen op het dak")
    assert "/console" in other.url
    colleague.close()
    assert not other_violations, other_violations

    # History has the invitation and the chosen password, for admins.
    page.goto(f"{url}/editor/history#account-changes")
    changes = page.locator("table.account-changes")
    assert "invited as agent" in changes.inner_text()
    assert "chose a password with their link" in changes.inner_text()
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, "history-account-changes")
    page.goto(f"{url}/admin/users")

    # Add the team "weekend", open all week (to 00:00 is midnight).
    page.get_by_role("link", name="Teams and office hours").click()
    page.click("#add-team")
    page.fill("#team-name", "weekend")
    for day in DAYS:
        page.fill(f"#{day}_from", "00:00")
        page.fill(f"#{day}_to", "00:00")
    page.select_option("#timezone", "Europe/Amsterdam")
    assert not axe_violations(page), axe_violations(page)
    page.click("#save-team")
    page.wait_for_url(f"{url}/admin/teams")
    row = page.locator("tr[data-team=weekend]")
    assert "mon-sun 00:00-24:00" in row.inner_text()

    # Make it the default team: a member who asks for a person waits in its queue.
    page.select_option("#default_team", "weekend")
    page.click("#default-form button[type=submit]")
    page.wait_for_url(f"{url}/admin/teams")
    assert "default" in page.locator("tr[data-team=weekend]").inner_text()
    opened = _handoff_says(url, QUEUED)
    assert QUEUED in opened and OFFLINE not in opened

    # Closed today (and the days around it, so midnight cannot change the outcome).
    page.locator("tr[data-team=weekend] a", has_text="weekend").click()
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    for i, offset in enumerate((-1, 0, 1), start=1):
        if page.locator(f"#closed-{i}").count() == 0:
            break
        page.fill(f"#closed-{i}", str(today + timedelta(days=offset)))
    page.click("#save-team")
    page.wait_for_url(f"{url}/admin/teams")
    assert str(today) in page.locator("tr[data-team=weekend]").inner_text()
    closed = _handoff_says(url, OFFLINE)
    assert OFFLINE in closed and QUEUED not in closed
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, "admin-teams")

    # Hours without an end are shown next to their day; nothing is saved.
    page.goto(f"{url}/admin/teams/weekend/edit")
    page.fill("#mon_to", "")
    page.click("#save-team")
    problem = page.locator('.field-problem[data-field="hours-mon"]')
    problem.wait_for()
    assert "is not from-to" in problem.inner_text()

    context.close()
    assert not violations, violations
    assert not errors, errors
