"""An agent who leaves (deactivated by an admin, or removed on the command line) gives the
conversations they held back to their team's queue (conversations/release.py): a claimed
conversation answers to its holder alone, so the member would otherwise wait for nobody."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from tests.test_console import ANN, BOB, PASSWORD, member_hands_off, member_sees, post, sign_in


@pytest.fixture
def desk(app_factory, bot_dir, database_url: str):  # type: ignore[no-untyped-def]
    """Agents Ann and Bob and an admin; Ann holds a member's conversation, another waits."""
    app = app_factory(bot_dir, database_url)
    accounts = app.extensions["botbuilder"].accounts
    for email, role in ((ANN, "agent"), (BOB, "agent"), ("admin@example.org", "admin")):
        accounts.add(email, PASSWORD, role)
    ann = sign_in(app, ANN)
    held, waiting = member_hands_off(app), member_hands_off(app)
    assert post(ann, f"/console/conversations/{held}/claim").status_code in (200, 302)
    refused = post(sign_in(app, BOB), f"/console/conversations/{held}/reply", text="Hallo")
    assert refused.status_code == 409  # Ann's alone: the state this file is about
    yield app, held, waiting
    app.extensions["botbuilder"].storage.close()


def _queue(app: Any) -> list[str]:
    return [e.conversation.id for e in app.extensions["botbuilder"].queue.waiting()]


def _bob_takes_over(app: Any, conversation: str) -> None:
    bob = sign_in(app, BOB)
    assert post(bob, f"/console/conversations/{conversation}/claim").status_code in (200, 302)
    replied = post(bob, f"/console/conversations/{conversation}/reply", text="Ik help je verder")
    assert replied.status_code in (200, 302)
    assert member_sees(app, conversation)[-1]["text"] == "Ik help je verder"


def test_an_agent_deactivated_by_an_admin_gives_their_conversations_back_to_the_queue(
    desk: Any,
) -> None:
    app, held, waiting = desk
    admin = sign_in(app, "admin@example.org")
    ann_id = next(u.id for u in app.extensions["botbuilder"].accounts.users() if u.email == ANN)
    told = len(member_sees(app, held))
    assert post(admin, f"/admin/users/{ann_id}/deactivate").status_code == 302
    assert sorted(_queue(app)) == sorted([held, waiting])
    assert len(member_sees(app, held)) == told + 1  # the member reads that a colleague takes over
    assert app.extensions["botbuilder"].queue.owner(held) is None
    before = [m["text"] for m in member_sees(app, waiting)]
    _bob_takes_over(app, held)
    assert [m["text"] for m in member_sees(app, waiting)] == before  # the other one untouched


def test_an_agent_removed_on_the_command_line_gives_their_conversations_back_to_the_queue(
    desk: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, held, waiting = desk
    monkeypatch.setenv("BOTBUILDER_DATABASE_URL", database_url)
    removed = CliRunner().invoke(main, ["user", "remove", ANN])
    assert removed.exit_code == 0, removed.output
    assert sorted(_queue(app)) == sorted([held, waiting])
    _bob_takes_over(app, held)
