"""Keyboard, screen readers, phones, languages, contrast and motion."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PHONE
from .helpers import Widget, screenshot

DEEP_FOCUS = """() => { let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el ? (el.getAttribute('aria-label') || el.textContent || el.tagName).trim() : null; }"""


def _tab_to(page, label: str, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        if page.evaluate(DEEP_FOCUS) == label:
            return
        page.keyboard.press(key)
    raise AssertionError(
        f"{key} never reached {label!r}; focus is on {page.evaluate(DEEP_FOCUS)!r}"
    )


def test_keyboard_alone_opens_asks_chooses_and_closes(page, server):
    page.goto(server.url + "/")
    widget = Widget(page)
    _tab_to(page, "Open de chat: Vraag het ons")
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(widget.input).to_be_focused()
    expect(widget.bot_bubbles.first).to_have_text("Hoi! Waar kan ik je mee helpen?")

    page.keyboard.type("Ik wil stoppen als lid")
    page.keyboard.press("Enter")
    expect(widget.reply("Wat is de opzegtermijn?")).to_be_visible()
    _tab_to(page, "Wat is de opzegtermijn?", key="Shift+Tab", limit=10)
    page.keyboard.press("Space")
    expect(widget.bot_bubbles.last).to_have_text("De opzegtermijn is een maand.")

    expect(widget.input).to_be_focused()  # the pressed button is gone; focus is not lost
    _tab_to(page, "Dit antwoord hielp", key="Shift+Tab", limit=10)
    page.keyboard.press("Enter")
    expect(
        widget.host.get_by_role("button", name="Dit antwoord hielp", exact=True).last
    ).to_have_attribute("aria-pressed", "true")

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    expect(widget.bot_bubbles.last).to_have_text("De opzegtermijn is een maand.")


def test_controls_are_labelled_and_news_is_announced(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    host = widget.host
    expect(host.get_by_role("dialog", name="Vraag het ons")).to_be_visible()
    log = host.get_by_role("log", name="Gesprek")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(host.get_by_role("textbox", name="Je bericht")).to_be_visible()
    expect(host.get_by_role("button", name="Verstuur")).to_be_visible()
    expect(host.get_by_role("button", name="Sluit de chat", exact=True)).to_be_visible()
    expect(host.get_by_role("button", name="Medewerker spreken")).to_be_visible()
    expect(host.get_by_role("button", name="Nieuw gesprek")).to_be_visible()
    widget.ask("Wat is de contributie?")
    # Who said what is in the text a screen reader reads out, not only in colours.
    expect(log.locator(".msg.member")).to_contain_text("Jij: Wat is de contributie?")
    expect(log.locator(".msg.bot").last).to_contain_text("Bot: De contributie is 25 euro per jaar.")
    expect(host.get_by_role("alert")).to_be_hidden()


def test_phone_gets_a_full_screen_panel(phone, server):
    phone.goto(server.url + "/")
    widget = Widget(phone)
    widget.launcher.tap()
    expect(widget.panel).to_be_visible()
    widget.panel.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
    box = {k: round(v) for k, v in widget.panel.bounding_box().items()}
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}, box
    expect(widget.launcher).to_be_hidden()
    expect(widget.bot_bubbles.first).to_be_visible()
    widget.ask("Hoe zeg ik mijn lidmaatschap op?")
    expect(widget.reply("Wat is de opzegtermijn?")).to_be_visible()
    assert widget.input.evaluate("el => getComputedStyle(el).fontSize") == "16px"  # no zoom on iOS
    screenshot(phone, "widget-phone")
    widget.host.get_by_role("button", name="Sluit de chat", exact=True).tap()
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_visible()


def test_english_page_gets_english_texts_and_greeting(page, server):
    page.goto(server.allowed_site + "/english.html")
    widget = Widget(page)
    expect(widget.launcher).to_have_attribute("aria-label", "Open the chat: Ask us")
    widget.open()
    expect(widget.bot_bubbles.first).to_have_text("Hi! How can I help?")
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    expect(widget.host.get_by_text("Ask about membership, fees or events.")).to_be_visible()
    expect(widget.host.get_by_role("button", name="Talk to a person")).to_be_visible()
    widget.ask("How much does membership cost?")
    expect(widget.bot_bubbles.last).to_have_text("The fee is 25 euros a year.")
    expect(widget.host.get_by_role("button", name="This answer did not help")).to_be_visible()


def test_data_attributes_choose_language_position_and_open_state(page, server):
    # options.html: data-language="en" data-position="left" data-open="true"
    page.goto(server.allowed_site + "/options.html")
    widget = Widget(page)
    expect(widget.panel).to_be_visible()
    expect(widget.bot_bubbles.first).to_have_text("Hi! How can I help?")
    assert page.evaluate(DEEP_FOCUS) != "Your message"  # opening on load does not steal focus
    assert widget.panel.bounding_box()["x"] < 100
    assert widget.launcher.bounding_box()["x"] < 100


def test_demo_page_can_show_the_widget_in_english(page, server):
    page.goto(server.url + "/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    widget = Widget(page).open()
    expect(widget.bot_bubbles.first).to_have_text("Hi! How can I help?")


CONTRAST = """els => els.map(el => {
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    let bg = el, color = getComputedStyle(el).color;
    while (bg) { const c = getComputedStyle(bg).backgroundColor;
        if (rgb(c).length < 4 || rgb(c)[3] > 0) break;
        bg = bg.parentElement || (bg.getRootNode() && bg.getRootNode().host); }
    const back = bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)';
    const [a, b] = [lum(color), lum(back)];
    return [(el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30),
            (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
})"""


def test_default_theme_meets_wcag_aa_contrast(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Ik wil stoppen als lid")
    expect(widget.reply("Wat is de opzegtermijn?")).to_be_visible()
    widget.host.locator(".msg.bot").last.get_by_role(
        "button", name="Dit antwoord hielp niet"
    ).click()
    expect(widget.host.locator(".offer")).to_be_visible()
    selectors = [
        "h2",
        ".tools button",
        ".welcome",
        ".msg.bot .bubble",
        ".msg.member .bubble",
        ".reply",
        ".fb span",
        ".offer p",
        ".bubble strong",
    ]
    elements = [widget.host.locator(s).first.element_handle() for s in selectors]
    ratios = page.evaluate(CONTRAST, elements)
    low = [(name, round(ratio, 2)) for name, ratio in ratios if ratio < 4.5]
    assert not low, f"text below 4.5:1: {low}"
    assert len(ratios) == len(selectors)


def test_reduced_motion_turns_animations_off(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    assert widget.panel.evaluate("el => getComputedStyle(el).animationName") == "bb-in"
    page.emulate_media(reduced_motion="reduce")
    widget.host.get_by_role("button", name="Sluit de chat", exact=True).click()
    widget.launcher.click()
    assert widget.panel.evaluate("el => getComputedStyle(el).animationName") == "none"
    assert widget.launcher.evaluate("el => getComputedStyle(el).transitionDuration") == "0s"
    dots = widget.host.locator(".dots i").first
    assert dots.evaluate("el => getComputedStyle(el).animationName") == "none"
    expect(widget.launcher).to_have_attribute("aria-label", "Sluit de chat: Vraag het ons")
