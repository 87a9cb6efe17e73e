"""Two real `botbuilder serve` processes on one real PostgreSQL, each with its own flows folder
and instance folder: what one is told, the other serves (docs/replicas.md).

Skipped without BOTBUILDER_TEST_DATABASE_URL (`export BOTBUILDER_TEST_DATABASE_URL="$(bash
.ci/postgres.sh)"`). The replicas start once for the module, together, on a database of
their own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from botbuilder.db.engine import Database, database_url
from botbuilder.editing.publications import Publications, folder_files
from tests.conftest import PG_URL, SMALL_BOT
from tests.servers import add_user, botbuilder_command, free_port, stop, wait_until_healthy

pytestmark = pytest.mark.postgresql

PASSWORD = "correct horse battery"
ORIGIN = {"Origin": "https://allowed.example"}
BIKE_QUESTION = "Waar kan ik mijn fiets stallen?"
LATER = """\
language: nl
intents:
  - id: zwembad
    questions: [Hoe laat gaat het zwembad open?, Wanneer is het zwembad open?]
    answer: Het zwembad is open van 7 tot 22 uur.
"""
START_B = """\
language: nl
intents:
  - id: alleen_op_b
    questions: [Staat dit alleen op replica B?]
    answer: Ja.
"""


@dataclass
class Replica:
    name: str
    url: str
    flows: Path
    log: Path
    process: subprocess.Popen[Any]

    def top(self, question: str) -> tuple[str, str]:
        reply = requests.post(
            f"{self.url}/api/v1/match", json={"text": question}, headers=ORIGIN, timeout=10
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["decision"], reply.json()["candidates"][0]["intent"]

    def signed_in(self, email: str, page: str) -> tuple[requests.Session, str]:
        """A session signed in as `email`, and its CSRF token from `page`."""
        session = requests.Session()
        token = _token(session.get(f"{self.url}/login", timeout=10).text)
        login = session.post(
            f"{self.url}/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert login.status_code == 302, login.text
        return session, _token(session.get(f"{self.url}{page}", timeout=10).text)


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Cluster:
    database: str  # the botbuilder URL of the replicas' database
    env: dict[str, str]
    work: Path
    a: Replica
    b: Replica
    start: Callable[[str, Path], Replica]

    def publications(self) -> Publications:
        return Publications(Database(database_url(self.database, self.work), migrate=False))


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until `condition` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(step)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not PG_URL:
        pytest.skip("BOTBUILDER_TEST_DATABASE_URL is not set")
    import psycopg

    name = f"bb_replicas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rpartition('/')[0]}/{name}"
    work = tmp_path_factory.mktemp("replicas")
    env = {**os.environ, "BOTBUILDER_DATABASE_URL": url, "BOTBUILDER_SCHEDULER": "off"}
    env.pop("BOTBUILDER_INSTANCE_PATH", None)
    for email, role in (("manager@example.org", "manager"), ("agent@example.org", "agent")):
        add_user(work, env, email, role, PASSWORD)
    started: list[Replica] = []

    def launch(label: str, flows: Path) -> Replica:
        port = free_port()
        log = work / f"{label}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*botbuilder_command(), "serve", str(flows), "--port", str(port)]
                + ["--instance", str(work / f"instance-{label}")],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=work,
            )
        replica = Replica(label, f"http://127.0.0.1:{port}", flows, log, process)
        started.append(replica)
        return replica

    def start(label: str, flows: Path) -> Replica:
        replica = launch(label, flows)
        wait_until_healthy(f"{replica.url}/health", replica.process, replica.log, timeout=600)
        return replica

    shutil.copytree(SMALL_BOT, work / "flows-a")
    shutil.copytree(SMALL_BOT, work / "flows-b")
    (work / "flows-b" / "start_b.yml").write_text(START_B, "utf-8")  # B's folder differs
    a, b = launch("a", work / "flows-a"), launch("b", work / "flows-b")  # together
    try:
        for replica in (a, b):
            wait_until_healthy(f"{replica.url}/health", replica.process, replica.log, timeout=600)
        yield Cluster(url, env, work, a, b, start)
    finally:
        for replica in started:
            stop(replica.process)
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_replicas_started_together_serve_one_publication(cluster: Cluster) -> None:
    latest = cluster.publications().latest()
    assert latest is not None and latest.id == 1  # one published, the other took it in
    assert folder_files(cluster.a.flows) == folder_files(cluster.b.flows) == latest.files


def test_an_edit_saved_in_the_editor_on_a_is_answered_by_b_within_2_seconds(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    assert b.top(BIKE_QUESTION)[1] != "fietsenstalling"
    session, token = a.signed_in("manager@example.org", "/editor/intent/new?file=faq.yml")
    saved = session.post(
        f"{a.url}/editor/intent",
        data={
            "csrf_token": token,
            "file": "faq.yml",
            "id": "fietsenstalling",
            "questions": [BIKE_QUESTION, "Is er een fietsenstalling?", "fiets parkeren"],
            "answer": "In de kelder, naast de ingang.",
            "handoff_mode": "none",
            "save_anyway": "1",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert saved.status_code == 302, saved.text
    seconds = _wait(lambda: b.top(BIKE_QUESTION) == ("answer", "fietsenstalling"), timeout=2.0)
    print(f"\nan editor save on A was answered by B after {seconds:.2f} s")
    assert "fietsenstalling" in (b.flows / "faq.yml").read_text("utf-8")


def test_a_member_on_a_gets_the_reply_an_agent_sends_through_b(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    start = requests.post(f"{a.url}/api/v1/conversations", json={}, headers=ORIGIN, timeout=10)
    conversation = start.json()["conversation_id"]
    asked = requests.post(
        f"{a.url}/api/v1/conversations/{conversation}/messages",
        json={"text": "Ik wil iemand spreken"},
        headers=ORIGIN,
        timeout=30,
    )
    assert asked.json()["state"] == "waiting", asked.text
    cursor = asked.json()["cursor"]

    agent_b, token_b = b.signed_in("agent@example.org", "/console")
    csrf = {"X-CSRF-Token": token_b, "Accept": "application/json"}
    online = agent_b.post(f"{b.url}/console/presence", json={"status": "online"}, headers=csrf)
    assert online.status_code == 200, online.text
    queue_b = agent_b.get(f"{b.url}/console/api/queue", timeout=10).json()
    assert conversation in {
        e["conversation_id"] for e in queue_b["waiting"]
    }  # the queue, across replicas
    for move, body in (("claim", {}), ("reply", {"text": "Hoi, ik help je verder."})):
        done = agent_b.post(
            f"{b.url}/console/conversations/{conversation}/{move}", data=body, headers=csrf
        )
        assert done.status_code == 200, done.text

    updates = requests.get(
        f"{a.url}/api/v1/conversations/{conversation}/messages",
        params={"after": cursor},
        headers=ORIGIN,
        timeout=10,
    ).json()
    assert updates["state"] == "agent"
    assert [m["text"] for m in updates["messages"] if m["role"] == "agent"] == [
        "Hoi, ik help je verder."
    ]
    agent_a, _ = a.signed_in("agent@example.org", "/console")
    queue_a = agent_a.get(f"{a.url}/console/api/queue", timeout=10).json()
    assert queue_a["presence"] == "online"  # set through B
    assert conversation in {e["conversation_id"] for e in queue_a["mine"]}


def test_a_hand_edit_published_with_check_reaches_b_and_a_later_replica_with_an_empty_folder(
    cluster: Cluster,
) -> None:
    a, b = cluster.a, cluster.b
    (a.flows / "zwembad.yml").write_text(LATER, "utf-8")  # by hand on A
    _wait(lambda: a.top("Wanneer is het zwembad open?")[1] == "zwembad", timeout=5)
    time.sleep(1.0)
    assert b.top("Wanneer is het zwembad open?")[1] != "zwembad"  # not published yet
    published = subprocess.run(
        [*botbuilder_command(), "check", str(a.flows), "--publish"],
        capture_output=True,
        text=True,
        env=cluster.env,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr
    seconds = _wait(lambda: b.top("Wanneer is het zwembad open?")[1] == "zwembad", timeout=2.0)
    print(f"\ncheck --publish on A was answered by B after {seconds:.2f} s")

    (cluster.work / "flows-c").mkdir()
    c = cluster.start("c", cluster.work / "flows-c")  # started later, with an empty folder
    assert c.top("Wanneer is het zwembad open?") == ("answer", "zwembad")
    assert c.top(BIKE_QUESTION)[1] == "fietsenstalling"
    assert folder_files(c.flows) == folder_files(a.flows)


def test_a_broken_publication_is_refused_and_b_keeps_serving(cluster: Cluster) -> None:
    b = cluster.b
    publications = cluster.publications()
    before = publications.latest()
    assert before is not None
    broken = cluster.work / "broken"
    shutil.copytree(cluster.a.flows, broken)
    (broken / "zwembad.yml").write_text(LATER.replace("answer:", "antwoord:"), "utf-8")
    refused = subprocess.run(
        [*botbuilder_command(), "check", str(broken), "--publish"],
        capture_output=True,
        text=True,
        env=cluster.env,
        timeout=120,
    )
    assert refused.returncode == 1 and "nothing was published" in refused.stderr
    assert publications.latest_id() == before.id

    # One that got in anyway (another botbuilder version, say): B refuses it and keeps serving.
    served = folder_files(b.flows)
    bad = publications.publish(folder_files(broken), before.id, None, "does not load")
    _wait(lambda: f"publication {bad.id} of the flows does not load" in b.log.read_text(), 5)
    assert requests.get(f"{b.url}/ready", timeout=10).status_code == 200
    assert b.top("Wanneer is het zwembad open?") == ("answer", "zwembad")
    assert folder_files(b.flows) == served

    fixed = dict(served, **{"zwembad.yml": LATER.replace("7 tot 22", "8 tot 21")})
    publications.publish(fixed, bad.id, None, "fixed")
    _wait(lambda: "8 tot 21" in (b.flows / "zwembad.yml").read_text("utf-8"), 2.0)


def test_an_announcement_posted_on_b_is_shown_to_a_member_on_a(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    manager, token = b.signed_in("manager@example.org", "/editor/announcements/")
    notice = "De kantine is vandaag dicht."
    posted = manager.post(
        f"{b.url}/editor/announcements/",
        data={"csrf_token": token, "text_nl": notice, "text_en": "The canteen is closed today."},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 302, posted.text
    shown = requests.get(
        f"{a.url}/api/v1/announcements", params={"language": "nl"}, headers=ORIGIN, timeout=10
    )
    assert notice in shown.text
