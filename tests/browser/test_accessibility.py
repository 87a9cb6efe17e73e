"""No serious or critical accessibility violations (axe-core, WCAG 2.1 AA) on the pages
people use: the widget, sign-in, the editor's pages, the console and the insights pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import axe_violations
from tests.browser.helpers import Widget

PASSWORD = "correct horse battery"
STAFF_PAGES = [
    "/editor/",
    "/editor/intent/new?lang=nl",
    "/editor/settings",
    "/editor/history",
    "/editor/transfer",
    "/editor/stats",
    "/editor/feedback",
    "/editor/inbox",
    "/editor/announcements/",
    "/conversations",
    "/console",
    "/admin/users",
    "/admin/teams",
    "/account/preferences",
]


@pytest.fixture
def admin(server: Any) -> Iterator[str]:
    from botbuilder.accounts import Accounts

    storage = server.storage()
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    Accounts(storage).add(email, PASSWORD, "admin")
    yield email
    Accounts(storage).remove(email)
    storage.close()


def test_the_widget_has_no_serious_accessibility_violations(page: Any, server: Any) -> None:
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Hoe zeg ik mijn lidmaatschap op?")
    expect(widget.bot_bubbles).to_have_count(2)
    assert axe_violations(page) == []


def test_sign_in_has_no_serious_accessibility_violations(page: Any, server: Any) -> None:
    page.goto(server.url + "/login")
    assert axe_violations(page) == []


def test_staff_pages_have_no_serious_accessibility_violations(
    page: Any, server: Any, admin: str
) -> None:
    page.goto(server.url + "/login")
    page.fill("#email", admin)
    page.fill("#password", PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    found = {}
    for path in STAFF_PAGES:
        response = page.goto(server.url + path)
        assert response.status == 200, (path, response.status)
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}


def test_the_check_finds_a_violation_when_a_page_has_one(page: Any, server: Any) -> None:
    page.goto(server.url + "/login")
    page.evaluate("document.querySelectorAll('label').forEach(l => l.remove())")
    assert any(v.startswith("label (critical)") for v in axe_violations(page))
