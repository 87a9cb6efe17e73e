"""Leaving the queue in real Chromium against a real server: a waiting member goes back
to the bot and the next member moves up, and a chat whose member went quiet leaves the
queue and the agents' console. Screenshots in test-output/screenshots/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.store import Conversation
from botbuilder.db.base import utcnow

from .accessibility import axe_violations
from .conftest import DESKTOP, _new_page
from .csp import watch_csp
from .helpers import Widget, screenshot

PASSWORD = "correct horse battery"
PLACE = re.compile(r"Je bent nummer (\d+) in de wachtrij\.")


@pytest.fixture
def second_page(browser: Any, server: Any) -> Iterator[Any]:
    """Another member, in a browser context of their own."""
    yield from _new_page(browser, viewport=DESKTOP, locale="nl-NL")


@pytest.fixture
def agent_page(browser: Any, server: Any) -> Iterator[Any]:
    yield from _new_page(browser, viewport=DESKTOP, locale="en-GB")


@pytest.fixture
def agent(server: Any) -> Iterator[str]:
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


def place(widget: Widget) -> int:
    expect(widget.state).to_contain_text(PLACE)
    match = PLACE.search(widget.state.inner_text())
    assert match, widget.state.inner_text()
    return int(match.group(1))


def wait_for_a_person(page: Any, server: Any) -> Widget:
    page.goto(server.url + "/")
    widget = Widget(page).open()
    widget.ask("Ik wil een medewerker spreken")
    expect(widget.state).to_contain_text("Je wacht op een medewerker.")
    return widget


def handoff_status(server: Any, conversation_id: str) -> str:
    storage = server.storage()
    try:
        handoff = HandoffQueue(storage).current_handoff(conversation_id)
        assert handoff is not None
        return handoff.status
    finally:
        storage.close()


def test_a_waiting_member_returns_to_the_bot_and_the_next_member_moves_up(
    page: Any, second_page: Any, server: Any
) -> None:
    violations = watch_csp(page)
    first = wait_for_a_person(page, server)
    second = wait_for_a_person(second_page, server)
    ahead = place(first)
    assert place(second) == ahead + 1
    assert axe_violations(second_page) == []  # the state bar, its place and its button
    screenshot(second_page, "lifecycle-second-member-waiting")

    first.host.get_by_role("button", name="Stop met wachten, terug naar de bot").click()
    expect(first.state).to_be_hidden()
    expect(first.bot_bubbles.last).to_have_text(
        "Je wacht niet meer op een medewerker. Stel gerust je vraag, dan help ik je verder."
    )
    assert handoff_status(server, first.conversation_id() or "") == "left"
    first.ask("Wat is de contributie?")
    expect(first.bot_bubbles.last).to_have_text("De contributie is 25 euro per jaar.")
    screenshot(page, "lifecycle-back-to-the-bot")

    # The second member's place drops without a reload (the widget polls while waiting).
    expect(second.state).to_contain_text(f"Je bent nummer {ahead} in de wachtrij.", timeout=8000)
    screenshot(second_page, "lifecycle-second-member-moved-up")

    # "Nieuw gesprek" while waiting takes the old chat out of the queue too.
    old = second.conversation_id() or ""
    second.host.get_by_role("button", name="Nieuw gesprek").click()
    expect(second.state).to_be_hidden()
    for _ in range(50):
        if handoff_status(server, old) == "left":
            break
        second_page.wait_for_timeout(100)
    assert handoff_status(server, old) == "left"
    assert not violations, violations


def test_an_abandoned_chat_leaves_the_queue_and_the_console(
    page: Any, second_page: Any, agent_page: Any, server: Any, agent: str
) -> None:
    quiet = wait_for_a_person(page, server)
    gone = quiet.conversation_id() or ""
    console = agent_page
    console.goto(server.url + "/login?next=/console")
    console.fill("#email", agent)
    console.fill("#password", PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator(f'#waiting .entry[data-id="{gone}"]')).to_be_visible()
    expect(console.locator("#presence-hint")).to_contain_text(
        "seconds without one you show as away"
    )

    # The member closes the tab; nothing asks about the chat any more. Fifteen
    # minutes (bot.yml handoff.abandoned_after) pass, here by moving their last
    # activity back in the database the server shares.
    page.close()
    storage = server.storage()
    with storage.session() as s, s.begin():
        s.execute(
            update(Conversation)
            .where(Conversation.id == gone)
            .values(last_member_at=utcnow() - timedelta(minutes=20))
        )
    storage.close()

    # The next member counts only live chats, and the console's queue drops it.
    other = wait_for_a_person(second_page, server)
    expect(console.locator(f'#waiting .entry[data-id="{gone}"]')).to_have_count(0, timeout=20000)
    assert handoff_status(server, gone) == "abandoned"
    console.reload()
    expect(console.locator(f'#left .entry[data-id="{gone}"]')).to_contain_text("abandoned")
    screenshot(console, "lifecycle-abandoned-left-the-console-queue")
    # Still findable: the transcript opens, and says why the member left the queue.
    console.goto(f"{server.url}/console/conversations/{gone}")
    expect(console.locator("#transcript")).to_contain_text("We hoorden een tijd niets van je")
    expect(console.locator("#state")).to_have_text("bot")
    screenshot(console, "lifecycle-abandoned-transcript")
    other.host.get_by_role("button", name="Nieuw gesprek").click()
