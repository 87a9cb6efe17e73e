"""The editor's top bar on a laptop, in Dutch: every menu entry on one line, and the
account's address, role, preferences and sign-out in one menu that opens from the
address. Real Chromium against a real `botbuilder serve`, as an admin (the longest
menu); no CSP violation, no script error, no serious axe-core violation.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import axe_violations
from tests.browser.csp import watch_csp
from tests.browser.helpers import screenshot, watch_script_errors
from tests.servers import serve_with_account

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
EMAIL, PASSWORD = "beheer.vereniging@example.org", "een lange zin als wachtwoord"


@pytest.fixture(scope="module")
def admin_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("topbar")
    flows = work / "flows"
    shutil.copytree(SMALL_BOT, flows)
    with serve_with_account(work, flows, EMAIL, PASSWORD, "admin") as url:
        yield url


def _spread(page: Any, selector: str) -> float:
    """How far apart, in px, the vertical middles of the matching elements are (one line: a few px)."""
    middles = page.eval_on_selector_all(
        selector,
        "els => els.map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })",
    )
    return float(max(middles) - min(middles))


def test_the_dutch_editor_menu_fits_one_line_at_1366_px_and_the_account_menu_works(
    browser: Any, admin_server: str
) -> None:
    url = admin_server
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="nl-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp(page)
    errors = watch_script_errors(page)
    page.goto(f"{url}/login?next=/editor/")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/")
    assert page.get_attribute("html", "lang") == "nl"

    nav = page.locator(".topbar nav a")
    assert nav.count() == 10  # an admin sees every entry, People & teams included
    # A second line would put entries a line height (over 20 px) lower.
    assert _spread(page, ".topbar nav a, .topbar .brand, .topbar .account summary") < 8
    # Folded away until asked for.
    expect(page.get_by_role("button", name="Uitloggen")).to_be_hidden()
    page.locator(".account summary").click()
    expect(page.locator(".account-menu .role")).to_have_text("beheerder")
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, "editor-topbar-dutch-1366")

    page.get_by_role("link", name="Jouw voorkeuren").click()
    page.wait_for_url(f"{url}/account/preferences")
    page.locator(".account summary").click()
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(f"{url}/login**")
    page.goto(f"{url}/editor/")
    page.wait_for_url(f"{url}/login**")  # signed out for real
    assert not violations and not errors, (violations, errors)
    context.close()
