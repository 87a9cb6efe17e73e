"""Editor safety in a real browser: leaving a changed form asks first and the draft comes
back; a thin intent is held with check's advice until the manager saves anyway; on a
tablet "Try it" stays beside the form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.csp import watch_csp
from tests.browser.test_editor_browser import (  # noqa: F401  (fixtures used by name)
    EMAIL,
    LAPTOP,
    PASSWORD,
    TABLET,
    _bot_says,
    _shot,
    chromium,
    editor_server,
)

PHRASINGS = [
    "Waar kan ik mijn fiets stallen?",
    "is er een fietsenstalling bij het clubhuis",
    "mag mijn racefiets mee naar binnen",
    "fiets neerzetten tijdens de clubavond",
    "waar laat ik mijn mountainbike",
]


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/editor/")


def _questions(page: Any) -> list[str]:
    values = [q.input_value() for q in page.locator("#questions input[name=questions]").all()]
    return [v for v in values if v]


def test_leaving_unsaved_changes_asks_first_and_the_draft_comes_back(
    chromium: Any,  # noqa: F811  (the shared fixtures, imported above)
    editor_server: tuple[str, Path],  # noqa: F811
) -> None:
    url, flows = editor_server
    context = chromium.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations = watch_csp(page)
    _sign_in(page, url)

    page.goto(f"{url}/editor/intent/new?lang=nl&file=faq.yml")
    page.fill("#intent-id", "fietsenstalling")
    for i, question in enumerate(PHRASINGS):
        if i:
            page.click("#add-question")
        page.locator("#questions input[name=questions]").last.fill(question)
    page.fill("#answer", "Zet je fiets in het hok achter het clubhuis; ga naar de achterdeur.")
    page.wait_for_timeout(600)  # the draft is kept after a short pause in typing

    # Leaving by the menu asks first ("Leave site? Changes you made may not be saved.").
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.click("nav a:text-is('Settings')")
    page.wait_for_url(f"{url}/editor/settings")
    assert dialogs == ["beforeunload"]

    # Back on the form, the draft is offered and brings all five phrasings back.
    page.goto(f"{url}/editor/intent/new?lang=nl&file=faq.yml")
    page.wait_for_selector("#draft-offer")
    _shot(page, "editor-draft-offered")
    page.click("#draft-restore")
    assert _questions(page) == PHRASINGS
    assert page.input_value("#intent-id") == "fietsenstalling"

    # Saving ends the draft: no prompt on the way out, no offer on return.
    page.click("#save")
    page.wait_for_selector(".banner.ok")
    assert "fietsenstalling" in (flows / "faq.yml").read_text()
    page.goto(f"{url}/editor/intent/new?lang=nl&file=faq.yml")
    page.wait_for_timeout(300)
    assert page.locator("#draft-offer").count() == 0
    assert dialogs == ["beforeunload"]
    assert "achterdeur" in _bot_says(url, "waar kan mijn fiets staan", "achterdeur")
    assert not violations, violations
    context.close()


def test_a_save_with_one_phrasing_shows_the_warning_and_can_save_anyway(
    chromium: Any,  # noqa: F811  (the shared fixtures, imported above)
    editor_server: tuple[str, Path],  # noqa: F811
) -> None:
    url, flows = editor_server
    context = chromium.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in(page, url)
    page.goto(f"{url}/editor/intent/new?lang=nl&file=faq.yml")
    page.fill("#intent-id", "parkeren")
    page.locator("#questions input[name=questions]").last.fill("Waar kan ik parkeren?")
    page.fill("#answer", "Ga naar het parkeerterrein naast het clubhuis.")
    page.click("#save")
    page.wait_for_selector("#advice")
    assert "has 1 example question; 4 or more" in page.inner_text("#advice")
    _shot(page, "editor-save-advice")
    assert "parkeren" not in (flows / "faq.yml").read_text()
    assert _questions(page) == ["Waar kan ik parkeren?"]  # nothing typed is lost
    page.click("#save-anyway")
    page.wait_for_selector(".banner.ok")
    assert "parkeren" in (flows / "faq.yml").read_text()
    context.close()


def test_on_a_tablet_try_it_stays_beside_the_form(
    chromium: Any,  # noqa: F811  (the shared fixtures, imported above)
    editor_server: tuple[str, Path],  # noqa: F811
) -> None:
    url, _ = editor_server
    context = chromium.new_context(viewport=TABLET)
    page = context.new_page()
    _sign_in(page, url)
    page.click("tr:has(code:text-is('contributie')) td >> nth=0 >> a")
    page.wait_for_selector("#intent-form")
    form, tried = page.locator("#intent-form").bounding_box(), page.locator(".try").bounding_box()
    assert tried["x"] >= form["x"] + form["width"]  # beside, not below
    assert tried["y"] < form["y"] + 200
    _shot(page, "editor-try-it-tablet")
    context.close()
