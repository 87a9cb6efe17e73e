"""The widget as a test sees it: locators inside its shadow root, and the few
actions every test needs. Playwright's CSS and role locators pierce open
shadow roots, so these are ordinary locators."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# Debian's chromium, headless, quiet on a closed network; `make bench` uses it too.
CHROMIUM = os.environ.get("BOTBUILDER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Widget:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.host = page.locator("botbuilder-chat")
        self.launcher = self.host.locator(".launcher")
        self.panel = self.host.locator(".panel")
        self.input = self.host.locator("textarea")
        self.log = self.host.locator(".log")
        self.alert = self.host.locator(".alert")
        self.state = self.host.locator(".state")

    def open(self) -> Widget:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.bot_bubbles.first).to_be_visible()  # the greeting: a conversation exists
        return self

    def ask(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    @property
    def bot_bubbles(self) -> Locator:
        return self.host.locator(".msg.bot .bubble")

    @property
    def member_bubbles(self) -> Locator:
        return self.host.locator(".msg.member .bubble")

    def reply(self, label: str) -> Locator:
        """A quick-reply button or link of the last bot message."""
        return self.host.locator(".msg:not(.old) .replies").get_by_text(label, exact=True)

    def conversation_id(self) -> str | None:
        raw = self.page.evaluate(
            "Object.keys(localStorage).filter(k => k.endsWith(':conversation'))"
            ".map(k => localStorage.getItem(k))[0] || null"
        )
        return json.loads(raw) if raw else None

    def expect_no_script_ran(self) -> None:
        assert self.page.evaluate("window.__xss === undefined"), self.page.evaluate("window.__xss")


def hold_page_timers(page: Any) -> None:
    """Stop the page's own timers until the test moves Playwright's clock.

    Call before `page.goto`; it holds across reloads. The widget then tries a
    failed message again only when the test clicks "Opnieuw proberen", never
    by its own retry timer (3 s after a failure) racing the test's click.
    Requests, and the answers to them, are not held.
    """
    start = datetime(2026, 1, 5, 9, 0)
    page.clock.install(time=start)
    page.clock.pause_at(start + timedelta(minutes=1))


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot for reviewers under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # With two pages open (member and agent), headless Chromium can refuse to
    # capture the one in the background: bring it forward, and try once more.
    page.bring_to_front()
    try:
        page.screenshot(path=str(path))
    except Exception:
        page.wait_for_timeout(200)
        page.screenshot(path=str(path))
    return path


def watch_script_errors(page: Any) -> list[str]:
    """The page's script errors as they happen; a 422 page or a missing favicon is no
    script error."""
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
    return errors
