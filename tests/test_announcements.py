"""Announcements: a manager posts a notice, every open chat and every replica sees it,
questions about its intents get it first, and one switch ends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_editor import editor_app, login, manager  # noqa: F401

STORM = "De rit van zondag gaat niet door vanwege storm."
STORM_EN = "Sunday's ride is cancelled because of the storm."


def _post(client: Any, **fields: Any) -> Any:
    data = {"csrf_token": client.csrf, "text_nl": STORM, "text_en": STORM_EN, **fields}
    return client.post("/editor/announcements/", data=data)


def _running(client: Any, language: str = "nl") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/announcements?language={language}")
    assert response.status_code == 200, response.text
    return response.json["announcements"]  # type: ignore[no-any-return]


def _ask(client: Any, text: str) -> list[str]:
    started = client.post("/api/v1/conversations", json={"language": "nl"}).json
    turn = client.post(
        f"/api/v1/conversations/{started['conversation_id']}/messages", json={"text": text}
    ).json
    return [m["text"] for m in turn["messages"]]


def test_a_posted_notice_runs_in_each_language_until_it_is_ended(manager) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert _running(manager) == []
    assert _post(manager).status_code == 302
    assert [a["text"] for a in _running(manager, "nl")] == [STORM]
    assert [a["text"] for a in _running(manager, "en")] == [STORM_EN]
    page = manager.get("/editor/announcements/").text
    assert "Running" in page and STORM in page
    notice = _running(manager)[0]["id"]
    ended = manager.post(f"/editor/announcements/{notice}/end", data={"csrf_token": manager.csrf})
    assert ended.status_code == 302
    assert _running(manager) == []
    assert "Ended" in manager.get("/editor/announcements/").text


def test_questions_about_its_intents_get_the_notice_first_and_others_do_not(manager) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert _post(manager, intents=["contributie"]).status_code == 302
    said = _ask(manager, "Wat is de contributie?")
    assert said[0] == STORM and "25 euro" in said[1]
    assert STORM not in _ask(manager, "Ik ben mijn wachtwoord vergeten")


def test_an_unchanged_list_is_a_304_with_its_etag(manager) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    first = manager.get("/api/v1/announcements")
    again = manager.get("/api/v1/announcements", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    _post(manager)
    changed = manager.get("/api/v1/announcements", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["announcements"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text_nl": "", "text_en": " "}, "write the notice in at least one language"),
        ({"text_nl": "x" * 1001}, "at most 1000 characters"),
        ({"starts_at": "2026-11-29T10:00", "ends_at": "2026-11-29T09:00"}, "end must be after"),
        ({"starts_at": "morgen"}, "must be a date and time"),
        ({"intents": ["bestaat_niet"]}, "no intent &#39;bestaat_niet&#39;"),
    ],
)
def test_a_notice_that_cannot_run_is_refused_with_the_reason(
    manager,  # type: ignore[no-untyped-def]  # noqa: F811
    fields: dict[str, Any],
    message: str,
) -> None:
    refused = _post(manager, **fields)
    assert refused.status_code == 400
    assert message in refused.text
    assert _running(manager) == []


def test_an_unknown_language_or_announcement_is_a_4xx(manager) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert manager.get("/api/v1/announcements?language=fr").status_code == 400
    gone = manager.post("/editor/announcements/99/end", data={"csrf_token": manager.csrf})
    assert gone.status_code == 404
    huge = manager.post(f"/editor/announcements/{10**30}/end", data={"csrf_token": manager.csrf})
    assert huge.status_code in (400, 404)


def test_agents_cannot_post_notices(editor_app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    agent = editor_app.test_client()
    agent.csrf = login(agent, "agent@example.org")
    refused = agent.post("/editor/announcements/", data={"csrf_token": agent.csrf, "text_nl": "x"})
    assert refused.status_code == 403


def test_every_replica_shows_a_notice_posted_on_another(
    app_factory, bot_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = app_factory(bot_dir, url), app_factory(bot_dir, url)
    first.extensions["botbuilder"].accounts.add("m@example.org", "correct horse battery", "manager")
    client = first.test_client()
    client.csrf = login(client, "m@example.org", "correct horse battery")
    assert _post(client).status_code == 302
    assert [a["text"] for a in _running(second.test_client())] == [STORM]
    notice = _running(second.test_client())[0]["id"]
    client.post(f"/editor/announcements/{notice}/end", data={"csrf_token": client.csrf})
    assert _running(second.test_client()) == []
