"""The editor through Flask's test client: login, CSRF, roles, YAML round trip, atomic
writes, versions and restore, conflicts, validation and reload — on real files."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest

from botbuilder.content.loader import inspect_bot

PASSWORD = "correct horse battery"
FAQ_COMMENTED = """\
# A small bot for fast tests: a few clearly different intents in two languages.
language: nl   # the language of every intent below
intents:
  - id: opzeggen
    questions:
      - Hoe zeg ik mijn lidmaatschap op?  # the most common phrasing
      - Ik wil stoppen als lid
      - lidmaatschap beëindigen
      - opzeggen
      - Kan ik mijn abonnement stopzetten?
      - Ik wil geen lid meer zijn
    answer: |
      Je zegt op via **Mijn account → Lidmaatschap**.
    buttons:
      - label: Wat is de opzegtermijn?
        goto: opzegtermijn
      - {label: Naar mijn account, url: "https://example.org/account"}
      - label: Ik wil iemand spreken
        handoff: true
  # Only reachable through the button above.
  - id: opzegtermijn
    context_only: true
    answer: 'De opzegtermijn is *een maand*.'
"""


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no field {name}"
    return match.group(1)


def login(client: Any, email: str, password: str = PASSWORD) -> str:
    token = _token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    return _token(client.get("/editor/").text) if "agent" not in email else token


@pytest.fixture
def editor_app(app_factory, bot_dir: Path):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    accounts = app.extensions["botbuilder"].accounts
    accounts.add("admin@example.org", PASSWORD, "admin")
    accounts.add("manager@example.org", PASSWORD, "manager")
    accounts.add("other@example.org", PASSWORD, "manager")
    accounts.add("agent@example.org", PASSWORD, "agent")
    yield app
    app.extensions["botbuilder"].storage.close()


@pytest.fixture
def manager(editor_app):  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    client.csrf = login(client, "manager@example.org")
    return client


def intent_form(client: Any, file: str, intent_id: str) -> dict[str, Any]:
    """The edit form as the browser would submit it, unchanged."""
    page = client.get(f"/editor/intent?file={file}&id={intent_id}")
    assert page.status_code == 200
    html = page.text
    questions = re.findall(r'<input name="questions" value="([^"]*)"', html)
    buttons = re.findall(r'<input name="button_label" value="([^"]*)"', html)
    return {
        "csrf_token": _token(html),
        "file": file,
        "original_id": intent_id,
        "revision": _field(html, "revision"),
        "id": intent_id,
        "questions": [q.replace("&#39;", "'") for q in questions],
        "answer": re.search(
            r'<textarea id="answer" name="answer"[^>]*>(.*?)</textarea>', html, re.S
        )
        .group(1)  # type: ignore[union-attr]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'"),
        "button_label": buttons,
        "handoff_mode": "none",
        "_page": html,
    }


def submit(
    client: Any,
    form: dict[str, Any],
    buttons: list[tuple[str, str, str]] | None = None,
    **extra: Any,
):  # type: ignore[no-untyped-def]
    data = {k: v for k, v in form.items() if not k.startswith("_")}
    if buttons is not None:
        data["button_label"] = [b[0] for b in buttons]
        data["button_kind"] = [b[1] for b in buttons]
        data["button_goto"] = [b[2] if b[1] == "goto" else "" for b in buttons]
        data["button_url"] = [b[2] if b[1] == "url" else "" for b in buttons]
    data.update(extra)
    return client.post("/editor/intent", data=data)


OPZEGGEN_BUTTONS = [
    ("Wat is de opzegtermijn?", "goto", "opzegtermijn"),
    ("Naar mijn account", "url", "https://example.org/account"),
    ("Ik wil iemand spreken", "handoff", ""),
]


# -- accounts and access --------------------------------------------------------------


def test_editor_pages_need_a_login_and_json_gets_401(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    page = client.get("/editor/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/editor/")
    preview = client.post("/editor/preview", json={"text": "x"})
    assert preview.status_code == 401
    assert preview.json["ok"] is False and "sign in" in preview.json["error"]


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    token = _token(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": "manager@example.org",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/editor/settings",
        },
    )
    assert response.headers["Location"] == "/editor/settings"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/editor/")
    assert page.status_code == 200 and "manager@example.org" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    client.post("/logout", data={"csrf_token": _token(page.text)})
    assert client.get("/editor/").status_code == 302


def test_session_cookie_is_secure_over_https(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    token = _token(client.get("/login", base_url="https://bot.example").text)
    response = client.post(
        "/login",
        base_url="https://bot.example",
        data={"email": "manager@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_never_redirects_to_another_site(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    token = _token(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": "manager@example.org",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["Location"] == "/editor/"


def test_wrong_password_shows_the_form_again_and_too_many_are_refused(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    token = _token(client.get("/login").text)
    for _ in range(5):
        failed = client.post(
            "/login", data={"email": "manager@example.org", "password": "nope", "csrf_token": token}
        )
        assert failed.status_code == 401 and "do not match" in failed.text
        assert 'value="manager@example.org"' in failed.text
    limited = client.post(
        "/login", data={"email": "manager@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert limited.status_code == 429 and "too many failed logins" in limited.text


def test_roles_agent_is_refused_manager_and_admin_may_edit(editor_app) -> None:  # type: ignore[no-untyped-def]
    agent = editor_app.test_client()
    login(agent, "agent@example.org")
    refused = agent.get("/editor/")
    assert refused.status_code == 403 and "for manager or admin" in refused.text
    assert agent.post("/editor/preview", json={"text": "x"}).status_code == 403
    for email in ("manager@example.org", "admin@example.org"):
        client = editor_app.test_client()
        login(client, email)
        assert client.get("/editor/").status_code == 200
        assert client.get("/editor/settings").status_code == 200
        assert client.get("/editor/history").status_code == 200


def test_removed_user_is_signed_out_at_once(editor_app, manager) -> None:  # type: ignore[no-untyped-def]
    editor_app.extensions["botbuilder"].accounts.remove("manager@example.org")
    assert manager.get("/editor/").status_code == 302


def test_no_users_is_logged_with_the_command_to_create_the_first_admin(
    app_factory, bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING):
        app = app_factory(bot_dir)
    assert "botbuilder user add you@example.org --role admin" in caplog.text
    assert "There are no accounts yet" in app.test_client().get("/login").text


# -- CSRF ------------------------------------------------------------------------------


def test_state_changing_requests_without_csrf_token_are_refused(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = (bot_dir / "faq.yml").read_text()
    form = intent_form(manager, "faq.yml", "contributie")
    form["answer"] = "Gratis!"
    for token in (None, "forged"):
        data = dict(form)
        if token is None:
            del data["csrf_token"]
        else:
            data["csrf_token"] = token
        assert submit(manager, data).status_code == 403
    assert (bot_dir / "faq.yml").read_text() == before
    refused = manager.post(
        "/editor/preview", json={"text": "x"}, headers={"X-CSRF-Token": "forged"}
    )
    assert refused.status_code == 403 and refused.json["error"].startswith("This form has expired")
    assert manager.post("/editor/history/1/restore").status_code == 403
    assert manager.post("/logout").status_code == 403
    ok = manager.post(
        "/editor/preview", json={"text": "**x**"}, headers={"X-CSRF-Token": manager.csrf}
    )
    assert ok.json == {"html": "<p><strong>x</strong></p>"}


def test_login_form_itself_needs_the_token(editor_app) -> None:  # type: ignore[no-untyped-def]
    client = editor_app.test_client()
    response = client.post("/login", data={"email": "manager@example.org", "password": PASSWORD})
    assert response.status_code == 403


def test_widget_api_stays_public_without_login_or_csrf(manager) -> None:  # type: ignore[no-untyped-def]
    started = manager.post("/api/v1/conversations", json={})  # even with a staff session cookie
    assert started.status_code == 201
    assert manager.post("/api/v1/match", json={"text": "opzeggen"}).status_code == 200


def test_preview_is_sanitized(manager) -> None:  # type: ignore[no-untyped-def]
    response = manager.post(
        "/editor/preview",
        json={"text": "<img src=x onerror=alert(1)> [x](javascript:alert(1)) **ok**"},
        headers={"X-CSRF-Token": manager.csrf},
    )
    html = response.json["html"]
    assert "<img" not in html and 'href="javascript' not in html and "<strong>ok</strong>" in html


# -- editing: round trip, atomic write, validation ----------------------------------------


def test_edit_changes_only_the_edited_lines_and_keeps_comments(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    faq = bot_dir / "faq.yml"
    faq.write_text(FAQ_COMMENTED, encoding="utf-8")
    form = intent_form(manager, "faq.yml", "opzeggen")
    form["answer"] = "Je zegt op via **Mijn account**.\nDe opzegtermijn is een maand."
    form["questions"].insert(2, "Hoe stop ik met de club?")
    response = submit(manager, form, OPZEGGEN_BUTTONS)
    assert response.status_code == 302, response.text
    after = faq.read_text(encoding="utf-8")
    import difflib

    changed = [
        line
        for line in difflib.unified_diff(
            FAQ_COMMENTED.splitlines(), after.splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "+      - Hoe stop ik met de club?",
        "-      Je zegt op via **Mijn account → Lidmaatschap**.",
        "+      Je zegt op via **Mijn account**.",
        "+      De opzegtermijn is een maand.",
    ]
    assert "# the most common phrasing" in after and "# Only reachable" in after
    assert "answer: 'De opzegtermijn is *een maand*.'" in after  # quotes kept elsewhere


def test_reordering_and_removing_questions_and_buttons(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    form = intent_form(manager, "faq.yml", "opzeggen")
    questions = form["questions"]
    form["questions"] = [questions[1], questions[0], *questions[3:]]
    response = submit(manager, form, [OPZEGGEN_BUTTONS[2], OPZEGGEN_BUTTONS[0]], context_only="")
    assert response.status_code == 302, response.text
    bot, _ = inspect_bot(bot_dir)
    assert bot is not None
    intent = bot.intents[("nl", "opzeggen")]
    assert (
        intent.questions[:2] == (questions[1], questions[0])
        and questions[2] not in intent.questions
    )
    assert [b.label for b in intent.buttons] == ["Ik wil iemand spreken", "Wat is de opzegtermijn?"]


def test_save_writes_atomically_and_leaves_no_temp_files(
    manager, bot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    faq = bot_dir / "faq.yml"
    before = faq.read_text()
    inode = faq.stat().st_ino
    form = intent_form(manager, "faq.yml", "contributie")
    form["answer"] = "De contributie is 30 euro per jaar."

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    assert submit(manager, form).status_code == 500
    assert faq.read_text() == before  # a crash mid-save leaves the old file whole
    monkeypatch.undo()
    assert submit(manager, form).status_code == 302
    assert faq.stat().st_ino != inode  # a new file renamed into place, not rewritten
    assert "30 euro" in faq.read_text()
    assert not [p.name for p in bot_dir.iterdir() if p.name.startswith(".")]


def test_invalid_change_is_not_written_and_the_error_sits_next_to_its_field(
    manager, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    faq = bot_dir / "faq.yml"
    before = faq.read_text()
    form = intent_form(manager, "faq.yml", "opzeggen")
    form["answer"] = "Mijn nieuwe antwoord dat bewaard moet blijven"
    buttons = [("Wat is de opzegtermijn?", "goto", "opzegterm"), *OPZEGGEN_BUTTONS[1:]]
    response = submit(manager, form, buttons)
    assert response.status_code == 422
    assert faq.read_text() == before
    # The same message `botbuilder check` prints for the same mistake on disk.
    broken = before.replace("goto: opzegtermijn", "goto: opzegterm")
    faq.write_text(broken)
    _, problems = inspect_bot(bot_dir)
    faq.write_text(before)
    message = next(p.message for p in problems if "opzegterm'" in p.message)
    assert message == "button 'goto: opzegterm' names no intent (did you mean 'opzegtermijn'?)"
    html = response.text.replace("&#39;", "'")
    assert 'data-field="button-0">faq.yml:' in html and message in html
    assert "Mijn nieuwe antwoord dat bewaard moet blijven" in html  # the input is kept


def test_empty_answer_is_reported_at_the_answer_field(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    form = intent_form(manager, "faq.yml", "contributie")
    form["answer"] = "   "
    response = submit(manager, form)
    assert response.status_code == 422
    assert 'data-field="answer"' in response.text and "is empty; write the text" in response.text


def test_new_intent_rename_and_delete(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    new = manager.get("/editor/intent/new?lang=nl&file=faq.yml")
    form = {
        "csrf_token": _token(new.text),
        "file": "faq.yml",
        "original_id": "",
        "revision": "",
        "id": "fietsenstalling",
        "questions": ["Waar kan ik mijn fiets stallen?", "fietsenstalling", ""],
        "answer": "Achter het clubhuis.",
        "handoff_mode": "none",
    }
    # Two phrasings: check's advice stops the first save, with the fix and "Save anyway".
    advised = manager.post("/editor/intent", data=form)
    assert advised.status_code == 422
    assert "intent &#39;fietsenstalling&#39; has 2 example questions; 4 or more" in advised.text
    assert 'name="save_anyway" value="1"' in advised.text
    assert "fietsenstalling" not in (bot_dir / "faq.yml").read_text()
    created = manager.post("/editor/intent", data={**form, "save_anyway": "1"})
    assert created.status_code == 302, created.text
    overview = manager.get("/editor/")
    assert "fietsenstalling" in overview.text and "Missing: translate" in overview.text
    # Renaming renames the intent in every language and every button that goes to it.
    form = intent_form(manager, "faq.yml", "opzegtermijn")
    form["id"] = "termijn"
    assert submit(manager, form, context_only="on").status_code == 302
    assert "goto: termijn" in (bot_dir / "faq_en.yml").read_text()
    assert "- id: termijn" in (bot_dir / "faq_en.yml").read_text()
    bot, _ = inspect_bot(bot_dir)
    assert bot is not None and ("en", "termijn") in bot.intents
    # Deleting an intent a button still goes to is refused with the reason.
    form = intent_form(manager, "faq_en.yml", "termijn")
    deleted = manager.post(
        "/editor/intent/delete",
        data={k: form[k] for k in ("csrf_token", "file", "original_id", "revision")},
    )
    assert deleted.status_code == 302  # the Dutch one is still there for the buttons
    form = intent_form(manager, "faq.yml", "termijn")
    refused = manager.post(
        "/editor/intent/delete",
        data={k: form[k] for k in ("csrf_token", "file", "original_id", "revision")},
    )
    assert refused.status_code == 409 and "names no intent" in refused.text
    form = intent_form(manager, "faq.yml", "fietsenstalling")
    deleted = manager.post(
        "/editor/intent/delete",
        data={k: form[k] for k in ("csrf_token", "file", "original_id", "revision")},
    )
    assert deleted.status_code == 302
    assert "fietsenstalling" not in (bot_dir / "faq.yml").read_text()


# -- versions, conflicts, reload -------------------------------------------------------------


def test_every_save_is_a_version_with_author_and_can_be_restored(
    app_factory, bot_dir: Path, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, database_url)
    app.extensions["botbuilder"].accounts.add("manager@example.org", PASSWORD, "manager")
    client = app.test_client()
    client.csrf = login(client, "manager@example.org")
    original = (bot_dir / "faq.yml").read_text()
    for price in ("30", "35"):
        form = intent_form(client, "faq.yml", "contributie")
        form["answer"] = f"De contributie is {price} euro per jaar."
        assert submit(client, form).status_code == 302
    history = client.get("/editor/history").text
    assert history.count("<td>manager@example.org</td>") == 2 and "<td>on disk</td>" in history
    versions = app.extensions["botbuilder"].editor.history.versions("faq.yml")
    assert [v.author for v in versions] == ["manager@example.org", "manager@example.org", None]
    assert versions[-1].content == original
    page = client.get(f"/editor/history/{versions[0].id}").text
    assert "+    answer: De contributie is 35 euro per jaar." in page.replace("&#39;", "'")
    restored = client.post(
        f"/editor/history/{versions[-1].id}/restore", data={"csrf_token": client.csrf}
    )
    assert restored.status_code == 302
    assert (bot_dir / "faq.yml").read_text() == original
    latest = app.extensions["botbuilder"].editor.history.latest("faq.yml")
    assert (
        latest.note.startswith(f"restored version {versions[-1].id}") and latest.content == original
    )
    assert (
        client.post("/api/v1/match", json={"text": "Wat is de contributie?"}).json["intent"]
        == "contributie"
    )
    app.extensions["botbuilder"].storage.close()


def test_second_manager_saving_the_same_intent_sees_a_conflict(editor_app, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = editor_app.test_client(), editor_app.test_client()
    login(first, "manager@example.org")
    login(second, "other@example.org")
    mine, theirs = (
        intent_form(first, "faq.yml", "contributie"),
        intent_form(second, "faq.yml", "contributie"),
    )
    mine["answer"] = "Eerste versie: 30 euro."
    assert submit(first, mine).status_code == 302
    theirs["answer"] = "Tweede versie: 40 euro."
    conflict = submit(second, theirs)
    assert conflict.status_code == 409
    assert (
        "someone else saved intent" in conflict.text and "Eerste versie: 30 euro." in conflict.text
    )
    assert "Tweede versie: 40 euro." in conflict.text  # their own text is kept in the form
    assert "Eerste versie" in (bot_dir / "faq.yml").read_text()
    # Another intent of the same file is no conflict.
    other = intent_form(second, "faq.yml", "wachtwoord")
    other["answer"] = "Gebruik de knop Wachtwoord vergeten."
    assert submit(second, other).status_code == 302
    # Having seen the conflict, saving again (with the new revision) is deliberate.
    theirs["revision"] = _field(conflict.text, "revision")
    assert submit(second, theirs).status_code == 302
    assert "Tweede versie" in (bot_dir / "faq.yml").read_text()


def test_saved_answer_reaches_another_server_process_and_hand_edits_are_picked_up(
    app_factory, editor_app, manager, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    other_process = app_factory(bot_dir).test_client()  # same files, its own runtime
    form = intent_form(manager, "faq.yml", "contributie")
    form["answer"] = "De contributie is 99 euro per jaar."
    assert submit(manager, form).status_code == 302
    start = other_process.post("/api/v1/conversations", json={}).json["conversation_id"]
    reply = other_process.post(
        f"/api/v1/conversations/{start}/messages", json={"text": "Wat is de contributie?"}
    )
    assert reply.json["messages"][0]["text"] == "De contributie is 99 euro per jaar."
    # A hand edit on disk: shown in the editor, and the bot uses it.
    faq = bot_dir / "faq.yml"
    faq.write_text(faq.read_text().replace("99 euro", "12 euro"))
    assert "12 euro" in intent_form(manager, "faq.yml", "contributie")["answer"]
    reply = other_process.post(
        f"/api/v1/conversations/{start}/messages", json={"text": "Wat is de contributie?"}
    )
    assert reply.json["messages"][0]["text"] == "De contributie is 12 euro per jaar."
    # A broken hand edit: the editor says so; the bot keeps answering.
    faq.write_text(faq.read_text().replace("goto: opzegtermijn", "goto: nergens"))
    page = manager.get("/editor/")
    assert 'id="flows-problem"' in page.text and "names no intent" in page.text
    reply = other_process.post(
        f"/api/v1/conversations/{start}/messages", json={"text": "Wat is de contributie?"}
    )
    assert reply.json["messages"][0]["text"] == "De contributie is 12 euro per jaar."


def test_try_it_answers_from_the_unsaved_form(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = (bot_dir / "faq.yml").read_text()
    form = intent_form(manager, "faq.yml", "evenementen")
    form["answer"] = "Kijk in de **nieuwe** agenda."
    form["questions"].append("Wanneer is de fietstocht naar de kust?")
    data = {k: v for k, v in form.items() if not k.startswith("_")}
    data["question"] = "wanneer is de fietstocht naar de kust"
    result = manager.post(
        "/editor/try",
        data=data,
        headers={"X-CSRF-Token": manager.csrf, "Accept": "application/json"},
    ).json
    assert result["ok"] and result["decision"] == "answer" and result["intent"] == "evenementen"
    assert result["answer"]["html"] == "<p>Kijk in de <strong>nieuwe</strong> agenda.</p>"
    assert result["candidates"][0]["intent"] == "evenementen"
    assert (bot_dir / "faq.yml").read_text() == before  # nothing written
    data["button_label"], data["button_kind"], data["button_goto"] = ["x"], ["goto"], ["nergens"]
    broken = manager.post(
        "/editor/try",
        data=data,
        headers={"X-CSRF-Token": manager.csrf, "Accept": "application/json"},
    ).json
    assert broken["ok"] is False and "names no intent" in broken["problems"][0]["text"]


def test_settings_are_saved_and_checked_like_botbuilder_check(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = manager.get("/editor/settings").text
    data = {
        "csrf_token": _token(page),
        "revision": _field(page, "revision"),
        "greeting_nl": "Hallo! Wat wil je weten?",
        "greeting_en": "Hi! How can I help?",
        "offline_message_nl": "We zijn er weer op maandag om 9:00. Laat je e-mail achter.",
        "offline_message_en": "",
        "welcome_nl": "",
        "welcome_en": "",
        "answer_threshold": "0.4",
        "clarify_threshold": "0.6",
        "widget_title": "Vraag het ons",
        "widget_color": "",
    }
    refused = manager.post("/editor/settings", data=data)
    assert refused.status_code == 422
    assert (
        'data-field="clarify_threshold"' in refused.text
        and "it must be lower or equal" in refused.text
    )
    assert "Hallo! Wat wil je weten?" in refused.text
    data["clarify_threshold"] = "auto"
    assert manager.post("/editor/settings", data=data).status_code == 302
    text = (bot_dir / "bot.yml").read_text()
    assert "nl: Hallo! Wat wil je weten?" in text and "answer_threshold: 0.4" in text
    assert "clarify_threshold" not in text and "allowed_origins: [https://allowed.example]" in text
    started = manager.post("/api/v1/conversations", json={"language": "nl"})
    assert started.json["messages"][0]["text"] == "Hallo! Wat wil je weten?"


def test_intent_list_groups_files_shows_languages_and_searches(manager) -> None:  # type: ignore[no-untyped-def]
    page = manager.get("/editor/").text
    assert "faq.yml" in page and "with faq_en.yml" in page
    assert '<th scope="col">NL</th>' in page and '<th scope="col">EN</th>' in page
    found = manager.get("/editor/?q=wachtwoord").text
    assert "<code>wachtwoord</code>" in found and "<code>contributie</code>" not in found


def test_a_save_waits_while_another_process_holds_the_flows_lock(
    bot_dir: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    from botbuilder.editing.forms import Draft
    from botbuilder.editing.service import FlowEditor

    lock = tmp_path / "instance" / "flows.lock"
    lock.parent.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); "
            "lock.acquire(); print('held', flush=True); time.sleep(2)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    editor = FlowEditor(bot_dir, history=None, lock_path=lock)  # no database: no versions
    faq = bot_dir / "faq.yml"
    changed = faq.read_text() + "# saved by the second writer\n"
    start = time.monotonic()
    assert editor.save(Draft({"faq.yml": changed}, {"faq.yml": "a test"}), "tester") == []
    waited = time.monotonic() - start
    holder.wait(timeout=10)
    assert waited >= 1.0 and faq.read_text() == changed


def test_an_answer_off_the_bots_tone_is_warned_about_at_save(manager, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    settings = bot_dir / "bot.yml"
    settings.write_text(settings.read_text() + "tone:\n  address: je\n")
    new = manager.get("/editor/intent/new?lang=nl&file=faq.yml")
    form = {
        "csrf_token": _token(new.text),
        "file": "faq.yml",
        "id": "stalling",
        "questions": [
            "Waar kan ik mijn fiets stallen?",
            "is er een fietsenstalling",
            "fiets neerzetten bij het clubhuis",
            "mag mijn racefiets binnen staan",
            "waar laat ik mijn mountainbike",
        ],
        "answer": "Uw fiets kunt u achter het clubhuis zetten.",
        "handoff_mode": "none",
    }
    advised = manager.post("/editor/intent", data=form)
    assert advised.status_code == 422
    assert "says &#39;u&#39; but this bot says &#39;je&#39;" in advised.text
    form["answer"] = "Je fiets kun je achter het clubhuis zetten."
    assert manager.post("/editor/intent", data=form).status_code == 302


def test_a_new_intent_goes_to_the_file_the_manager_came_from_or_one_they_choose(
    manager, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    overview = manager.get("/editor/").text
    assert 'href="/editor/intent/new?file=faq.yml"' in overview  # "New intent here"
    here = manager.get("/editor/intent/new?file=faq.yml").text
    assert _field(here, "file") == "faq.yml"
    page = manager.get("/editor/intent?file=faq.yml&id=contributie").text
    assert 'id="new-in-file"' in page and "file=faq.yml" in page
    # From the top "New intent" button no file is chosen for the manager.
    blank = manager.get("/editor/intent/new?lang=nl").text
    assert _field(blank, "file") == ""
    refused = submit(
        manager,
        {
            "csrf_token": _token(blank),
            "file": "",
            "original_id": "",
            "revision": "",
            "id": "stalling",
            "questions": ["Waar kan ik mijn fiets stallen?"],
            "answer": "Achter het clubhuis.",
            "handoff_mode": "none",
        },
    )
    assert refused.status_code == 422
    assert "choose the topic file this intent belongs in" in refused.text
    assert "stalling" not in (bot_dir / "faq.yml").read_text()
    # Questions from the inbox go to the topic file they read most like.
    inbox = manager.get("/editor/intent/new?lang=nl&phrasing=Wat+kost+lid+zijn+per+jaar").text
    assert _field(inbox, "file") == "faq.yml"
