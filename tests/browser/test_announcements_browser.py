"""An announcement in real Chromium against a real server: it appears at the top of an
open widget within 2 seconds of being posted, and leaves within 2 seconds of being ended."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from botbuilder.conversations.announcements import Announcements

from .accessibility import axe_violations
from .csp import watch_csp
from .helpers import Widget, screenshot

STORM = "De rit van zondag gaat niet door vanwege storm."


def test_a_notice_shows_in_an_open_widget_and_leaves_when_ended(page: Any, server: Any) -> None:
    violations = watch_csp(page)
    page.goto(server.url + "/")
    widget = Widget(page).open()
    notices = widget.host.locator(".notices")
    expect(notices).to_be_hidden()

    storage = server.storage()
    try:
        posted = Announcements(storage).post({"nl": STORM, "en": "No ride on Sunday."}, "test")
        began = time.monotonic()
        expect(notices).to_have_text(STORM, timeout=2_000)
        shown_after = time.monotonic() - began
        screenshot(page, "widget-announcement")
        assert axe_violations(page) == []

        Announcements(storage).end(posted.id)
        expect(notices).to_be_hidden(timeout=2_000)
    finally:
        for running in Announcements(storage).running():
            Announcements(storage).end(running.id)
        storage.close()
    assert shown_after < 2.0
    assert not violations, violations
