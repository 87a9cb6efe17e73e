"""The gap inbox pages through Flask's test client, on the example bot and the real model:
members' questions sent through /api/v1 become suggestions; a manager accepts one, lands
in the editor prefilled and unsaved, saves, and the questions leave the inbox."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask

from botbuilder.server import create_app
from tests.conftest import EXAMPLE_FLOWS
from tests.test_browse import signed_in
from tests.test_editor import PASSWORD
from tests.test_gaps import TOPICS

SUGGESTION = re.compile(r'id="suggestion-([0-9a-f]+)" data-kind="(\w+)"')


def ask(client: Any, text: str, n: int) -> dict[str, Any]:
    """One member asks `text` in a conversation of their own; after an answer they mark it 👎,
    after "Bedoelde je…?" they ask for a person (so the question counts at once)."""
    network = {"REMOTE_ADDR": f"10.9.{n % 250}.{n // 250 + 1}"}
    started = client.post("/api/v1/conversations", json={}, environ_base=network)
    url = f"/api/v1/conversations/{started.json['conversation_id']}"
    reply = client.post(f"{url}/messages", json={"text": text}, environ_base=network)
    assert reply.status_code == 200, reply.json
    if reply.json["decision"] == "answer":
        body = {"message_id": reply.json["messages"][0]["id"], "helpful": False}
        client.post(f"{url}/feedback", json=body, environ_base=network)
    elif reply.json["decision"] == "clarify":
        body = {"text": "ik wil een medewerker spreken"}
        client.post(f"{url}/messages", json=body, environ_base=network)
    return reply.json  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory, encoder: Any) -> Iterator[Flask]:
    """One app for the module (its tests run in order: read, accept, save, ignore), with the
    GPX and bike-rental questions of test_gaps asked by members of the example bot."""
    root = tmp_path_factory.mktemp("inbox")
    shutil.copytree(EXAMPLE_FLOWS, root / "flows")
    (root / "instance").mkdir()
    app = create_app(
        {
            "FLOWS_DIR": str(root / "flows"),
            "INSTANCE_PATH": str(root / "instance"),
            "DATABASE_URL": f"sqlite:///{root / 'app.sqlite'}",
            "RELOAD_INTERVAL": 0,
        }
    )
    accounts = app.extensions["botbuilder"].accounts
    for role in ("admin", "manager", "agent"):
        accounts.add(f"{role}@example.org", PASSWORD, role)
    member = app.test_client()
    for n, text in enumerate(TOPICS["gpx"] + TOPICS["rent"]):
        ask(member, text, n)
    yield app
    app.extensions["botbuilder"].storage.close()


def flows_of(app: Flask) -> Path:
    return Path(app.config["FLOWS_DIR"])


def suggestions(client: Any, query: str = "") -> list[tuple[str, str]]:
    page = client.get(f"/editor/inbox{query}")
    assert page.status_code == 200, page.text
    return SUGGESTION.findall(page.text)


def gpx_suggestion(client: Any, state: str = "new") -> str:
    page = client.get(f"/editor/inbox?state={state}").text
    for suggestion_id, _ in SUGGESTION.findall(page):
        block = page.split(f'id="suggestion-{suggestion_id}"', 1)[1].split("</article>", 1)[0]
        if "gpx" in block:
            return suggestion_id
    raise AssertionError(f"no {state} suggestion holds the gpx questions")


def test_only_managers_and_admins_open_the_inbox(example_app: Flask) -> None:
    anonymous = example_app.test_client().get("/editor/inbox")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert signed_in(example_app, "agent").get("/editor/inbox").status_code == 403
    for role in ("manager", "admin"):
        page = signed_in(example_app, role).get("/editor/inbox")
        assert page.status_code == 200 and 'aria-current="page">Inbox' in page.text


def test_inbox_shows_each_suggestion_with_kind_id_language_members_and_questions(
    example_app: Flask,
) -> None:
    manager = signed_in(example_app, "manager")
    found = suggestions(manager)
    assert len(found) >= 2
    page = manager.get("/editor/inbox").text
    gpx = gpx_suggestion(manager)
    block = page.split(f'id="suggestion-{gpx}"', 1)[1].split("</article>", 1)[0]
    assert "New intent" in block and "Proposed id <code>" in block
    assert "NL" in block and re.search(r"<strong>\d+</strong> members", block)
    assert html.escape(TOPICS["gpx"][0]) in page or any(
        html.escape(q) in block for q in TOPICS["gpx"]
    )
    counts = [int(n) for n in re.findall(r"<strong>(\d+)</strong> member", page)]
    assert counts == sorted(counts, reverse=True)  # ranked by the members they affect


def test_inbox_refuses_bad_states_languages_unknown_suggestions_and_missing_tokens(
    example_app: Flask,
) -> None:
    manager = signed_in(example_app, "manager")
    for query, message in (
        ("?state=done", "'state' must be one of new, accepted, ignored"),
        ("?language=xx", "'language' must be one of"),
    ):
        response = manager.get(f"/editor/inbox{query}")
        assert response.status_code == 400 and message in html.unescape(response.text)
    unknown = manager.post("/editor/inbox/ffff0000/accept", data={"csrf_token": manager.csrf})
    assert unknown.status_code == 404
    weird = manager.post("/editor/inbox/not-an-id/ignore", data={"csrf_token": manager.csrf})
    assert weird.status_code == 404
    assert manager.post(f"/editor/inbox/{gpx_suggestion(manager)}/accept").status_code == 403


def test_accept_opens_the_new_intent_form_prefilled_and_nothing_is_saved_yet(
    example_app: Flask,
) -> None:
    manager = signed_in(example_app, "manager")
    before = {p.name: p.read_text() for p in flows_of(example_app).glob("*.yml")}
    gpx = gpx_suggestion(manager)
    response = manager.post(f"/editor/inbox/{gpx}/accept", data={"csrf_token": manager.csrf})
    assert response.status_code == 302
    address = urlsplit(response.headers["Location"])
    assert address.path == "/editor/intent/new"
    args = parse_qs(address.query)
    assert args["lang"] == ["nl"] and args["id"][0] and args["title"][0]
    assert set(args["phrasing"]) <= set(TOPICS["gpx"] + TOPICS["rent"])
    form = manager.get(response.headers["Location"]).text
    assert 'id="from-inbox"' in form and "Not saved yet." in form
    assert f'name="id" value="{args["id"][0]}"' in form
    for question in args["phrasing"]:
        assert f'name="questions" value="{html.escape(question)}"' in form
    assert {p.name: p.read_text() for p in flows_of(example_app).glob("*.yml")} == before
    assert gpx not in dict(suggestions(manager))
    assert gpx in dict(suggestions(manager, "?state=accepted"))


def test_saving_the_accepted_intent_teaches_the_bot_and_empties_the_suggestion(
    example_app: Flask,
) -> None:
    manager = signed_in(example_app, "manager")
    gpx = gpx_suggestion(manager, "accepted")  # accepted by the test before; again is fine
    accepted = manager.post(f"/editor/inbox/{gpx}/accept", data={"csrf_token": manager.csrf})
    args = parse_qs(urlsplit(accepted.headers["Location"]).query)
    form = manager.get(accepted.headers["Location"]).text
    file = re.search(r'id="file" name="file" value="([^"]+)"', form)
    assert file
    data = {
        "csrf_token": manager.csrf,
        "file": file.group(1),
        "original_id": "",
        "revision": "",
        "id": args["id"][0],
        "questions": args["phrasing"],
        "answer": "De GPX-bestanden van alle clubritten staan onder **Routes** op de website.",
        "handoff_mode": "none",
        "save_anyway": "1",
    }
    saved = manager.post("/editor/intent", data=data)
    assert saved.status_code == 302, html.unescape(saved.text)[:2000]
    on_disk = yaml.safe_load((flows_of(example_app) / file.group(1)).read_text(encoding="utf-8"))
    assert any(i["id"] == args["id"][0] for i in on_disk["intents"])
    member = example_app.test_client()
    reply = ask(member, args["phrasing"][0], 900)
    assert reply["decision"] == "answer"
    assert "GPX-bestanden" in reply["messages"][0]["text"]
    assert gpx not in dict(suggestions(manager, "?state=accepted"))
    assert gpx not in dict(suggestions(manager))


def test_ignore_puts_the_suggestion_under_ignored(example_app: Flask) -> None:
    manager = signed_in(example_app, "manager")
    other, _ = suggestions(manager)[0]  # the GPX one was accepted and saved above
    response = manager.post(f"/editor/inbox/{other}/ignore", data={"csrf_token": manager.csrf})
    assert response.status_code == 302 and response.headers["Location"] == "/editor/inbox"
    assert other not in dict(suggestions(manager))
    assert other in dict(suggestions(manager, "?state=ignored"))


def test_no_intent_yet_puts_a_transcripts_question_in_the_inbox(example_app: Flask) -> None:
    member = example_app.test_client()
    started = member.post("/api/v1/conversations", json={}).json["conversation_id"]
    text = "wie is de voorzitter van de club eigenlijk"  # like nothing else asked
    turn = member.post(f"/api/v1/conversations/{started}/messages", json={"text": text}).json
    question = turn["member_message"]["id"]
    manager = signed_in(example_app, "manager")
    transcript = manager.get(f"/conversations/{started}").text
    assert f"/conversations/{started}/messages/{question}/inbox" in transcript
    response = manager.post(
        f"/conversations/{started}/messages/{question}/inbox", data={"csrf_token": manager.csrf}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/conversations/{started}#m{question}")
    loose = manager.get("/editor/inbox").text.split('id="loose"', 1)[1]
    assert html.escape(text) in loose and "put here from a conversation" in loose
    agent = signed_in(example_app, "agent")
    refused = agent.post(
        f"/conversations/{started}/messages/{question}/inbox", data={"csrf_token": agent.csrf}
    )
    assert refused.status_code == 403
    answer = turn["messages"][0]["id"]
    not_a_question = manager.post(
        f"/conversations/{started}/messages/{answer}/inbox", data={"csrf_token": manager.csrf}
    )
    assert not_a_question.status_code == 400


def test_editor_appends_handed_over_phrasings_to_an_intent_without_saving(
    app_factory, bot_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    app.extensions["botbuilder"].accounts.add("manager@example.org", PASSWORD, "manager")
    manager = signed_in(app, "manager")
    plain = manager.get("/editor/intent?file=faq.yml&id=contributie").text
    revision = re.search(r'name="revision" value="([^"]+)"', plain)
    before = (bot_dir / "faq.yml").read_text()
    page = manager.get(
        "/editor/intent?file=faq.yml&id=contributie&title=Kosten"
        "&phrasing=wat+moet+ik+betalen&phrasing=Wat+is+de+contributie%3F&phrasing=+"
    ).text
    questions = re.findall(r'<input name="questions" value="([^"]*)"', page)
    # After the saved ones and before the form's empty row: the new one, once; not the blank.
    assert questions[-2:] == ["wat moet ik betalen", ""]
    assert questions.count("Wat is de contributie?") == 1
    assert revision and f'name="revision" value="{revision.group(1)}"' in page
    assert "Not saved yet." in page and "Kosten" in page
    assert (bot_dir / "faq.yml").read_text() == before
    app.extensions["botbuilder"].storage.close()
