"""The whole handoff loop in a real browser: a member in the widget and an agent in the
console, two browser contexts against one real `botbuilder serve`."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from botbuilder.conversations.queue import HandoffQueue

from .conftest import DESKTOP, _new_page
from .csp import watch_csp
from .helpers import Widget, screenshot

PASSWORD = "correct horse battery"
# Not the weather: e5 answers that one with the agenda (a known regression, test_matching_quality).
OUT_OF_SCOPE = "Wie wint de Tour de France dit jaar?"


@pytest.fixture
def agent_page(browser: Any, server: Any) -> Iterator[Any]:
    """A second browser context: the agent's, with its own cookies."""
    yield from _new_page(browser, viewport=DESKTOP, locale="en-GB")


@pytest.fixture
def agent(server: Any) -> Iterator[str]:
    """An agent account in the server's database; its presence is forgotten afterwards,
    so later widget tests see a server whose console was never opened."""
    from sqlalchemy import delete

    from botbuilder.accounts import Accounts
    from botbuilder.conversations.presence import AgentPresence

    storage = server.storage()
    email = f"agent-{uuid.uuid4().hex[:8]}@example.org"
    Accounts(storage).add(email, PASSWORD, "agent")
    yield email
    with storage.session() as s, s.begin():
        s.execute(delete(AgentPresence))
    Accounts(storage).remove(email)
    storage.close()


def test_agent_takes_over_replies_and_hands_back_to_the_bot(
    page: Any, agent_page: Any, server: Any, agent: str
) -> None:
    # Neither the widget on the demo page nor the console may trip the CSP.
    member_violations, agent_violations = watch_csp(page), watch_csp(agent_page)
    # The member asks something the bot cannot answer.
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask(OUT_OF_SCOPE)
    expect(widget.bot_bubbles.last).to_contain_text("Ik zet je door naar een collega")
    conversation = widget.conversation_id()
    screenshot(page, "handoff-member-waiting")

    # The agent signs in and finds the conversation at the top of the queue.
    console = agent_page
    console.goto(server.url + "/console")
    expect(console).to_have_url(re.compile(r"/login\?next=/console"))
    console.fill("#email", agent)
    console.fill("#password", PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console).to_have_url(re.compile(r"/console$"))
    entry = console.locator(f'#waiting .entry[data-id="{conversation}"]')
    expect(entry).to_contain_text(OUT_OF_SCOPE)
    expect(entry.locator(".since")).to_have_text(re.compile(r"\d+ (s|min)"))
    # Signing in does not make the agent online; pressing Online does, and a reload keeps it.
    expect(console.locator("#presence-status")).not_to_have_text("online")
    console.locator("#presence-form").get_by_role("button", name="Online").click()
    expect(console.locator("#presence-status")).to_have_text("online", timeout=5000)
    console.reload()
    expect(console.locator("#presence-status")).to_have_text("online", timeout=5000)
    screenshot(console, "handoff-console-queue")

    # The conversation: the transcript, the bot's guesses, the member's language.
    entry.get_by_role("link").click()
    expect(console.locator("#transcript .msg.member .bubble").first).to_have_text(OUT_OF_SCOPE)
    expect(console.locator("#guesses tbody tr").first).to_be_visible()
    expect(console.locator("#language")).to_have_text("nl")
    console.get_by_role("button", name="Claim").click()
    expect(console.locator("#state")).to_have_text("agent")
    console.fill("#reply", "Hoi, ik ben Ann. Het weer weet ik niet, maar ik help je graag verder.")
    console.get_by_role("button", name="Send").click()
    screenshot(console, "handoff-console-conversation")

    # The member sees the reply in the widget, and answers; the agent sees that live.
    agent_bubble = widget.host.locator(".msg.agent .bubble").last
    expect(agent_bubble).to_contain_text("Hoi, ik ben Ann.", timeout=5000)
    screenshot(page, "handoff-member-sees-agent")
    widget.ask("Oké, dank je!")
    expect(console.locator("#transcript .msg.member .bubble").last).to_have_text(
        "Oké, dank je!", timeout=5000
    )

    # A note stays with the agents.
    console.fill("#note", "Vroeg naar het weer; geen lid-vraag.")
    console.get_by_role("button", name="Add note").click()
    expect(console.locator("#notes")).to_contain_text("Vroeg naar het weer")

    # Hand back: the member is told, and the bot answers the next FAQ question again.
    console.get_by_role("button", name="Hand back to the bot").click()
    expect(console).to_have_url(re.compile(r"/console$"))
    expect(widget.bot_bubbles.last).to_contain_text("weer met de bot", timeout=5000)
    widget.ask("Hoeveel kost het lidmaatschap?")
    expect(widget.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    expect(widget.host.get_by_text("Vroeg naar het weer")).to_have_count(0)
    screenshot(page, "handoff-member-back-to-bot")

    # A new waiting conversation appears in the open queue without a reload, highlighted.
    def api(path: str, body: dict[str, str]) -> Any:
        request = urllib.request.Request(
            server.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    other = api("/api/v1/conversations", {})["conversation_id"]
    api(f"/api/v1/conversations/{other}/messages", {"text": "Ik wil een medewerker spreken"})
    expect(console.locator(f'#waiting .entry.new[data-id="{other}"]')).to_be_visible(timeout=8000)
    expect(console.locator("#queue-count")).not_to_be_empty()
    screenshot(console, "handoff-console-new-arrival")
    storage = server.storage()
    HandoffQueue(storage).close(other, agent)
    storage.close()
    assert not member_violations and not agent_violations, (member_violations, agent_violations)
