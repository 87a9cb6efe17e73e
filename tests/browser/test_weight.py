"""The widget stays small, shows its launcher at once and talks only to its own server."""

from __future__ import annotations

from playwright.sync_api import expect

from benchmarks.widget import LAUNCHER_BUDGET_MS, SIZE_BUDGET_BYTES, widget_size

from .helpers import Widget


def test_widget_js_and_css_stay_within_30_kb_gzipped():
    size = widget_size()
    assert size["widget_gzip_bytes"] <= SIZE_BUDGET_BYTES, size


def test_launcher_appears_fast_and_nothing_is_fetched_from_elsewhere(page, server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server.allowed_site + "/index.html")
    widget = Widget(page)
    expect(widget.launcher).to_be_visible()
    took = page.evaluate(
        "performance.getEntriesByName('botbuilder:launcher', 'measure')[0].duration"
    )
    assert took < LAUNCHER_BUDGET_MS, f"the launcher took {took} ms"
    widget.open()
    widget.ask("Wanneer is de volgende activiteit?")
    expect(widget.bot_bubbles.last).to_contain_text("Alle activiteiten staan in de agenda.")
    foreign = [
        u for u in requests if not u.startswith((server.url + "/", server.allowed_site + "/"))
    ]
    assert not foreign, foreign
    assert any(u.startswith(server.url + "/api/v1/") for u in requests)


def test_script_pasted_twice_makes_one_widget(page, server):
    page.goto(server.allowed_site + "/index.html")
    expect(Widget(page).launcher).to_be_visible()
    page.add_script_tag(url=server.url + "/widget.js")
    page.wait_for_timeout(200)
    expect(page.locator("botbuilder-chat")).to_have_count(1)
