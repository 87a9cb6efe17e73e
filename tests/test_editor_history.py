"""History in words, per intent: what a save changed, and one intent brought back
without undoing colleagues' later changes elsewhere in the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botbuilder.content.loader import load_bot
from botbuilder.editing.restoring import intent_changes
from tests.test_editor import editor_app, intent_form, manager, submit  # noqa: F401

FAQ = "faq.yml"


def _edit(client: Any, intent_id: str, **changes: Any) -> None:
    form = intent_form(client, FAQ, intent_id)
    form.update(changes)
    assert submit(client, form).status_code == 302


def _versions(app: Any) -> list[Any]:
    return app.extensions["botbuilder"].editor.history.versions(FAQ)


def test_a_version_page_says_per_intent_which_questions_and_words_changed(
    editor_app: Any,  # noqa: F811
    manager: Any,  # noqa: F811
) -> None:
    form = intent_form(manager, FAQ, "contributie")
    _edit(
        manager,
        "contributie",
        questions=[*form["questions"][1:], "Wat kost een jaar lid zijn?"],
        answer="De contributie is 30 euro per jaar, te betalen in januari.",
    )
    page = manager.get(f"/editor/history/{_versions(editor_app)[0].id}").text
    assert "<code>contributie</code>" in page
    assert 'Questions added:</p><ul class="questions add"><li>Wat kost een jaar lid zijn?' in page
    assert "<li>Hoeveel kost het lidmaatschap?</li>" in page  # removed
    assert "<del>25</del>" in page and "<ins>30</ins>" in page
    assert "<ins>jaar, te betalen in januari.</ins>" in page or "<ins>" in page


def test_one_intent_is_restored_and_a_later_change_to_another_intent_stays(
    editor_app: Any,  # noqa: F811
    manager: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    _edit(manager, "contributie", answer="De contributie is 30 euro per jaar.")
    _edit(manager, "contributie", answer="De contributie is 99 euro per jaar.")
    _edit(manager, "wachtwoord", answer="Ga naar Wachtwoord vergeten op de inlogpagina.")
    versions = _versions(editor_app)
    thirty = next(v for v in versions if "30 euro" in v.content and "99 euro" not in v.content)
    page = manager.get(f"/editor/history/{thirty.id}").text
    assert 'data-restore-intent="contributie"' in page
    restored = manager.post(
        f"/editor/history/{thirty.id}/restore-intent",
        data={"csrf_token": manager.csrf, "intent": "contributie"},
    )
    assert restored.status_code == 302
    bot = load_bot(bot_dir)
    assert bot.intent("contributie", "nl").answer == "De contributie is 30 euro per jaar."
    assert bot.intent("wachtwoord", "nl").answer.startswith("Ga naar Wachtwoord vergeten")
    latest = editor_app.extensions["botbuilder"].editor.history.latest(FAQ)
    assert latest.note.startswith(f"restored intent 'contributie' from version {thirty.id}")
    assert latest.author == "manager@example.org"


def test_a_deleted_intent_can_be_brought_back_from_an_old_version(
    editor_app: Any,  # noqa: F811
    manager: Any,  # noqa: F811
    bot_dir: Path,
) -> None:
    form = intent_form(manager, FAQ, "contributie")
    deleted = manager.post(
        "/editor/intent/delete",
        data={
            "csrf_token": manager.csrf,
            "file": FAQ,
            "original_id": "contributie",
            "revision": form["revision"],
        },
    )
    assert deleted.status_code == 302
    assert ("nl", "contributie") not in load_bot(bot_dir).intents
    before = _versions(editor_app)[-1]  # as found on disk, with contributie
    back = manager.post(
        f"/editor/history/{before.id}/restore-intent",
        data={"csrf_token": manager.csrf, "intent": "contributie"},
    )
    assert back.status_code == 302
    assert "25 euro" in load_bot(bot_dir).intents[("nl", "contributie")].answer


def test_restoring_an_intent_the_version_does_not_have_is_a_404(
    editor_app: Any,  # noqa: F811
    manager: Any,  # noqa: F811
) -> None:
    _edit(manager, "contributie", answer="De contributie is 30 euro per jaar.")
    version = _versions(editor_app)[0]
    missing = manager.post(
        f"/editor/history/{version.id}/restore-intent",
        data={"csrf_token": manager.csrf, "intent": "bestaat-niet"},
    )
    assert missing.status_code == 404


def test_changes_are_read_intent_by_intent_from_two_file_versions() -> None:
    before = "intents:\n  - id: a\n    questions: [x, y]\n    answer: one two three\n"
    after = (
        "intents:\n  - id: a\n    questions: [y, z]\n    answer: one four three\n"
        "  - id: b\n    questions: [q]\n    answer: new\n"
    )
    changes = {c.intent_id: c for c in intent_changes(before, after)}
    assert changes["a"].questions_added == ("z",) and changes["a"].questions_removed == ("x",)
    assert changes["a"].answer_words() == [
        ("same", "one"),
        ("remove", "two"),
        ("add", "four"),
        ("same", "three"),
    ]
    assert changes["b"].kind == "added" and changes["b"].answer_after == "new"
    assert intent_changes(after, after) == []
    assert intent_changes("not: [a flow", after)[0].kind == "added"
