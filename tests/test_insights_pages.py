"""The dashboard (/editor/stats), its CSV files and the 👎 review (/editor/feedback), on a real app.

Conversations are sent through the real widget API (/api/v1) and rated there;
the pages must show the numbers the test counted from the API's own answers,
which are also what `insights.figures.figures` says.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from botbuilder.insights.dashboard import TABLES
from botbuilder.insights.feedback import thumbs_down
from botbuilder.insights.figures import Period, bot_timezone, figures
from tests.conftest import SMALL_BOT
from tests.test_editor import PASSWORD, editor_app, login, manager  # noqa: F401  (fixtures)

# (language, member messages, rating of the first bot answer: True 👍, False 👎, None)
STREAM: list[tuple[str, list[str], bool | None]] = [
    ("nl", ["Hoe zeg ik mijn lidmaatschap op?"], True),
    ("nl", ["Hoe zeg ik mijn lidmaatschap op?", "Ik wil stoppen als lid"], None),
    ("nl", ["Wat is de contributie?"], False),
    ("nl", ["Wat is de contributie?", "dat klopt niet, ik betaal 30"], False),
    ("nl", ["Hoeveel kost het lidmaatschap?", "ik wil een medewerker"], False),
    ("nl", ["Wat is de contributie?"], True),
    ("nl", ["Ik ben mijn wachtwoord vergeten"], False),
    ("nl", ["Ik ben mijn wachtwoord vergeten"], True),
    ("nl", ["Ik kan niet inloggen"], True),
    ("nl", ["ik wil een medewerker"], None),
    ("nl", ['=HYPERLINK("https://evil.example")', "nog iets"], None),
    ("en", ["How do I cancel my membership?"], False),
    ("en", ["What is the membership fee?"], True),
]


def _stream(client: Any) -> dict[str, Any]:
    """Send STREAM through the API; what a careful person would count from its answers."""
    tally: dict[str, Any] = {
        "conversations": Counter(),
        "member_messages": Counter(),
        "decisions": Counter(),
        "answers": Counter(),
        "helpful": 0,
        "not_helpful": 0,
        "conversation_ids": [],
    }
    for language, texts, rating in STREAM:
        start = client.post("/api/v1/conversations", json={"language": language})
        conversation = start.json["conversation_id"]
        tally["conversation_ids"].append(conversation)
        tally["conversations"][language] += 1
        rated = False
        for text in texts:
            turn = client.post(
                f"/api/v1/conversations/{conversation}/messages", json={"text": text}
            )
            assert turn.status_code == 200, turn.text
            tally["member_messages"][language] += 1
            bot = turn.json["messages"]
            if turn.json["decision"] is None or not bot:
                continue  # waiting for an agent: the bot decided nothing
            decision = bot[0]["decision"]
            tally["decisions"][decision] += 1
            if decision == "answer":
                tally["answers"][bot[0]["intent"]] += 1
            if rating is not None and not rated:
                body = {"message_id": bot[0]["id"], "helpful": rating}
                assert client.post(
                    f"/api/v1/conversations/{conversation}/feedback", json=body
                ).status_code in (200, 204)
                tally["helpful" if rating else "not_helpful"] += 1
                rated = True
    return tally


@pytest.fixture(scope="module")
def streamed(
    tmp_path_factory: pytest.TempPathFactory, embedding_cache: Any, encoder: Any
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """One app with STREAM sent through its API (once for the module: the pages only read)."""
    from botbuilder.server import create_app

    work = tmp_path_factory.mktemp("insights")
    shutil.copytree(SMALL_BOT, work / "flows")
    app = create_app(
        {
            "FLOWS_DIR": str(work / "flows"),
            "INSTANCE_PATH": str(work / "instance"),
            "DATABASE_URL": f"sqlite:///{work / 'app.sqlite'}",
            "RELOAD_INTERVAL": 0,
        }
    )
    accounts = app.extensions["botbuilder"].accounts
    for role in ("admin", "manager", "agent"):
        accounts.add(f"{role}@example.org", PASSWORD, role)
    tally = _stream(app.test_client())
    yield app, tally
    app.extensions["botbuilder"].storage.close()


def _signed_in(app: Any, email: str = "manager@example.org") -> Any:
    client = app.test_client()
    login(client, email)
    return client


def _today(app: Any) -> date:
    bot = app.extensions["botbuilder"].runtime.current().bot
    return datetime.now(ZoneInfo(bot_timezone(bot))).date()


def _chart_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert match, "no chart data in the page"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def _tile(html: str, name: str) -> str:
    match = re.search(rf'id="tile-{name}">([^<]*)<', html)
    assert match, f"no tile {name}"
    return unescape(match.group(1))


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.text)))


# -- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/editor/stats", "/editor/feedback", "/editor/stats/summary.csv", "/editor/feedback.csv"],
)
def test_insight_pages_send_anonymous_visitors_to_the_login_and_refuse_agents(
    streamed: Any, path: str
) -> None:
    app, _ = streamed
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    refused = _signed_in(app, "agent@example.org").get(path)
    assert refused.status_code == 403 and "for manager or admin" in refused.text
    for email in ("manager@example.org", "admin@example.org"):
        assert _signed_in(app, email).get(path).status_code == 200


def test_dashboard_and_feedback_are_in_the_editor_menu_with_the_strict_policy(
    streamed: Any,
) -> None:
    viewer = _signed_in(streamed[0])
    page = viewer.get("/editor/")
    assert 'href="/editor/stats"' in page.text and ">Dashboard</a>" in page.text
    assert 'href="/editor/feedback"' in page.text and ">Feedback</a>" in page.text
    stats = viewer.get("/editor/stats")
    assert "script-src 'self'" in stats.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in stats.headers["Content-Security-Policy"]
    assert stats.headers["Cache-Control"] == "no-store"
    assert 'aria-current="page">Dashboard' in stats.text
    # No inline script or style: only JSON data and scripts from files.
    for tag in re.findall(r"<script[^>]*>", stats.text):
        assert 'type="application/json"' in tag or "src=" in tag, tag
    assert "<style" not in stats.text and " style=" not in stats.text


# -- the numbers ---------------------------------------------------------------------------


def test_dashboard_shows_the_numbers_of_conversations_sent_through_the_api(
    streamed: Any,
) -> None:
    app, tally = streamed
    viewer = _signed_in(app)
    page = viewer.get("/editor/stats")
    assert page.status_code == 200
    html = page.text
    assert _tile(html, "conversations") == str(sum(tally["conversations"].values()))
    assert _tile(html, "member-messages") == str(sum(tally["member_messages"].values()))
    charts = _chart_data(html)
    assert charts["decisions"] == {
        k: tally["decisions"][k] for k in ("answer", "clarify", "handoff")
    }
    assert dict(zip(charts["intents"]["labels"], charts["intents"]["counts"], strict=True)) == dict(
        tally["answers"]
    )
    assert sum(charts["trend"]["conversations"]) == sum(tally["conversations"].values())
    assert sum(charts["hours"]["counts"]) == sum(tally["member_messages"].values())
    assert sum(charts["weekdays"]["counts"]) == sum(tally["member_messages"].values())
    assert len(charts["trend"]["labels"]) == 30 and charts["trend"]["unit"] == "day"
    # The same numbers as figures() says, which the CLI and the digest use too.
    services = app.extensions["botbuilder"]
    bot = services.runtime.current().bot
    today = _today(app)
    numbers = figures(
        services.storage, Period(today - timedelta(days=29), today, None, bot_timezone(bot)), bot
    )
    assert numbers["conversations"] == sum(tally["conversations"].values())
    assert numbers["decisions"] == charts["decisions"]
    assert numbers["feedback"]["helpful"] == tally["helpful"]
    assert numbers["feedback"]["not_helpful"] == tally["not_helpful"]
    assert numbers["handoffs"]["count"] == tally["decisions"]["handoff"]
    assert _tile(html, "handoffs") == str(numbers["handoffs"]["count"])
    # Each chart has its table beside it, with a caption.
    for name in TABLES:
        assert f'id="table-{name}"' in html
    assert html.count("<canvas") == 7 and html.count("<caption>") == len(TABLES)


def test_language_filter_counts_only_that_language(streamed: Any) -> None:
    app, tally = streamed
    viewer = _signed_in(app)
    english = viewer.get("/editor/stats?language=en")
    assert _tile(english.text, "conversations") == str(tally["conversations"]["en"])
    assert _tile(english.text, "member-messages") == str(tally["member_messages"]["en"])
    assert '<option value="en" selected>' in english.text


def test_a_period_without_conversations_shows_zeros_and_a_long_one_shows_weeks(
    streamed: Any,
) -> None:
    app, _ = streamed
    viewer = _signed_in(app)
    today = _today(app)
    before = viewer.get(
        f"/editor/stats?since={today - timedelta(days=400)}&until={today - timedelta(days=300)}"
    )
    assert before.status_code == 200
    assert _tile(before.text, "conversations") == "0"
    charts = _chart_data(before.text)
    assert charts["trend"]["unit"] == "week"
    mondays = [date.fromisoformat(d) for d in charts["trend"]["labels"]]
    assert all(d.weekday() == 0 for d in mondays[1:])
    assert "Trend per week" in before.text


# -- CSV -----------------------------------------------------------------------------------


def test_every_table_downloads_as_csv_with_the_page_numbers(streamed: Any) -> None:
    app, tally = streamed
    viewer = _signed_in(app)
    for name in TABLES:
        response = viewer.get(f"/editor/stats/{name}.csv")
        rows = _csv(response)
        assert rows and rows[0], name
        assert "attachment" in response.headers["Content-Disposition"]
        assert f"botbuilder-{name}-" in response.headers["Content-Disposition"]
    summary = {row[0]: row[1:] for row in _csv(viewer.get("/editor/stats/summary.csv"))}
    assert summary["Conversations"][0] == str(sum(tally["conversations"].values()))
    assert summary["Answered"][0] == str(tally["decisions"]["answer"])
    intents = _csv(viewer.get("/editor/stats/intents.csv"))
    assert intents[0] == ["Intent", "Answers"]
    assert {row[0]: int(row[1]) for row in intents[1:]} == dict(tally["answers"])
    hours = _csv(viewer.get("/editor/stats/hours.csv"))
    assert len(hours) == 25 and sum(int(r[1]) for r in hours[1:]) == sum(
        tally["member_messages"].values()
    )
    english = _csv(viewer.get("/editor/stats/summary.csv?language=en"))
    assert english[1] == ["Conversations", str(tally["conversations"]["en"]), ""]


def test_feedback_csv_neutralises_member_text_that_a_spreadsheet_would_run(
    editor_app,  # noqa: F811
    manager,  # noqa: F811
) -> None:
    client = editor_app.test_client()
    conversation = client.post("/api/v1/conversations", json={"language": "nl"}).json[
        "conversation_id"
    ]
    turn = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "=1+2 wat is de contributie"},
    ).json
    client.post(
        f"/api/v1/conversations/{conversation}/feedback",
        json={"message_id": turn["messages"][0]["id"], "helpful": False},
    )
    client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "@SUM(A1:A9) nee"})
    rows = _csv(manager.get("/editor/feedback.csv"))
    assert rows[0][:5] == ["intent", "answered at", "language", "question", "answer"]
    (row,) = rows[1:]
    assert row[3] == "'=1+2 wat is de contributie"
    assert row[6] == "'@SUM(A1:A9) nee"
    assert row[8] == conversation


def test_unknown_table_is_404(streamed: Any) -> None:
    viewer = _signed_in(streamed[0])
    response = viewer.get("/editor/stats/passwords.csv")
    assert response.status_code == 404 and "summary" in response.json["error"]


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2026-13-01", "must be a date as YYYY-MM-DD"),
        ("since=yesterday", "must be a date as YYYY-MM-DD"),
        ("until=2026-02-30", "must be a date as YYYY-MM-DD"),
        ("since=2026-03-01&until=2026-02-01", "before it starts"),
        ("since=1990-01-01&until=2026-01-01", "at most"),
        ("since=0001-01-01&until=0001-01-31", "not a date botbuilder has figures for"),
        ("language=fr", "not one of this bot's: nl, en"),
        ("since=" + "9" * 5000, "must be a date"),
    ],
)
def test_a_period_that_cannot_be_counted_is_a_400_page_that_says_why(
    streamed: Any, query: str, message: str
) -> None:
    viewer = _signed_in(streamed[0])
    for path in (
        "/editor/stats",
        "/editor/feedback",
        "/editor/stats/trend.csv",
        "/editor/feedback.csv",
    ):
        response = viewer.get(f"{path}?{query}")
        assert response.status_code == 400, (path, response.text[:300])
        assert response.mimetype == "text/html"
        assert message in unescape(response.text), (path, query)
        assert 'id="period-problem"' in response.text
        assert 'id="chart-data"' not in response.text


@pytest.mark.parametrize("page", ["0", "abc", "-1", "1e3", "99999999999", "١"])
def test_a_feedback_page_number_that_is_no_page_is_400(streamed: Any, page: str) -> None:
    viewer = _signed_in(streamed[0])
    response = viewer.get(f"/editor/feedback?page={page}")
    assert response.status_code == 400 and "'page' must be a number" in unescape(response.text)


# -- the 👎 review -------------------------------------------------------------------------


def test_feedback_review_shows_each_thumbs_down_with_question_answer_and_what_came_next(
    streamed: Any,
) -> None:
    app, tally = streamed
    viewer = _signed_in(app)
    html = unescape(viewer.get("/editor/feedback").text)
    # contributie has 3 👎 (one with a handoff after it), wachtwoord 1, opzeggen (en) 1.
    first, second = html.index("<code>contributie</code>"), html.index("<code>wachtwoord</code>")
    assert first < second
    assert "3 × not helpful" in html
    assert "dat klopt niet, ik betaal 30" in html  # what the member wrote next
    assert "handed off to team <strong>leden</strong>" in html
    assert "nothing: the member left" in html
    assert "De contributie is 25 euro per jaar." in html
    assert f"{tally['not_helpful']} × not helpful in this period" in html
    for conversation in tally["conversation_ids"][2:5]:
        assert f'href="/conversations/{conversation}#m' in html
    dutch = viewer.get("/editor/feedback?language=nl")
    assert dutch.status_code == 200
    assert "How do I cancel my membership?" in html
    assert "How do I cancel my membership?" not in unescape(dutch.text)
    assert "dat klopt niet, ik betaal 30" in unescape(dutch.text)


def test_feedback_review_pages_run_through_the_groups_in_order(streamed: Any) -> None:
    app, tally = streamed
    services = app.extensions["botbuilder"]
    bot = services.runtime.current().bot
    today = _today(app)
    period = Period(today - timedelta(days=29), today, None, bot_timezone(bot))
    pages = [thumbs_down(services.storage, period, n, per_page=2) for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3] and pages[0].total == tally["not_helpful"] == 5
    seen = [item for p in pages for item in p.items]
    assert [i.intent for i in seen] == ["contributie"] * 3 + ["opzeggen", "wachtwoord"]
    assert len({i.message_id for i in seen}) == 5
    assert [g.intent for g in pages[0].groups][0] == "contributie"
    beyond = thumbs_down(services.storage, period, 4, per_page=2)
    assert beyond.items == () and beyond.total == 5


def test_pages_and_the_review_query_run_on_each_database(app) -> None:  # type: ignore[no-untyped-def]
    """SQLite here; PostgreSQL too when BOTBUILDER_TEST_DATABASE_URL is set."""
    tally = _stream(app.test_client())
    app.extensions["botbuilder"].accounts.add("manager@example.org", PASSWORD, "manager")
    viewer = _signed_in(app)
    stats = viewer.get("/editor/stats")
    assert stats.status_code == 200
    assert _tile(stats.text, "conversations") == str(sum(tally["conversations"].values()))
    review = unescape(viewer.get("/editor/feedback?language=nl").text)
    assert "3 × not helpful" in review and "dat klopt niet, ik betaal 30" in review
    assert "handed off to team <strong>leden</strong>" in review
    rows = _csv(viewer.get("/editor/feedback.csv"))
    assert len(rows) == 1 + tally["not_helpful"]
    assert _csv(viewer.get("/editor/stats/feedback.csv"))[1][:3] == ["contributie", "3", "2"]
