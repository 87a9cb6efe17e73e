"""When the network or the server fails, the member is told in plain words and
nothing they typed is lost."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import Widget, hold_page_timers


def test_message_typed_offline_is_sent_when_the_connection_returns(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    page.context.set_offline(True)
    widget.ask("Wat is de contributie?")
    expect(widget.alert).to_contain_text(
        "Je bent offline. Je bericht wordt verstuurd zodra je weer verbinding hebt."
    )
    pending = widget.host.locator(".msg.member").last
    expect(pending).to_contain_text("Nog niet verstuurd")
    widget.ask("Ik kan niet inloggen")  # a second one waits its turn
    page.wait_for_timeout(300)
    expect(widget.bot_bubbles).to_have_count(1)

    page.context.set_offline(False)
    expect(widget.bot_bubbles).to_have_count(3)
    expect(widget.bot_bubbles.nth(1)).to_have_text("De contributie is 25 euro per jaar.")
    expect(widget.bot_bubbles.nth(2)).to_contain_text("Wachtwoord vergeten")
    expect(widget.alert).to_be_hidden()
    expect(widget.host.get_by_text("Nog niet verstuurd")).to_have_count(0)
    expect(widget.member_bubbles).to_have_text(["Wat is de contributie?", "Ik kan niet inloggen"])


def test_queued_message_survives_a_reload(page, server):
    hold_page_timers(page)  # only the click below sends the message again
    page.goto(server.url + "/")
    widget = Widget(page).open()
    # The server is unreachable for messages, so the question stays queued...
    page.route("**/messages", lambda route: route.abort())
    widget.ask("Welke evenementen zijn er?")
    expect(widget.alert).to_contain_text("We kunnen de chat nu niet bereiken.")
    page.unroute("**/messages")
    page.route(
        "**/messages",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.reload()
    widget = Widget(page)
    # After the reload the queued bubble is drawn with the history, just before
    # the widget sends the queue: only once that send has failed is there an
    # alert, so wait for it before the server answers again.
    expect(widget.alert).to_contain_text("We kunnen de chat nu niet bereiken.")
    expect(widget.member_bubbles).to_have_text(["Welke evenementen zijn er?"])
    expect(widget.host.locator(".msg.member").last).to_contain_text("Nog niet verstuurd")
    # ...and is sent once the server answers again.
    page.unroute("**/messages")
    widget.host.get_by_role("button", name="Opnieuw proberen").click()
    expect(widget.bot_bubbles.last).to_contain_text("Alle activiteiten staan in de agenda.")
    expect(widget.member_bubbles).to_have_text(["Welke evenementen zijn er?"])


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (500, "Er ging iets mis aan onze kant. Probeer het zo nog eens."),
        (503, "Er ging iets mis aan onze kant. Probeer het zo nog eens."),
        (429, "Het is even erg druk. Probeer het over een paar seconden opnieuw."),
        (None, "We kunnen de chat nu niet bereiken."),
    ],
)
def test_server_failure_is_explained_and_retry_sends_the_message(page, server, status, says):
    hold_page_timers(page)  # the click sends it, not the widget's own retry 3 s later
    page.goto(server.url + "/")
    widget = Widget(page).open()

    def fail(route):
        if route.request.method != "POST":
            return route.continue_()
        if status is None:
            return route.abort("connectionrefused")
        return route.fulfill(status=status, json={"ok": False, "error": "broken", "status": status})

    page.route("**/messages", fail)
    widget.ask("Wat is de contributie?")
    expect(widget.alert).to_contain_text(says)
    expect(widget.host.locator(".msg.member").last).to_contain_text("Nog niet verstuurd")
    expect(widget.host.locator(".typing")).to_be_hidden()
    page.unroute("**/messages")
    widget.host.get_by_role("button", name="Opnieuw proberen").click()
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    expect(widget.alert).to_be_hidden()
    expect(widget.member_bubbles).to_have_text(["Wat is de contributie?"])


def test_refused_button_is_explained_and_not_sent_again(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Ik wil stoppen als lid")
    page.route(
        "**/messages",
        lambda route: (
            route.fulfill(status=400, json={"ok": False, "error": "button gone", "status": 400})
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    widget.reply("Wat is de opzegtermijn?").click()
    expect(widget.host.locator(".msg.member").last).to_contain_text(
        "Niet verstuurd: Die keuze kan nu niet meer. Typ je vraag, dan help ik je verder."
    )
    page.unroute("**/messages")
    widget.ask("Wat is de contributie?")
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")


def test_typing_indicator_shows_while_the_bot_works(page, server):
    page.goto(server.url + "/")
    widget = Widget(page).open()
    release = []

    def slow(route):
        if route.request.method == "POST":
            release.append(route)
        else:
            route.continue_()

    page.route("**/messages", slow)
    widget.ask("Wat is de contributie?")
    typing = widget.host.locator(".typing")
    expect(typing).to_be_visible()
    expect(typing).to_have_attribute("role", "status")
    expect(typing).to_contain_text("Er wordt getypt…")
    page.wait_for_function("true")  # let the route handler run
    assert release
    release[0].continue_()
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    expect(typing).to_be_hidden()


def test_server_down_when_the_chat_opens_then_back(page, server):
    hold_page_timers(page)  # the click asks again, not the widget's own retry 3 s later
    page.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))
    page.goto(server.url + "/")
    widget = Widget(page)
    widget.launcher.click()
    expect(widget.alert).to_contain_text("We kunnen de chat nu niet bereiken.")
    expect(widget.bot_bubbles).to_have_count(0)
    page.unroute("**/api/v1/**")
    widget.host.get_by_role("button", name="Opnieuw proberen").click()
    expect(widget.bot_bubbles.first).to_have_text("Hoi! Waar kan ik je mee helpen?")
    expect(widget.host.locator("h2")).to_have_text("Vraag het ons")  # the settings, fetched again
    expect(widget.alert).to_be_hidden()
