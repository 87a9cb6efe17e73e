"""Kept days (insights/rollups.py): a finished day is counted once and read back after,
with figures identical to counting the stored rows, on a generated stream, and after
every kind of late change: a rating changed, a handoff claimed and closed days later,
the member's first message in a conversation opened days before, an erasure request,
rows stored with an old time, another timezone or other office hours, two replicas."""

from __future__ import annotations

import random
import threading
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from botbuilder.content.model import TeamSettings
from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.store import Conversation, Feedback, Storage
from botbuilder.insights.aggregates import Rollup, RollupMark
from botbuilder.insights.figures import Period, figures
from botbuilder.privacy.requests import delete_member, find_member
from tests.insights_rows import Rows
from tests.test_insights_figures import AMSTERDAM, OFFICE, _bot_with_teams, utc

NOW = utc(2026, 11, 27, 12)  # the days up to 25 November are finished and kept
AUTUMN = Period(date(2026, 10, 1), date(2026, 11, 27), timezone=AMSTERDAM)
BOT = _bot_with_teams({"leden": OFFICE, "moderatie": OFFICE})


def _stream(rows: Rows, seed: int = 5, conversations: int = 160) -> list[dict[str, Any]]:
    """Conversations from 1 October to 26 November at random times: questions answered,
    clarified and handed off in two languages, ratings (some days later), handoffs to
    two teams claimed, replied to and closed after random delays, some still open, and
    conversations whose member first writes after midnight."""
    rng = random.Random(seed)
    made = []
    for _ in range(conversations):
        at = utc(2026, 10, 1) + timedelta(seconds=rng.randrange(56 * 86400))
        language = rng.choice(("nl", "nl", "en"))
        cid = rows.conversation(at, language, updated=at + timedelta(hours=3))
        first = at + timedelta(minutes=rng.choice((0, 1, 5, 90, 600)))
        info: dict[str, Any] = {"id": cid, "at": at, "answers": []}
        for n in range(rng.randint(0, 3)):
            asked = first + timedelta(minutes=2 * n)
            decision = rng.choice(("answer", "answer", "clarify", "handoff"))
            intent = (
                rng.choice(("opzeggen", "contributie", "route")) if decision == "answer" else None
            )
            rows.member(cid, asked, decision, intent)
            if decision == "answer":
                rated = rng.choice((None, True, False))
                message = rows.bot(cid, asked + timedelta(seconds=1), intent)
                if rated is not None:
                    late = timedelta(days=rng.choice((0, 0, 1, 3)), minutes=5)
                    rows._add(  # a rating, sometimes days after the answer
                        Feedback(
                            conversation_id=cid,
                            message_id=message,
                            helpful=rated,
                            created_at=asked + late,
                        )
                    )
                info["answers"].append(message)
            if decision == "handoff":
                team = rng.choice(("leden", "moderatie"))
                claimed = asked + timedelta(seconds=rng.randrange(30, 20000))
                state = rng.random()
                if state < 0.2:
                    rows.handoff(cid, team, asked)  # still waiting
                    continue
                closed = (
                    claimed + timedelta(seconds=rng.randrange(60, 90000)) if state > 0.4 else None
                )
                rows.handoff(cid, team, asked, claimed, closed)
                rows.agent(cid, claimed + timedelta(seconds=rng.randrange(1, 900)))
        made.append(info)
    return made


def _same(storage: Storage, period: Period, bot: Any = BOT) -> dict[str, Any]:
    """The figures read through the kept days, checked against counting every stored row."""
    kept = figures(storage, period, bot, now=NOW)
    assert kept == figures(storage, period, bot, keep=False, now=NOW)
    return kept


def _kept_days(storage: Storage) -> list[str]:
    with storage.session() as s:
        return list(s.scalars(select(Rollup.day).order_by(Rollup.day)))


class _Batch(Rows):
    """Rows written in one transaction (flushed one by one for their ids): quicker."""

    def __init__(self, storage: Storage, session: Any) -> None:
        super().__init__(storage)
        self.session = session

    def _add(self, row: Any) -> None:
        self.session.add(row)
        self.session.flush()


@pytest.fixture
def stream(storage: Storage) -> list[dict[str, Any]]:
    with storage.session() as s, s.begin():
        return _stream(_Batch(storage, s))


def test_kept_days_give_the_figures_of_counting_every_row_including_handoff_percentiles(
    storage: Storage, stream: list[dict[str, Any]]
) -> None:
    first = _same(storage, AUTUMN)  # counts the finished days and keeps them
    kept = _kept_days(storage)
    assert kept[0] == "2026-10-01" and kept[-1] == "2026-11-25" and len(kept) == 56
    assert first["handoffs"]["count"] > 20 and first["feedback"]["not_helpful"] > 5
    assert first["handoffs"]["by_team"][0]["resolution_seconds_p90"] is not None
    assert _same(storage, AUTUMN) == first  # read back from the kept days
    for period in (
        Period(date(2026, 10, 1), date(2026, 11, 27), "en", AMSTERDAM),
        Period(date(2026, 10, 10), date(2026, 10, 20), "nl", AMSTERDAM),
        Period(date(2026, 9, 1), date(2026, 10, 3), timezone=AMSTERDAM),
    ):
        _same(storage, period)


def test_a_rating_changed_days_later_is_counted_again(
    storage: Storage, stream: list[dict[str, Any]]
) -> None:
    before = _same(storage, AUTUMN)
    with storage.session() as s, s.begin():
        rating = s.scalars(select(Feedback).order_by(Feedback.id).limit(1)).one()
        cid, message, helpful = rating.conversation_id, rating.message_id, rating.helpful
    storage.set_feedback(cid, message, not helpful)  # 👍 to 👎 in place: no new row
    after = _same(storage, AUTUMN)
    assert after["feedback"]["helpful"] == before["feedback"]["helpful"] + (-1 if helpful else 1)


def test_a_handoff_claimed_answered_and_closed_days_later_is_counted_again(
    storage: Storage, rows: Rows
) -> None:
    at = utc(2026, 11, 2, 10)
    cid = rows.conversation(at)
    rows.member(cid, at, "handoff")
    rows.handoff(cid, "leden", at)
    before = _same(storage, AUTUMN)
    assert before["handoffs"]["first_response_seconds_p50"] is None
    later = [utc(2026, 11, 5, 9), utc(2026, 11, 5, 10), utc(2026, 11, 6, 9)]
    queue = HandoffQueue(storage, clock=lambda: later[0])
    storage.set_state(cid, "waiting")
    queue.claim(cid, "ann@example.org")
    later.pop(0)
    queue.reply(cid, "ann@example.org", "ik kijk even")
    later.pop(0)
    queue.close(cid, "ann@example.org")
    after = _same(storage, AUTUMN)
    assert after["handoffs"]["claimed"] == 1
    assert after["handoffs"]["resolution_seconds_p50"] == 4 * 86400 - 3600


def test_the_members_first_message_days_after_opening_counts_the_conversation_again(
    storage: Storage, rows: Rows
) -> None:
    opened = rows.conversation(utc(2026, 11, 3, 10))  # the widget opened, nothing asked
    rows.answered(utc(2026, 11, 3, 11), "opzeggen")
    assert _same(storage, AUTUMN)["conversations"] == 1
    storage.add_message(opened, "member", "hallo?", decision="handoff")
    after = _same(storage, AUTUMN)
    assert after["conversations"] == 2
    assert [d["conversations"] for d in after["trend"] if d["day"] == "2026-11-03"] == [2]


def test_an_erasure_request_removes_the_members_conversation_from_kept_days(
    storage: Storage, stream: list[dict[str, Any]]
) -> None:
    before = _same(storage, AUTUMN)
    talked = next(c for c in stream if c["answers"] and c["at"] < utc(2026, 11, 20))
    delete_member(storage, find_member(storage, conversation_id=talked["id"]))
    after = _same(storage, AUTUMN)
    assert after["conversations"] == before["conversations"] - 1


def test_rows_stored_later_with_an_old_time_are_counted(storage: Storage, rows: Rows) -> None:
    rows.answered(utc(2026, 11, 2, 12), "opzeggen")
    _same(storage, AUTUMN)
    rows.answered(utc(2026, 11, 2, 13), "opzeggen", helpful=False)  # e.g. restored from a backup
    assert _same(storage, AUTUMN)["decisions"]["answer"] == 2


def test_another_timezone_or_other_office_hours_count_the_days_again(
    storage: Storage, stream: list[dict[str, Any]]
) -> None:
    _same(storage, AUTUMN)
    _same(storage, Period(AUTUMN.since, AUTUMN.until, timezone="America/New_York"))
    evenings = TeamSettings("leden", {d: ((time(17), time(22)),) for d in range(7)}, AMSTERDAM)
    other = _bot_with_teams({"leden": evenings, "moderatie": OFFICE})
    assert _same(storage, AUTUMN, other) != _same(storage, AUTUMN)


def test_a_late_change_drops_the_day_kept_in_another_timezone_too(
    storage: Storage, rows: Rows
) -> None:
    new_york = Period(AUTUMN.since, AUTUMN.until, timezone="America/New_York")
    at = utc(2026, 11, 3, 3)  # 2 November in New York, 3 November in Amsterdam
    cid = rows.conversation(at)
    rows.member(cid, at, "handoff")
    rows.handoff(cid, "leden", at)
    with storage.session() as s, s.begin():  # waiting since then (not moved to now)
        s.execute(update(Conversation).where(Conversation.id == cid).values(state="waiting"))
    assert _same(storage, new_york)["handoffs"]["claimed"] == 0
    HandoffQueue(storage, clock=lambda: utc(2026, 11, 10, 9)).claim(cid, "ann@example.org")
    rows.answered(utc(2026, 11, 24, 12), "opzeggen")  # a later update moves the mark on
    _same(storage, AUTUMN)  # an Amsterdam look reads the claim first
    assert _same(storage, new_york)["handoffs"]["claimed"] == 1


def test_a_lost_mark_counts_every_kept_day_again(
    storage: Storage, stream: list[dict[str, Any]]
) -> None:
    before = _same(storage, AUTUMN)
    with storage.session() as s, s.begin():
        s.execute(delete(RollupMark))
        s.execute(Rollup.__table__.update().values(rows=[]))  # what a missed change would leave
    assert _same(storage, AUTUMN) == before


def test_two_replicas_keeping_the_same_days_at_once_keep_one_row_a_day(
    storage: Storage, stream: list[dict[str, Any]], database_url: str
) -> None:
    expected = figures(storage, AUTUMN, BOT, keep=False, now=NOW)
    other = Storage(database_url)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda db=db: results.append(figures(db, AUTUMN, BOT, now=NOW)))
        for db in (storage, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert results == [expected, expected]
    with storage.session() as s:
        assert s.scalar(select(func.count()).select_from(Rollup)) == 56
    assert _same(storage, AUTUMN) == expected
