"""The Content-Security-Policy in a real browser: it is enforced (an injected inline
script does not run, and the violation is seen), and the demo page with the widget
open and in use reports no violation. The editor and console tests watch for
violations too (tests/browser/csp.py)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from .csp import watch_csp
from .helpers import Widget


def test_an_injected_inline_script_is_blocked_and_reported_on_the_login_page(
    page: Any, server: Any
) -> None:
    violations = watch_csp(page)
    page.goto(server.url + "/login")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__inline = 1";
          document.body.appendChild(s);
          const d = document.createElement("div");
          d.setAttribute("onclick", "window.__inline = 2");
          document.body.appendChild(d);
          d.click();
        }"""
    )
    assert page.evaluate("window.__inline === undefined")
    expect(page.locator("#email")).to_be_visible()
    page.wait_for_timeout(200)  # the violation events are queued as tasks
    assert any("script-src" in v for v in violations), violations


def test_demo_page_with_the_widget_in_use_reports_no_csp_violation(page: Any, server: Any) -> None:
    violations = watch_csp(page)
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Hoeveel kost het lidmaatschap?")
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    # The widget's shadow-root stylesheet applied: the launcher is fixed to the corner.
    position = widget.launcher.evaluate("el => getComputedStyle(el).position")
    assert position == "fixed", position
    # The page's own stylesheet (web/static/demo.css) applied too.
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert not violations, violations
