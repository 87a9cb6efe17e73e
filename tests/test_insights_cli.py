"""`botbuilder insights` after a realistic stream of member questions through the real
HTTP API (the Flask test client, and a real `botbuilder serve` process), with agents
claiming, replying and closing through the console: exact counts, and the response
times the test produced with a fixed clock. The JSON matches docs/insights.schema.json."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import requests
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.content.loader import load_bot
from botbuilder.conversations.store import Storage
from botbuilder.insights.figures import Period, figures
from tests.conftest import EXAMPLE_FLOWS, SMALL_BOT
from tests.servers import free_port, stop, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "insights.schema.json").read_text(encoding="utf-8"))
PASSWORD = "correct horse battery"
AGENT = "ann@example.org"

# Topics the example bot has no intent for, asked the way members write.
UNKNOWN = {
    "gpx": [
        "waar kan ik de gpx van de route downloaden",
        "heb je de route van zondag als gpx bestand",
        "gpx file van de toertocht ergens te vinden?",
        "kan ik de rit van zaterdag downloaden voor mijn garmin",
        "route downloaden lukt niet, waar staat de gpx",
        "is er een gpx van de clubrit",
        "hoe krijg ik de route op mijn fietscomputer",
        "waar vind ik de gpx track van de najaarstocht",
        "download link voor de route van de ledenrit?",
        "kan iemand de gpx van de zondagrit sturen",
    ],
    "gevonden": [
        "ik ben mijn handschoenen kwijt na de rit",
        "heeft iemand een zwarte jas gevonden bij de kantine",
        "mijn bidon laten liggen bij het startpunt, iemand gezien?",
        "gevonden voorwerpen van de toertocht, waar moet ik zijn",
        "ik ben mijn zonnebril verloren tijdens de clubrit",
        "waar kan ik spullen ophalen die zijn blijven liggen",
        "iemand mijn helm gevonden na de training",
        "sleutels kwijt na de rit van zondag",
        "is er een lijst met gevonden spullen",
        "portemonnee verloren bij het clubhuis, is die gevonden?",
    ],
    "hond": [
        "mag mijn hond mee op de clubrit",
        "kan ik mijn hond meenemen naar de toertocht",
        "zijn honden welkom bij de ledenrit",
        "mag de hond mee in de fietskar tijdens de tocht",
        "hond mee naar het clubhuis, mag dat",
        "zijn huisdieren toegestaan bij evenementen",
        "ik wil met mijn hond meefietsen, kan dat",
        "mag ik mijn hond aan de lijn meenemen op de rit",
        "honden toegestaan bij de familiedag?",
        "kan mijn hond mee naar de barbecue van de club",
    ],
}
PERSON = ["ik wil een medewerker spreken", "kan ik iemand van jullie spreken", "mens graag"]


@dataclass
class Tally:
    """What the API answered, counted by the test: what the figures must say."""

    conversations: Counter[str] = field(default_factory=Counter)  # language -> count
    member_messages: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    helpful: Counter[str] = field(default_factory=Counter)
    not_helpful: Counter[str] = field(default_factory=Counter)
    handed_off: list[str] = field(default_factory=list)
    topic_of: dict[str, str] = field(default_factory=dict)  # unknown question -> topic


def _questions(flows: Path, rng: random.Random) -> list[tuple[str, str | None]]:
    """About 300 (question, unknown topic or None): the bot's own questions, reworded a
    little, the unknown topics, and requests for a person."""
    bot = load_bot(flows)
    known = [
        q for (lang, _), intent in bot.intents.items() if lang == "nl" for q in intent.questions
    ]
    stream: list[tuple[str, str | None]] = [
        (rng.choice(known).lower().rstrip("?") + rng.choice(["", "?", " eigenlijk"]), None)
        for _ in range(230)
    ]
    stream += [(q, topic) for topic, qs in UNKNOWN.items() for q in qs]
    stream += [(rng.choice(PERSON), None) for _ in range(12)]
    rng.shuffle(stream)
    return stream


def _send_stream(post: Any, flows: Path, seed: int = 7) -> Tally:
    """Members ask the stream in conversations of 1-4 questions; every fourth answer is
    rated (one in three of those 👎); a handed-off member asks once more while waiting."""
    rng = random.Random(seed)
    tally = Tally()
    stream = _questions(flows, rng)
    answers = 0
    while stream:
        conversation = post("/api/v1/conversations", {})["conversation_id"]
        asked: list[str] = []
        language = "nl"
        for _ in range(rng.choice((1, 2, 3, 4))):
            if not stream:
                break
            text, topic = stream.pop()
            if topic:
                tally.topic_of[text] = topic
            turn = post(f"/api/v1/conversations/{conversation}/messages", {"text": text})
            language = turn["language"]
            answer = next((m for m in turn["messages"] if m.get("decision") == "answer"), None)
            # An intent that answers and then hands over (handoff_team) is an answer to
            # the figures; the handoff is counted with the handoffs.
            asked.append("answer" if answer else turn["decision"])
            if answer:
                tally.intents[answer["intent"]] += 1
                answers += 1
                if answers % 4 == 0:
                    helpful = answers % 3 != 0
                    post(
                        f"/api/v1/conversations/{conversation}/feedback",
                        {"message_id": answer["id"], "helpful": helpful},
                    )
                    (tally.helpful if helpful else tally.not_helpful)[answer["intent"]] += 1
            if turn["state"] == "waiting":
                tally.handed_off.append(conversation)
                again = post(f"/api/v1/conversations/{conversation}/messages", {"text": "hallo?"})
                asked.append(again["decision"])
                break
        tally.conversations[language] += 1
        tally.member_messages[language] += len(asked)
        tally.decisions.update(d for d in asked if d)
    return tally


def _generous_limits(flows: Path) -> None:
    """All test members come from one address: lift the per-address rate limits."""
    with (flows / "bot.yml").open("a", encoding="utf-8") as f:
        f.write(
            "\nlimits:\n  conversations_per_ip: 1000/minute\n  messages_per_ip: 1000/minute\n"
            "  feedback_per_ip: 1000/minute\n  handoffs_per_ip: 1000/hour\n"
        )


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found.group(1)


def _agent_handles(client: Any, queue: Any, handed_off: list[str]) -> tuple[list[int], list[int]]:
    """Claim, reply and close each handoff (one in five stays waiting) with the queue's
    clock set from the handoff's start; the first responses and resolutions it made."""
    token = _token(client.get("/console").text)
    firsts, resolutions = [], []
    for k, conversation in enumerate(handed_off):
        if k % 5 == 4:
            continue
        started = queue.current_handoff(conversation).created_at
        first, resolution = 40 + 17 * k, 300 + 61 * k
        for path, seconds, data in (
            ("claim", 15 + k, {}),
            ("reply", first, {"text": "Hoi, ik help je."}),
            ("close", resolution, {}),
        ):
            queue.clock = lambda at=started + timedelta(seconds=seconds): at
            response = client.post(
                f"/console/conversations/{conversation}/{path}",
                data={"csrf_token": token, **data},
            )
            assert response.status_code < 400, response.text
        firsts.append(first)
        resolutions.append(resolution)
    return firsts, resolutions


def _insights(runner_env: dict[str, str], *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["insights", *args, "--json"], env=runner_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    return data


def _p(values: list[int], q: float) -> float:
    return round(float(np.percentile(values, q)), 1)


def test_a_stream_of_member_questions_through_the_api_gives_exact_figures_and_response_times(
    app_factory: Any, tmp_path: Path, database_url: str
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(EXAMPLE_FLOWS, flows)
    _generous_limits(flows)
    app = app_factory(flows, database_url)
    services = app.extensions["botbuilder"]
    services.accounts.add(AGENT, PASSWORD, "agent")
    member = app.test_client()

    def post(path: str, body: dict[str, Any]) -> Any:
        response = member.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json

    tally = _send_stream(post, flows)
    agent = app.test_client()
    login = agent.post(
        "/login",
        data={"email": AGENT, "password": PASSWORD, "csrf_token": _token(agent.get("/login").text)},
    )
    assert login.status_code == 302
    firsts, resolutions = _agent_handles(agent, services.queue, tally.handed_off)
    services.storage.close()

    env = {"BOTBUILDER_DATABASE_URL": database_url}
    data = _insights(env, str(flows), "--instance", str(tmp_path / "instance"))

    assert sum(tally.member_messages.values()) > 300 and len(tally.handed_off) >= 10
    assert data["conversations"] == sum(tally.conversations.values())
    assert data["member_messages"] == sum(tally.member_messages.values())
    assert data["decisions"] == {d: tally.decisions[d] for d in ("answer", "clarify", "handoff")}
    top = sorted(tally.intents.items(), key=lambda item: (-item[1], item[0]))[:20]
    assert data["top_intents"] == [{"intent": i, "count": n} for i, n in top]
    assert data["feedback"]["helpful"] == sum(tally.helpful.values())
    assert data["feedback"]["not_helpful"] == sum(tally.not_helpful.values())
    assert {
        f["intent"]: (f["helpful"], f["not_helpful"]) for f in data["feedback"]["by_intent"]
    } == {i: (tally.helpful[i], tally.not_helpful[i]) for i in tally.helpful | tally.not_helpful}
    handoffs = data["handoffs"]
    assert handoffs["count"] == len(tally.handed_off)
    assert handoffs["claimed"] == len(firsts)
    assert handoffs["first_response_seconds_p50"] == _p(firsts, 50)
    assert handoffs["first_response_seconds_p90"] == _p(firsts, 90)
    assert handoffs["resolution_seconds_p50"] == _p(resolutions, 50)
    assert handoffs["resolution_seconds_p90"] == _p(resolutions, 90)
    assert sum(t["count"] for t in handoffs["by_team"]) == handoffs["count"]
    today = data["trend"][-1]
    assert (
        today["conversations"] == data["conversations"]
        and today["answer"] == tally.decisions["answer"]
    )
    assert sum(data["busiest"]["hours"]) == data["member_messages"]
    day = date.fromisoformat(data["period"]["until"])
    storage = Storage(database_url)
    english = figures(storage, Period(day, day, "en", data["period"]["timezone"]))
    storage.close()
    assert english["conversations"] == tally.conversations["en"]
    assert english["member_messages"] == tally.member_messages["en"]
    _gaps_group_the_unknown_topics(data["gaps"], tally)


def _gaps_group_the_unknown_topics(gaps: list[dict[str, Any]], tally: Tally) -> None:
    """Each unknown topic that was missed often enough sits mostly in one gap."""
    assert gaps == sorted(gaps, key=lambda g: -g["members"])
    topics_in = [Counter(tally.topic_of.get(q) for q in g["questions"]) for g in gaps]
    grouped = {t for counts in topics_in for t, n in counts.items() if t and n >= 3}
    assert grouped, f"no gap holds 3 questions of one unknown topic: {gaps}"


def test_bad_dates_and_periods_are_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"BOTBUILDER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    for args, message in (
        (["--since", "2026-02-30"], "not a date like"),
        (["--until", "gisteren"], "not a date like"),
        (["--since", "2026-11-20", "--until", "2026-11-01"], "is before --since"),
        (["--since", "1900-01-01", "--until", "2026-01-01"], "at most"),
        (["--language", "de"], "this bot speaks nl, en"),
    ):
        result = runner.invoke(main, ["insights", str(SMALL_BOT), *args], env=env)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output


def test_the_summary_without_json_names_every_figure(tmp_path: Path) -> None:
    env = {"BOTBUILDER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = CliRunner().invoke(
        main,
        [
            "insights",
            str(SMALL_BOT),
            "--instance",
            str(tmp_path),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-07",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Testvereniging: 2026-11-01 to 2026-11-07 (Europe/Amsterdam, all languages)"
    )
    for label in (
        "conversations",
        "member messages",
        "answered",
        "top intents",
        "feedback",
        "handoffs",
        "in office hours",
        "busiest hours",
        "busiest weekdays",
        "follow-ups waiting",
        "gaps",
    ):
        assert f"\n{label} " in result.output or f"\n  {label} " in result.output, label


def test_insights_of_a_real_server_count_what_its_api_answered(
    tmp_path: Path, embedding_cache: Path
) -> None:
    """A real `botbuilder serve` process, members and an agent over HTTP, then the command
    as its own process on the same database."""
    flows = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, flows)
    instance = tmp_path / "instance"
    instance.mkdir()
    if embedding_cache.exists():  # the questions encoded by earlier tests: a faster start
        shutil.copy(embedding_cache, instance / "embeddings.sqlite")
    database = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    env = {
        **os.environ,
        "BOTBUILDER_DATABASE_URL": database,
        "BOTBUILDER_INSTANCE_PATH": str(instance),
    }
    _generous_limits(flows)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "botbuilder.cli",
            "user",
            "add",
            AGENT,
            "--role",
            "agent",
            "--password-stdin",
        ],
        env=env,
        input=PASSWORD,
        text=True,
        check=True,
        capture_output=True,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "botbuilder.cli", "serve", str(flows), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(f"{url}/health", server, log, timeout=600)
        member = requests.Session()

        def post(path: str, body: dict[str, Any]) -> Any:
            response = member.post(url + path, json=body, timeout=30)
            assert response.status_code in (200, 201), response.text
            return response.json()

        tally = Tally()
        rng = random.Random(3)
        for n in range(40):
            conversation = post("/api/v1/conversations", {})["conversation_id"]
            texts = ["hoe zeg ik mijn lidmaatschap op", rng.choice(UNKNOWN["hond"])]
            if n % 4 == 0:
                texts.append("ik wil een medewerker spreken")
            for text in texts:
                turn = post(f"/api/v1/conversations/{conversation}/messages", {"text": text})
                tally.decisions[turn["decision"]] += 1
                tally.member_messages["all"] += 1
                if turn["state"] == "waiting":
                    tally.handed_off.append(conversation)
                    break
        agent = requests.Session()
        agent.post(
            f"{url}/login",
            data={
                "email": AGENT,
                "password": PASSWORD,
                "csrf_token": _token(agent.get(f"{url}/login").text),
            },
        )
        token = _token(agent.get(f"{url}/console").text)
        for conversation in tally.handed_off[:3]:
            for path, data in (("claim", {}), ("reply", {"text": "Hoi!"}), ("close", {})):
                response = agent.post(
                    f"{url}/console/conversations/{conversation}/{path}",
                    data={"csrf_token": token, **data},
                    timeout=30,
                )
                assert response.status_code < 400, response.text
    finally:
        stop(server)
    since = (date.today() - timedelta(days=1)).isoformat()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "botbuilder.cli",
            "insights",
            str(flows),
            "--json",
            "--since",
            since,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["conversations"] == 40
    assert data["member_messages"] == tally.member_messages["all"]
    assert data["decisions"] == {d: tally.decisions[d] for d in ("answer", "clarify", "handoff")}
    assert data["handoffs"]["count"] == len(tally.handed_off)
    assert data["handoffs"]["claimed"] == 3
    assert data["handoffs"]["first_response_seconds_p50"] is not None
