"""An admin deletes one member's data from the console: admins only, CSRF, a typed confirmation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from botbuilder.conversations.store import Storage

from .test_console import PASSWORD, _token, member_hands_off, post, sign_in

ADMIN, MANAGER, AGENT = "admin@example.org", "manager@example.org", "agent@example.org"
ADDRESS = "jan.jansen@example.org"


@pytest.fixture
def admin_app(app_factory, bot_dir: Path, database_url: str):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir, database_url)
    accounts = app.extensions["botbuilder"].accounts
    for email, role in ((ADMIN, "admin"), (MANAGER, "manager"), (AGENT, "agent")):
        accounts.add(email, PASSWORD, role)
    yield app
    app.extensions["botbuilder"].storage.close()


def _rows(app: Any, conversation: str) -> int:
    """Rows of any table that hold the conversation's id."""
    storage: Storage = app.extensions["botbuilder"].storage
    with storage.engine.connect() as c:
        conversations = c.scalar(
            text("SELECT COUNT(*) FROM conversations WHERE id = :id"), {"id": conversation}
        )
        messages = c.scalar(
            text("SELECT COUNT(*) FROM messages WHERE conversation_id = :id"), {"id": conversation}
        )
    return int(conversations or 0) + int(messages or 0)


def _leaves_address(app: Any, address: str = ADDRESS) -> str:
    """A member asks for a person while nobody is online, and leaves an e-mail address."""
    app.extensions["botbuilder"].queue.set_presence(AGENT, "away")
    conversation = member_hands_off(app)
    member = app.test_client()
    member.post(f"/api/v1/conversations/{conversation}/messages", json={"text": address})
    storage: Storage = app.extensions["botbuilder"].storage
    with storage.engine.connect() as c:
        found = c.scalar(
            text("SELECT COUNT(*) FROM follow_ups WHERE conversation_id = :id AND email = :e"),
            {"id": conversation, "e": address},
        )
    assert found == 1
    return conversation


def _delete(client: Any, conversation: str, **data: str) -> Any:
    return post(client, f"/console/conversations/{conversation}/delete", **data)


@pytest.mark.parametrize("email", [AGENT, MANAGER])
def test_agents_and_managers_may_not_delete_member_data(admin_app: Any, email: str) -> None:
    conversation = member_hands_off(admin_app)
    client = sign_in(admin_app, email)
    assert client.get(f"/console/conversations/{conversation}/delete").status_code == 403
    assert _delete(client, conversation, confirm="delete").status_code == 403
    assert _rows(admin_app, conversation) > 0
    page = client.get(f"/console/conversations/{conversation}").text
    assert "delete-member-data" not in page


def test_an_admin_deletes_a_conversation_after_typing_the_word(admin_app: Any) -> None:
    conversation, other = member_hands_off(admin_app), member_hands_off(admin_app)
    client = sign_in(admin_app, ADMIN)
    page = client.get(f"/console/conversations/{conversation}").text
    assert f'href="/console/conversations/{conversation}/delete"' in page
    confirm = client.get(f"/console/conversations/{conversation}/delete")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
    done = _delete(client, conversation, confirm="Delete ")
    assert done.status_code == 200 and 'id="deleted"' in done.text
    assert _rows(admin_app, conversation) == 0
    assert _rows(admin_app, other) > 0, "only that member's data"


def test_without_the_typed_word_nothing_is_deleted(admin_app: Any) -> None:
    conversation = member_hands_off(admin_app)
    client = sign_in(admin_app, ADMIN)
    refused = _delete(client, conversation, confirm="yes")
    assert refused.status_code == 400 and "type &#39;delete&#39; to confirm" in refused.text
    assert _rows(admin_app, conversation) > 0


def test_a_delete_without_the_csrf_token_is_refused(admin_app: Any) -> None:
    conversation = member_hands_off(admin_app)
    client = sign_in(admin_app, ADMIN)
    response = client.post(
        f"/console/conversations/{conversation}/delete", data={"confirm": "delete"}
    )
    assert response.status_code == 403
    assert _rows(admin_app, conversation) > 0


def test_an_unknown_conversation_is_a_404(admin_app: Any) -> None:
    client = sign_in(admin_app, ADMIN)
    assert client.get("/console/conversations/" + "0" * 32 + "/delete").status_code == 404
    assert _delete(client, "0" * 32, confirm="delete").status_code == 404


def test_the_admin_may_delete_by_the_follow_up_address_too(admin_app: Any) -> None:
    first, second = _leaves_address(admin_app), _leaves_address(admin_app)
    unrelated = member_hands_off(admin_app)
    client = sign_in(admin_app, ADMIN)
    confirm = client.get(f"/console/conversations/{first}/delete").text
    assert f'value="{ADDRESS}"' in confirm
    done = _delete(client, first, confirm="delete", email=ADDRESS)
    assert done.status_code == 200
    assert _rows(admin_app, first) == 0 and _rows(admin_app, second) == 0
    assert _rows(admin_app, unrelated) > 0
    storage: Storage = admin_app.extensions["botbuilder"].storage
    with storage.engine.connect() as c:
        named = select(func.count()).select_from(text("follow_ups")).where(text("email = :e"))
        assert c.scalar(named, {"e": ADDRESS}) == 0


def test_an_address_that_is_not_the_conversations_is_refused(admin_app: Any) -> None:
    first = _leaves_address(admin_app)
    other = _leaves_address(admin_app, "someone.else@example.org")
    client = sign_in(admin_app, ADMIN)
    refused = _delete(client, first, confirm="delete", email="someone.else@example.org")
    assert refused.status_code == 400
    assert _rows(admin_app, first) > 0 and _rows(admin_app, other) > 0


def test_the_deletion_is_logged_with_counts_and_never_the_address_or_text(
    admin_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = _leaves_address(admin_app)
    client = sign_in(admin_app, ADMIN)
    with caplog.at_level(logging.INFO):
        _delete(client, conversation, confirm="delete", email=ADDRESS)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "deleted a member's data from the console" in logged
    assert ADDRESS not in logged and "medewerker" not in logged and conversation not in logged


def test_the_confirmation_page_has_the_csrf_token(admin_app: Any) -> None:
    conversation = member_hands_off(admin_app)
    client = sign_in(admin_app, ADMIN)
    page = client.get(f"/console/conversations/{conversation}/delete").text
    assert _token(page) == client.csrf
