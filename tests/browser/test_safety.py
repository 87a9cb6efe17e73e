"""Nothing from a member, an agent or a flow runs in the page; the host page's CSS
cannot break the widget nor the widget's leak out; only allowed origins may chat."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from botbuilder.content.rendering import render_markdown

from .helpers import Widget, screenshot

PAYLOADS = [
    "<img src=x onerror=\"window.__xss='member-img'\">",
    "<script>window.__xss='member-script'</script>",
    '"><svg onload="window.__xss=\'member-svg\'">',
    "[klik](javascript:window.__xss='member-link')",
    "<iframe src=\"javascript:alert('member-iframe')\"></iframe>",
]


def _no_markup_from(widget: Widget, scope: str) -> None:
    for tag in ("img", "script", "svg", "iframe"):
        expect(widget.host.locator(f"{scope} {tag}")).to_have_count(0)


def test_member_questions_are_shown_as_text(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    for payload in PAYLOADS:
        widget.ask(payload)
        expect(widget.member_bubbles.last).to_have_text(payload)
    page.reload()  # and again from the stored history
    widget = Widget(page)
    expect(widget.member_bubbles).to_have_text(PAYLOADS)
    _no_markup_from(widget, ".msg.member .bubble")
    widget.expect_no_script_ran()


def test_payloads_in_answers_and_button_labels_stay_text(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Laat de beveiligingstest zien")
    answer = widget.bot_bubbles.last
    expect(answer).to_contain_text("Einde van de test.")
    expect(answer).to_contain_text("<img src=x onerror=")  # escaped, so shown as text
    _no_markup_from(widget, ".msg.bot .bubble")
    for link in answer.locator("a").all():  # the javascript: links lost their href
        href = link.get_attribute("href")
        assert href is None or href.startswith(("http:", "https:", "mailto:", "tel:")), href

    button = widget.reply("<img src=x onerror=\"window.__xss='button-img'\">Knop met payload")
    expect(button).to_be_visible()
    link = widget.host.locator("a.reply").last
    expect(link).to_contain_text('"><script>window.__xss="button-script"</script>link')
    assert link.get_attribute("href").startswith("https://example.org/pad?a=")
    _no_markup_from(widget, ".replies")
    button.click()
    expect(widget.member_bubbles.last).to_have_text(
        "<img src=x onerror=\"window.__xss='button-img'\">Knop met payload"
    )
    expect(widget.bot_bubbles.last).to_have_text("De opzegtermijn is een maand.")
    page.wait_for_timeout(300)  # give an onerror handler time to fire, if one had been made
    widget.expect_no_script_ran()


def test_agent_messages_cannot_run_scripts_even_if_the_server_let_one_through(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("medewerker")
    expect(widget.state).to_contain_text("Je wacht op een medewerker")
    rendered = (
        "Kijk <img src=x onerror=\"window.__xss='agent-img'\"> [hier](javascript:window.__xss=1)"
    )
    # The html field straight into the database, bypassing the server's sanitizer:
    # the widget's own check must still stop it.
    raw = (
        "<p>Rauw <img src=x onerror=\"window.__xss='agent-raw-img'\">"
        "<script>window.__xss='agent-raw-script'</script>"
        '<a href="javascript:window.__xss=\'agent-raw-link\'" onclick="window.__xss=1">link</a>'
        '<strong onmouseover="window.__xss=1" style="position:fixed;inset:0">vet</strong>'
        '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>'
        '<a href="https://example.org/ok">goed</a></p>'
    )
    storage = server.storage()
    try:
        conversation = widget.conversation_id()
        storage.add_message(conversation, "agent", rendered, html=render_markdown(rendered))
        storage.add_message(conversation, "agent", "Rauw", html=raw)
        storage.add_message(conversation, "agent", "<b>geen html-veld</b>", html="")
    finally:
        storage.close()
    agents = widget.host.locator(".msg.agent .bubble")
    expect(agents).to_have_count(3, timeout=4_000)
    expect(agents.nth(0)).to_contain_text("Kijk <img src=x")
    expect(agents.nth(1)).to_contain_text("Rauw")
    expect(agents.nth(1).locator("strong")).to_have_text("vet")
    assert agents.nth(1).locator("strong").get_attribute("style") is None
    assert agents.nth(1).locator("a").first.get_attribute("href") is None
    assert agents.nth(1).locator("a").first.get_attribute("onclick") is None
    expect(agents.nth(1).locator("a").last).to_have_attribute("href", "https://example.org/ok")
    expect(agents.nth(1).locator("a").last).to_have_attribute("target", "_blank")
    expect(agents.nth(2)).to_have_text("<b>geen html-veld</b>")
    _no_markup_from(widget, ".msg.agent .bubble")
    agents.nth(1).locator("a").first.click()
    agents.nth(1).locator("strong").hover()
    page.wait_for_timeout(300)
    widget.expect_no_script_ran()


def _host_styles(page) -> dict:
    return page.evaluate(
        """() => Object.fromEntries(['host-text', 'host-button', 'host-div'].map(id => {
            const s = getComputedStyle(document.getElementById(id));
            return [id, [s.color, s.backgroundColor, s.fontSize, s.fontFamily, s.display, s.border,
                         s.padding, s.borderRadius, s.position, s.boxShadow]];
        }))"""
    )


def test_hostile_host_css_cannot_break_the_widget_nor_does_ours_leak(page, server):
    page.goto(server.allowed_site + "/hostile.html")
    before = _host_styles(page)
    page.evaluate(
        """url => { const s = document.createElement('script'); s.src = url; document.body.appendChild(s); }""",
        server.url + "/widget.js",
    )
    widget = Widget(page)
    expect(widget.launcher).to_be_visible()
    box = widget.launcher.bounding_box()
    assert box["x"] > 1280 - 120 and box["y"] > 800 - 120, box  # bottom right of the viewport
    assert box["width"] == 60
    widget.open()
    widget.ask("Wat is de contributie?")
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    panel = widget.panel.bounding_box()
    assert 360 <= panel["width"] <= 400 and panel["x"] + panel["width"] <= 1280, panel
    styles = widget.input.evaluate(
        "el => { const s = getComputedStyle(el); return [s.fontSize, s.fontStyle, s.letterSpacing, s.textTransform, s.boxSizing]; }"
    )
    assert styles == ["16px", "normal", "normal", "none", "border-box"], styles
    bubble = widget.bot_bubbles.last.evaluate(
        "el => { const s = getComputedStyle(el); return [s.fontSize, s.color, s.lineHeight]; }"
    )
    assert bubble[0] == "15px" and bubble[1] == "rgb(31, 35, 40)", bubble
    assert _host_styles(page) == before
    screenshot(page, "widget-hostile-css")


def test_page_on_an_allowed_origin_can_chat(page, server):
    page.goto(server.allowed_site + "/index.html")
    widget = Widget(page).open()
    widget.ask("Ik kan niet inloggen")
    expect(widget.bot_bubbles.last).to_contain_text("Wachtwoord vergeten")


def test_page_on_another_origin_is_refused_in_plain_words(page, server):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(server.refused_site + "/index.html")
    widget = Widget(page)
    widget.launcher.click()
    expect(widget.alert).to_contain_text(
        "Deze chat is niet beschikbaar op deze website. "
        "Neem op een andere manier contact met ons op."
    )
    expect(widget.input).to_be_disabled()
    expect(widget.host.get_by_role("button", name="Opnieuw proberen")).to_be_hidden()
    expect(widget.host.get_by_role("button", name="Sluit de chat", exact=True)).to_be_focused()
    assert widget.conversation_id() is None
    assert any("widget.allowed_origins" in m and server.refused_site in m for m in messages), (
        messages
    )
    page.keyboard.press("Escape")
    expect(widget.launcher).to_be_focused()


def test_widget_config_says_which_origins_may_chat(server):
    def config(origin: str | None) -> dict:
        request = urllib.request.Request(server.url + "/api/v1/widget-config")
        if origin:
            request.add_header("Origin", origin)
        with urllib.request.urlopen(request) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            return json.load(response)

    assert config(None)["origin_allowed"] is True
    assert config(server.url)["origin_allowed"] is True
    assert config(server.allowed_site)["origin_allowed"] is True
    refused = config(server.refused_site)
    assert refused["origin_allowed"] is False
    assert refused["title"] == "Vraag het ons" and refused["color"] == "#0b6e4f"
    assert refused["languages"] == ["nl", "en"]
