"""The widget's own texts in the member's language, the privacy notice, past options kept
in the transcript, and a reloaded chat that opens at its newest message: in real Chromium
against a real server, with screenshots in test-output/screenshots/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .accessibility import axe_violations
from .conftest import PRIVACY_URL
from .csp import watch_csp
from .helpers import Widget, screenshot


def test_an_english_member_sees_english_widget_texts(page: Any, server: Any) -> None:
    violations = watch_csp(page)
    page.goto(server.allowed_site + "/english.html")  # <html lang="en-GB">
    widget = Widget(page).open()
    host = widget.host
    expect(host.locator("h2")).to_have_text("Ask us")
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    expect(host.get_by_role("button", name="New conversation")).to_be_visible()
    expect(host.get_by_role("button", name="Talk to a person")).to_be_visible()
    expect(host.get_by_role("log", name="Conversation")).to_be_visible()
    privacy = host.locator(".privacy")
    expect(privacy).to_contain_text("We keep this conversation so we can help you.")
    expect(
        privacy.get_by_role("link", name=re.compile("How we handle your data"))
    ).to_have_attribute("href", PRIVACY_URL)
    expect(host.get_by_role("button", name="EN – English")).to_have_attribute(
        "aria-pressed", "true"
    )
    widget.ask("I want to talk to a person")
    expect(widget.state).to_contain_text("You're waiting for a staff member.")
    expect(widget.state).to_contain_text(re.compile(r"You are number \d+ in the queue\."))
    back = host.get_by_role("button", name="Stop waiting, back to the bot")
    expect(back).to_be_visible()
    screenshot(page, "widget-language-english-member")
    back.click()
    expect(widget.state).to_be_hidden()
    expect(widget.bot_bubbles.last).to_have_text(
        "You're no longer waiting for a staff member. Ask your question and I'll help you."
    )
    assert not violations, violations


def test_a_dutch_member_sees_dutch_widget_texts(page: Any, server: Any) -> None:
    page.goto(server.allowed_site + "/index.html")  # <html lang="nl">
    widget = Widget(page).open()
    host = widget.host
    expect(host.locator("h2")).to_have_text("Vraag het ons")
    expect(widget.input).to_have_attribute("placeholder", "Typ je vraag…")
    expect(host.get_by_role("button", name="Nieuw gesprek")).to_be_visible()
    expect(host.locator(".privacy")).to_contain_text(
        "We bewaren dit gesprek om je te kunnen helpen."
    )
    expect(
        host.get_by_role("link", name=re.compile("Zo gaan we om met je gegevens"))
    ).to_be_visible()
    widget.ask("Ik wil een medewerker spreken")
    expect(widget.state).to_contain_text("Je wacht op een medewerker.")
    expect(host.get_by_role("button", name="Stop met wachten, terug naar de bot")).to_be_visible()
    screenshot(page, "widget-language-dutch-member")
    host.get_by_role("button", name="Nieuw gesprek").click()  # leaves the queue too
    expect(widget.state).to_be_hidden()


def test_the_language_switch_changes_the_texts_and_is_kept(page: Any, server: Any) -> None:
    page.goto(server.allowed_site + "/index.html")
    widget = Widget(page).open()
    english = widget.host.get_by_role("button", name="EN – English")
    english.click()
    expect(widget.host.locator("h2")).to_have_text("Ask us")
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    expect(widget.host.get_by_role("button", name="EN – English")).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-label", "Close the chat: Ask us")
    screenshot(page, "widget-language-switched")
    page.reload()
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    widget.host.get_by_role("button", name="NL – Nederlands").click()
    expect(widget.input).to_have_attribute("placeholder", "Typ je vraag…")


def test_a_page_without_a_language_follows_the_members_first_message(
    page: Any, server: Any
) -> None:
    page.goto(server.allowed_site + "/nolang.html")  # <html lang="">
    widget = Widget(page).open()
    expect(widget.input).to_have_attribute("placeholder", "Typ je vraag…")  # the bot's own
    widget.ask("How much does membership cost?")
    expect(widget.bot_bubbles.last).to_have_text("The fee is 25 euros a year.")
    expect(widget.input).to_have_attribute("placeholder", "Type your question…")
    expect(widget.host.locator("h2")).to_have_text("Ask us")


def test_past_clarify_options_stay_visible_and_disabled(page: Any, server: Any) -> None:
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("vraag over lidmaatschap")  # split between cancelling and the fee
    expect(widget.bot_bubbles.last).to_have_text("Bedoelde je…?")
    asked = widget.host.locator(".msg.bot").nth(widget.host.locator(".msg.bot").count() - 1)
    widget.reply("Hoeveel kost het lidmaatschap?").click()
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    widget.ask("Wanneer is de volgende activiteit?")
    expect(widget.bot_bubbles.last.locator("a")).to_be_visible()
    options = asked.locator("button.reply")
    assert options.count() >= 2
    for i in range(options.count()):
        expect(options.nth(i)).to_be_visible()
        expect(options.nth(i)).to_be_disabled()
    expect(asked.get_by_role("button", name="Hoeveel kost het lidmaatschap?")).to_have_class(
        re.compile("chosen")
    )
    assert axe_violations(page) == []  # disabled options, the privacy link, NL/EN
    # After a reload the history shows them the same way.
    page.reload()
    expect(widget.panel).to_be_visible()
    expect(
        widget.host.get_by_role("button", name="Hoeveel kost het lidmaatschap?")
    ).to_be_disabled()
    screenshot(page, "widget-past-options-disabled")


# Samples the log on every frame from the first one: was it ever shown away from the end?
FRAMES = """
window.__frames = [];
(function sample() {
  const host = document.querySelector("botbuilder-chat");
  const log = host && host.shadowRoot && host.shadowRoot.querySelector(".log");
  if (log && log.offsetParent !== null && getComputedStyle(log).visibility === "visible"
      && log.scrollHeight > log.clientHeight + 40) {
    window.__frames.push(log.scrollHeight - log.clientHeight - log.scrollTop);
  }
  requestAnimationFrame(sample);
})();
"""


def test_a_reloaded_chat_opens_at_the_newest_message_without_a_jump(page: Any, server: Any) -> None:
    page.goto(server.url + "/")
    widget = Widget(page).open()
    for question in [
        "Wat is de contributie?",
        "Wanneer is de volgende activiteit?",
        "Hoe zeg ik mijn lidmaatschap op?",
        "Wat is de contributie?",
        "Wanneer is de volgende activiteit?",
    ]:
        count = widget.bot_bubbles.count()
        widget.ask(question)
        try:
            expect(widget.bot_bubbles).to_have_count(count + 1)
        except AssertionError:
            raise AssertionError(widget.panel.inner_text()) from None
    page.add_init_script(FRAMES)
    page.reload()  # the panel was open: it opens again, with the history
    expect(widget.bot_bubbles.last).to_have_text("Alle activiteiten staan in de agenda.")
    page.wait_for_timeout(500)
    frames = page.evaluate("window.__frames")
    assert frames, "the log was never shown with more than a screen of history"
    assert max(frames) <= 2, f"the log was shown away from the end (px from the end): {frames}"
    screenshot(page, "widget-reload-at-newest")
