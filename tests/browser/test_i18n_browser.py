"""An agent in Dutch sees Amsterdam times, in a real Chromium against a real `botbuilder serve`.

The browser asks for English; the sign-in page follows it, and its switch turns it Dutch.
The agent saves Dutch and Europe/Amsterdam on the preferences page, and from then on the
console is Dutch whatever the browser says: a message sent at 11:24 UTC in January shows
as 12:24, one in July as 13:24, and a message that arrives live (added by the console's
script) is shown in Amsterdam time too. No CSP violation, no script error, no serious
axe-core violation; screenshots in test-output/screenshots/.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import axe_violations
from tests.browser.csp import watch_csp
from tests.browser.helpers import screenshot, watch_script_errors
from tests.servers import serve_with_account

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
EMAIL, PASSWORD = "agent@example.org", "fietsen in de regen"
WINTER = datetime(2026, 1, 15, 11, 24, tzinfo=UTC)  # 12:24 in Amsterdam
SUMMER = datetime(2026, 7, 15, 11, 24, tzinfo=UTC)  # 13:24 in Amsterdam


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def agent_server(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """`botbuilder serve` with a copy of the small bot and one agent; its URL and instance."""
    work = tmp_path_factory.mktemp("i18n")
    flows = work / "flows"
    shutil.copytree(SMALL_BOT, flows)
    with serve_with_account(work, flows, EMAIL, PASSWORD, "agent") as url:
        yield url, work / "instance"


def _handoff_at_fixed_times(url: str, instance: Path) -> str:
    """A member asks for a person; their question is dated in winter, the bot's reply in summer."""
    from sqlalchemy import update

    from botbuilder.conversations.store import Message, Storage

    conversation = _post(f"{url}/api/v1/conversations", {"language": "nl"})["conversation_id"]
    turn = _post(
        f"{url}/api/v1/conversations/{conversation}/messages",
        {"text": "ik wil een medewerker spreken"},
    )
    assert turn["state"] == "waiting", turn
    storage = Storage(f"sqlite:///{instance / 'botbuilder.sqlite'}", migrate=False)
    try:
        first, second = storage.messages(conversation, None)[:2]
        with storage.session() as s, s.begin():
            s.execute(update(Message).where(Message.id == first.id).values(created_at=WINTER))
            s.execute(update(Message).where(Message.id == second.id).values(created_at=SUMMER))
    finally:
        storage.close()
    return str(conversation)


def test_an_agent_in_dutch_sees_amsterdam_times(
    browser: Any, agent_server: tuple[str, Path]
) -> None:
    url, instance = agent_server
    # An English browser on a computer set to UTC: only the saved choices make it Dutch.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp(page)
    errors = watch_script_errors(page)

    # The sign-in page follows the browser (English); its switch makes it Dutch.
    page.goto(f"{url}/login?next=/console")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert page.get_attribute("html", "lang") == "en"
    assert not axe_violations(page), axe_violations(page)
    page.get_by_role("link", name="Nederlands").click()
    expect(page.locator("h1")).to_have_text("Inloggen")
    assert page.get_attribute("html", "lang") == "nl"
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console")
    expect(page.locator("main h1")).to_have_text("Wachtrij")

    # Save Dutch and Amsterdam on the account, from the console's header.
    page.get_by_role("link", name="Jouw voorkeuren").click()
    page.wait_for_url(f"{url}/account/preferences")
    assert not axe_violations(page), axe_violations(page)
    page.select_option("#language", "nl")
    page.select_option("#timezone", "Europe/Amsterdam")
    page.click("#save-preferences")
    expect(page.locator("#preferences-saved")).to_have_text("Opgeslagen.")
    screenshot(page, "i18n-preferences-dutch")

    # A new browser session (English again, no switch): the account's choice holds.
    context.clear_cookies()
    page.goto(f"{url}/login?next=/console")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console")
    assert page.get_attribute("html", "lang") == "nl"

    # A member waits; the queue says so in Dutch, with how long ago.
    conversation = _handoff_at_fixed_times(url, instance)
    entry = page.locator(f'#waiting .entry[data-id="{conversation}"]')
    expect(entry).to_contain_text("wacht", timeout=10_000)
    page.get_by_role("button", name="Online").click()
    expect(page.locator("#presence-status")).to_have_text("online")
    assert not axe_violations(page), axe_violations(page)

    # The conversation: Dutch, and both fixed times in Amsterdam time (+1 in winter, +2 in summer).
    page.goto(f"{url}/console/conversations/{conversation}")
    expect(page.locator(f'time[datetime="{WINTER.isoformat()}"]')).to_have_text("12:24")
    expect(page.locator(f'time[datetime="{SUMMER.isoformat()}"]')).to_have_text("13:24")
    expect(page.locator("#claim")).to_have_text("Oppakken")
    expect(page.locator(".msg.member .who").first).to_have_text("lid")
    page.click("#claim")
    expect(page.locator("#state")).to_have_text("bij een medewerker")  # the state "agent"

    # A message that arrives while the page is open is added by the script, in Amsterdam time.
    before = datetime.now(ZoneInfo("Europe/Amsterdam"))
    _post(f"{url}/api/v1/conversations/{conversation}/messages", {"text": "Hallo, ben je daar?"})
    live = page.locator(".msg.member.fresh")
    expect(live).to_have_count(1, timeout=10_000)
    shown = live.locator("time").inner_text()
    after = datetime.now(ZoneInfo("Europe/Amsterdam"))
    allowed = {before.strftime("%H:%M"), after.strftime("%H:%M")}
    assert shown in allowed, (
        f"{shown} is not Amsterdam time ({allowed}); UTC would be {datetime.now(UTC):%H:%M}"
    )
    expect(live.locator(".who")).to_have_text("lid")
    assert not axe_violations(page), axe_violations(page)
    screenshot(page, "i18n-console-dutch-amsterdam")

    assert not violations, violations
    assert not errors, errors
    context.close()
