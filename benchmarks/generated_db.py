"""A SQLite database of N generated conversations, for timing insights pages and queries.

    python -m benchmarks.generated_db [--conversations 100000] [--days 180]

prints the path of the file (built once, then reused). The mix follows the
example bot (flows/): members ask in Dutch (70%) and English, 1-4 questions a
conversation, phrased like the bot's own example questions or like a handful
of topics the bot has no answer for (route downloads, lost property, ...).
About 65% of questions are answered, 15% clarified, 20% handed off; a third
of the answers are rated (one in four 👎); most handoffs are claimed, replied
to and closed after realistic delays, a few stay waiting; one conversation in
ten is empty (a widget opened, nothing asked). Times are spread over the last
`days` days with a daytime peak.

Rows go in with executemany in one transaction (about 15 s for 100,000
conversations). The file is cached in the temp folder under a name with N,
days, seed, today's date and a hash of the migrations, so reruns and other
benchmarks reuse it, and a schema change builds a new one. It is built under a
temporary name and renamed, so a reader never sees half a database.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from botbuilder.content.loader import load_bot
from botbuilder.conversations.followups import FollowUp
from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message
from botbuilder.db.engine import Database

__all__ = ["UNKNOWN_TOPICS", "generated_database", "generated_url"]

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "botbuilder" / "db" / "migrations" / "versions"
GENERATOR_VERSION = "1"

# Informal questions the example bot has no intent for: what the gap finder should group.
UNKNOWN_TOPICS = {
    "nl": [
        "waar kan ik de gpx van de route downloaden",
        "kan ik de route van zondag als gpx krijgen",
        "ik ben mijn handschoenen kwijt bij de rit, heeft iemand ze gevonden",
        "gevonden voorwerpen na de toertocht, waar moet ik zijn",
        "mag mijn hond mee op de clubrit",
        "is er een fietsenmaker die korting geeft aan leden",
        "kan ik een huurfiets regelen voor de clubtocht",
        "waar parkeer ik de auto bij het startpunt",
    ],
    "en": [
        "where can i download the gpx file of the route",
        "i lost my gloves during the ride, has anyone found them",
        "can i bring my dog on the club ride",
        "is there a bike shop with a discount for members",
        "where do i park my car at the start",
    ],
}
_FILLERS = ["", "", "", " eigenlijk", " even", " graag", " pls", "?", "??", " dan"]


def generated_url(path: Path) -> str:
    return f"sqlite:///{path}"


def generated_database(conversations: int = 100_000, days: int = 180, seed: int = 12) -> Path:
    """The path of a database with `conversations` generated conversations (cached)."""
    today = date.today()
    path = Path(tempfile.gettempdir()) / (
        f"botbuilder-bench-{conversations}-{days}-{seed}-{today.isoformat()}-{_schema_hash()}.sqlite"
    )
    if path.exists():
        return path
    building = path.with_suffix(f".{os.getpid()}.building")
    building.unlink(missing_ok=True)
    database = Database(generated_url(building))  # creates the schema by the migrations
    try:
        _fill(database, conversations, days, seed, today)
    finally:
        database.close()
    for extra in ("-wal", "-shm"):
        Path(f"{building}{extra}").unlink(missing_ok=True)
    os.replace(building, path)
    return path


def _schema_hash() -> str:
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    for file in sorted(MIGRATIONS.glob("*.py")):
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:10]


class _Rows:
    """The rows of every table, with ids given here so feedback can name its message."""

    def __init__(self) -> None:
        self.conversations: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self.follow_ups: list[dict[str, Any]] = []

    def message(self, conversation: str, role: str, text: str, at: datetime, **fields: Any) -> int:
        id_ = len(self.messages) + 1
        self.messages.append(
            {
                "id": id_,
                "conversation_id": conversation,
                "role": role,
                "text": text,
                "html": "",
                "buttons": [],
                "intent": fields.get("intent"),
                "decision": fields.get("decision"),
                "confidence": fields.get("confidence"),
                "candidates": [],
                "created_at": at,
            }
        )
        return id_


def _fill(database: Database, conversations: int, days: int, seed: int, today: date) -> None:
    rng = random.Random(seed)
    bot = load_bot(ROOT / "flows")
    phrasings: dict[str, list[tuple[str, str]]] = {}
    for (language, intent_id), intent in bot.intents.items():
        phrasings.setdefault(language, []).extend((intent_id, q) for q in intent.questions)
    teams = list(bot.settings.handoff.teams) or ["default"]
    end = datetime.combine(today, time(0), tzinfo=UTC)
    rows = _Rows()
    for _ in range(conversations):
        language = "nl" if rng.random() < 0.7 else "en"
        started = end - timedelta(days=rng.random() * days)
        # most members write in the day: move night starts into the afternoon, mostly
        if started.hour < 7 and rng.random() < 0.8:
            started += timedelta(hours=rng.choice((8, 10, 12, 14)))
        _conversation(rows, rng, language, started, phrasings[language], teams)
    with database.engine.begin() as c:
        c.exec_driver_sql("PRAGMA synchronous=OFF")  # a scratch file: no need to wait for the disk
        for table, batch in (
            (Conversation.__table__, rows.conversations),
            (Message.__table__, rows.messages),
            (Handoff.__table__, rows.handoffs),
            (Feedback.__table__, rows.feedback),
            (FollowUp.__table__, rows.follow_ups),
        ):
            for at in range(0, len(batch), 20_000):
                c.execute(table.insert(), batch[at : at + 20_000])  # type: ignore[attr-defined]


def _conversation(
    rows: _Rows,
    rng: random.Random,
    language: str,
    at: datetime,
    phrasings: list[tuple[str, str]],
    teams: list[str],
) -> None:
    cid = f"{rng.getrandbits(128):032x}"
    started = at
    rows.message(cid, "bot", "Hoi! Ik ben de chatbot.", at)
    state, team = "bot", None
    if rng.random() >= 0.1:  # one in ten: opened, nothing asked
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            at += timedelta(seconds=rng.randint(5, 120))
            roll = rng.random()
            if roll < 0.65:
                intent, question = rng.choice(phrasings)
                _answer(rows, rng, cid, intent, question + rng.choice(_FILLERS), at)
                continue
            text = rng.choice(UNKNOWN_TOPICS[language]) + rng.choice(_FILLERS)
            if roll < 0.8:
                rows.message(cid, "member", text, at, decision="clarify", confidence=0.45)
                rows.message(cid, "bot", "Bedoelde je…?", at, decision="clarify")
                continue
            team = rng.choice(teams)
            rows.message(cid, "member", text, at, decision="handoff", confidence=0.2)
            rows.message(cid, "bot", "Ik geef je door aan een collega.", at)
            state = _handoff(rows, rng, cid, team, language, text, at)
            at = max(at, rows.handoffs[-1]["closed_at"] or at)
            break
    rows.conversations.append(
        {
            "id": cid,
            "language": language,
            "state": state,
            "team": team,
            "created_at": started,
            "updated_at": at,
        }
    )


def _answer(
    rows: _Rows, rng: random.Random, cid: str, intent: str, question: str, at: datetime
) -> None:
    confidence = round(rng.uniform(0.7, 0.99), 3)
    rows.message(
        cid, "member", question, at, decision="answer", intent=intent, confidence=confidence
    )
    answer = rows.message(
        cid, "bot", f"Antwoord op {intent}.", at, decision="answer", intent=intent
    )
    if rng.random() < 0.33:
        rows.feedback.append(
            {
                "conversation_id": cid,
                "message_id": answer,
                "helpful": rng.random() >= 0.25,
                "created_at": at + timedelta(seconds=rng.randint(3, 60)),
            }
        )


def _handoff(
    rows: _Rows,
    rng: random.Random,
    cid: str,
    team: str,
    language: str,
    question: str,
    at: datetime,
) -> str:
    """A handoff and what the team did with it; the conversation's state after."""
    handoff: dict[str, Any] = {
        "conversation_id": cid,
        "team": team,
        "reason": "low_confidence",
        "question": question,
        "status": "waiting",
        "claimed_by": None,
        "created_at": at,
        "claimed_at": None,
        "closed_at": None,
    }
    rows.handoffs.append(handoff)
    if rng.random() < 0.1:  # nobody came: an e-mail follow-up waits
        rows.follow_ups.append(
            {
                "conversation_id": cid,
                "team": team,
                "status": "open",
                "email": "lid@example.org",
                "question": question,
                "language": language,
                "created_at": at,
                "updated_at": at,
            }
        )
        return "waiting"
    claimed = at + timedelta(seconds=int(rng.expovariate(1 / 600)) + 20)
    replied = claimed + timedelta(seconds=rng.randint(10, 300))
    closed = replied + timedelta(seconds=int(rng.expovariate(1 / 900)) + 30)
    handoff.update(
        status="closed", claimed_by="agent@example.org", claimed_at=claimed, closed_at=closed
    )
    rows.message(cid, "bot", "Er is een collega bij je.", claimed)
    rows.message(cid, "agent", "Hoi, ik help je verder.", replied)
    rows.message(cid, "bot", "Dit gesprek is gesloten.", closed)
    return "closed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    print(generated_database(args.conversations, args.days, args.seed))


if __name__ == "__main__":
    main()
