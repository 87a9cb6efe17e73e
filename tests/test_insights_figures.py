"""Insights figures on a real database, with rows written at known times: counts per
period, days and hours in the bot's timezone, handoff times overall and in office
hours, feedback worst first, the language filter, and daily aggregates that keep a
period's figures when the purge has removed its transcripts."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from botbuilder.content.model import Bot, BotSettings, HandoffSettings, TeamSettings
from botbuilder.conversations.followups import FollowUp
from botbuilder.conversations.store import Message, Storage
from botbuilder.errors import BadRequest
from botbuilder.insights.aggregates import DailyFigure, SealedDay, seal
from botbuilder.insights.figures import Period, default_period, figures, percentile
from botbuilder.insights.local_time import OfficeClock, open_seconds
from botbuilder.privacy.retention import purge
from tests.insights_rows import Rows

AMSTERDAM = "Europe/Amsterdam"
OFFICE = TeamSettings(
    name="leden",
    hours={d: ((time(9), time(17)),) for d in range(5)},
    timezone=AMSTERDAM,
    closed_days=(date(2026, 12, 25),),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), timezone=AMSTERDAM)


def test_figures_count_the_conversations_messages_decisions_and_intents_of_the_period(
    storage: Storage, rows: Rows
) -> None:
    for n in range(3):
        rows.answered(utc(2026, 11, 2, 10, n), "opzeggen")
    rows.answered(utc(2026, 11, 3, 10), "contributie")
    clarified = rows.conversation(utc(2026, 11, 3, 11))
    rows.member(clarified, utc(2026, 11, 3, 11), "clarify")
    rows.member(clarified, utc(2026, 11, 3, 11, 1), "handoff")
    rows.member(clarified, utc(2026, 11, 3, 11, 2))  # while waiting: no decision
    rows.conversation(utc(2026, 11, 4, 9))  # opened, nothing asked: not a conversation
    rows.answered(utc(2026, 10, 31, 22, 59), "opzeggen")  # 23:59 in Amsterdam: October
    rows.answered(utc(2026, 12, 1, 12), "opzeggen")

    result = figures(storage, NOVEMBER)

    assert result["conversations"] == 5
    assert result["member_messages"] == 7
    assert result["decisions"] == {"answer": 4, "clarify": 1, "handoff": 1}
    assert result["answered_rate"] == round(4 / 6, 4)
    assert result["top_intents"] == [
        {"intent": "opzeggen", "count": 3},
        {"intent": "contributie", "count": 1},
    ]
    assert len(result["trend"]) == 30
    assert result["trend"][1] == {
        "day": "2026-11-02",
        "conversations": 3,
        "answer": 3,
        "clarify": 0,
        "handoff": 0,
    }
    assert result["trend"][2]["conversations"] == 2 and result["trend"][2]["clarify"] == 1
    assert result["period"] == {
        "since": "2026-11-01",
        "until": "2026-11-30",
        "language": None,
        "timezone": AMSTERDAM,
    }


def test_days_and_hours_are_counted_in_the_bots_timezone_across_summer_time(
    storage: Storage, rows: Rows
) -> None:
    # 2026-03-29 01:00 UTC Amsterdam moves from +1 to +2.
    rows.answered(utc(2026, 3, 28, 23, 30), "a")  # Sunday 00:30 CET
    rows.answered(utc(2026, 3, 29, 0, 30), "a")  # Sunday 01:30 CET
    rows.answered(utc(2026, 3, 29, 1, 30), "a")  # Sunday 03:30 CEST
    rows.answered(utc(2026, 3, 29, 22, 30), "a")  # Monday 00:30 CEST

    result = figures(storage, Period(date(2026, 3, 28), date(2026, 3, 30), timezone=AMSTERDAM))

    assert [d["answer"] for d in result["trend"]] == [0, 3, 1]
    hours = result["busiest"]["hours"]
    assert hours[0] == 2 and hours[1] == 1 and hours[3] == 1 and sum(hours) == 4
    assert result["busiest"]["weekdays"] == [1, 0, 0, 0, 0, 0, 3]  # Monday first
    utc_result = figures(storage, Period(date(2026, 3, 28), date(2026, 3, 30), timezone="UTC"))
    assert [d["answer"] for d in utc_result["trend"]] == [1, 3, 0]


@pytest.mark.parametrize(
    ("timezone", "before", "after"),
    [
        # Kathmandu is UTC+5:45: 18:10 UTC is 23:55 there, 18:20 UTC already 00:05 the next day.
        ("Asia/Kathmandu", utc(2026, 11, 2, 18, 10), utc(2026, 11, 2, 18, 20)),
        # Lord Howe Island is UTC+11 in its summer: 12:55 and 13:05 UTC straddle midnight.
        ("Australia/Lord_Howe", utc(2026, 11, 2, 12, 55), utc(2026, 11, 2, 13, 5)),
        # India is UTC+5:30: 18:25 UTC is 23:55, 18:35 UTC 00:05.
        ("Asia/Kolkata", utc(2026, 11, 2, 18, 25), utc(2026, 11, 2, 18, 35)),
    ],
)
def test_hours_and_days_are_exact_where_the_offset_is_not_a_whole_hour(
    storage: Storage, rows: Rows, timezone: str, before: datetime, after: datetime
) -> None:
    """The counts group on stored UTC text; a zone off the whole hour needs finer buckets."""
    rows.answered(before, "a")
    rows.answered(after, "a")

    result = figures(storage, Period(date(2026, 11, 1), date(2026, 11, 4), timezone=timezone))

    hours = result["busiest"]["hours"]
    assert hours[23] == 1 and hours[0] == 1 and sum(hours) == 2
    assert [d["answer"] for d in result["trend"]] == [0, 1, 1, 0]


def test_office_hours_of_many_handoffs_at_once_are_those_of_each_alone() -> None:
    """`OfficeClock.many` (the dashboard's arrays) against `seconds`, one at a time, across
    nights, a weekend, Christmas (closed) and the end of summer time."""
    import random

    chance = random.Random(7)
    base = utc(2026, 10, 20, 6).timestamp()
    starts = [base + chance.uniform(0, 70 * 86400) for _ in range(300)]
    ends = [s + chance.choice([-60.0, 0.0, 59.0, 3600.0, 86400 * 3.5, 86400 * 9]) for s in starts]
    ends[::7] = [float("nan")] * len(ends[::7])
    clock = OfficeClock(OFFICE)

    many = clock.many(np.array(starts), np.array(ends))

    for start, end, together in zip(starts, ends, many, strict=True):
        if end != end:
            assert together != together  # no end, no time
            continue
        alone = clock.seconds(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        assert round(together) == alone
    always = OfficeClock(None).many(np.array([0.0, 10.0]), np.array([30.0, 5.0]))
    assert always.tolist() == [30.0, 0.0]


def test_handoff_times_are_median_and_p90_overall_per_team_and_in_office_hours(
    storage: Storage, rows: Rows
) -> None:
    # Monday 2026-11-02, 10:00 Amsterdam (09:00 UTC): replies after 60, 120, ... 600 s.
    for n in range(1, 11):
        cid = rows.conversation(utc(2026, 11, 2, 9))
        start = utc(2026, 11, 2, 9)
        rows.handoff(
            cid, "leden", start, start + timedelta(seconds=30), start + timedelta(seconds=1000 * n)
        )
        rows.agent(cid, start + timedelta(seconds=60 * n))
        rows.member(cid, start, "handoff")
    # Friday 16:50 Amsterdam, answered Monday 09:10: 10 + 10 minutes in office hours.
    late = rows.conversation(utc(2026, 11, 6, 15, 50))
    rows.member(late, utc(2026, 11, 6, 15, 50), "handoff")
    rows.handoff(
        late, "moderatie", utc(2026, 11, 6, 15, 50), utc(2026, 11, 9, 8, 5), utc(2026, 11, 9, 8, 30)
    )
    rows.agent(late, utc(2026, 11, 9, 8, 10))
    waiting = rows.conversation(utc(2026, 11, 7, 12))
    rows.member(waiting, utc(2026, 11, 7, 12), "handoff")
    rows.handoff(waiting, "moderatie", utc(2026, 11, 7, 12))
    bot = _bot_with_teams({"leden": OFFICE, "moderatie": OFFICE})

    handoffs = figures(storage, NOVEMBER, bot)["handoffs"]

    assert handoffs["count"] == 12 and handoffs["claimed"] == 11
    leden, moderatie = handoffs["by_team"]
    assert leden["team"] == "leden" and leden["count"] == 10 and leden["claimed"] == 10
    assert leden["first_response_seconds_p50"] == 330.0  # median of 60..600
    assert leden["first_response_seconds_p90"] == 546.0
    assert leden["resolution_seconds_p50"] == 5500.0
    assert moderatie["count"] == 2 and moderatie["claimed"] == 1
    weekend = (utc(2026, 11, 9, 8, 10) - utc(2026, 11, 6, 15, 50)).total_seconds()
    assert moderatie["first_response_seconds_p50"] == weekend
    assert moderatie["resolution_seconds_p50"] == weekend + 20 * 60
    firsts = [60 * n for n in range(1, 11)]
    assert handoffs["first_response_seconds_p50"] == percentile([*firsts, int(weekend)], 50)
    assert handoffs["office_hours"]["first_response_seconds_p90"] == 600.0
    assert handoffs["office_hours"]["resolution_seconds_p90"] == percentile(
        [1000 * n for n in range(1, 11)] + [40 * 60], 90
    )


def _bot_with_teams(teams: dict[str, TeamSettings]) -> Bot:
    settings = BotSettings(handoff=HandoffSettings(teams=teams, default_team="leden"))
    return Bot(directory=Path("."), settings=settings, intents={})


def test_office_hours_seconds_skip_nights_weekends_and_closed_days() -> None:
    # Thursday 24 December 16:00 to Monday 28 December 10:00 (Amsterdam, UTC+1).
    start, end = utc(2026, 12, 24, 15), utc(2026, 12, 28, 9)
    assert open_seconds(OFFICE, start, end) == 3600 + 3600  # Thursday's last hour, Monday's first
    assert open_seconds(None, start, end) == (end - start).total_seconds()
    assert open_seconds(OFFICE, end, start) == 0


def test_feedback_is_counted_per_intent_with_the_worst_first(storage: Storage, rows: Rows) -> None:
    at = utc(2026, 11, 10, 12)
    for helpful in (True, True, False):
        rows.answered(at, "opzeggen", helpful=helpful)
    for helpful in (False, False, True, True, True):
        rows.answered(at, "contributie", helpful=helpful)
    rows.answered(at, "route", helpful=False)
    rows.answered(at, "adres", helpful=False)
    rows.answered(at, "adres", helpful=True)
    greeting = rows.conversation(at)
    rows.member(greeting, at)
    rows.bot(greeting, at, helpful=True)  # a rated greeting: in the totals only

    feedback = figures(storage, NOVEMBER)["feedback"]

    assert feedback["helpful"] == 7 and feedback["not_helpful"] == 5
    assert [f["intent"] for f in feedback["by_intent"]] == [
        "contributie",
        "route",
        "adres",
        "opzeggen",
    ]
    assert feedback["by_intent"][0] == {"intent": "contributie", "helpful": 3, "not_helpful": 2}


def test_the_language_filter_applies_to_every_figure(storage: Storage, rows: Rows) -> None:
    at = utc(2026, 11, 10, 12)
    rows.answered(at, "opzeggen", "nl", helpful=False)
    rows.answered(at, "opzeggen", "en", helpful=True)
    rows.answered(at, "contributie", "en")
    english = rows.conversation(at, "en")
    rows.member(english, at, "handoff")
    rows.handoff(english, "leden", at)
    with storage.session() as s, s.begin():
        for language in ("nl", "en", "en"):
            s.add(
                FollowUp(
                    conversation_id=english,
                    team="leden",
                    status="open",
                    email="x@example.org",
                    question="",
                    language=language,
                    created_at=at,
                    updated_at=at,
                )
            )

    nl = figures(storage, Period(NOVEMBER.since, NOVEMBER.until, "nl", AMSTERDAM))
    en = figures(storage, Period(NOVEMBER.since, NOVEMBER.until, "en", AMSTERDAM))

    assert (nl["conversations"], en["conversations"]) == (1, 3)
    assert (nl["member_messages"], en["member_messages"]) == (1, 3)
    assert nl["top_intents"] == [{"intent": "opzeggen", "count": 1}]
    assert (nl["feedback"]["not_helpful"], en["feedback"]["helpful"]) == (1, 1)
    assert (nl["handoffs"]["count"], en["handoffs"]["count"]) == (0, 1)
    assert (nl["follow_ups_waiting"], en["follow_ups_waiting"]) == (1, 2)
    assert sum(nl["busiest"]["hours"]) == 1 and sum(en["busiest"]["weekdays"]) == 3


def _history(rows: Rows) -> None:
    """A spring long past retention and an autumn within it, with every kind of row."""
    for start in (utc(2026, 3, 2, 9), utc(2026, 10, 5, 9)):
        for n in range(6):
            at = start + timedelta(days=n, hours=n)
            rows.answered(at, "opzeggen" if n % 2 else "contributie", helpful=n % 3 == 0)
            cid = rows.conversation(at, "en" if n % 2 else "nl", updated=at + timedelta(hours=2))
            rows.member(cid, at, "clarify")
            rows.member(cid, at + timedelta(minutes=1), "handoff")
            rows.handoff(cid, "leden", at, at + timedelta(minutes=5 + n), at + timedelta(hours=1))
            rows.agent(cid, at + timedelta(minutes=7 + n))


def test_figures_are_unchanged_after_the_purge_removed_the_transcripts(
    storage: Storage, rows: Rows
) -> None:
    _history(rows)
    bot = _bot_with_teams({"leden": OFFICE})
    year = Period(date(2026, 1, 1), date(2026, 11, 26), timezone=AMSTERDAM)
    spring_nl = Period(date(2026, 3, 1), date(2026, 3, 31), "nl", AMSTERDAM)
    before = figures(storage, year, bot), figures(storage, spring_nl, bot)
    assert before[0]["conversations"] == 24 and before[0]["handoffs"]["count"] == 12

    report = purge(storage, 180, clock=lambda: utc(2026, 11, 27, 3), handoff=bot.settings.handoff)

    assert report.rows["messages"] > 0 and report.rows["feedback"] > 0
    with storage.session() as s:  # the spring's transcripts are gone
        assert s.scalar(select(func.count()).where(Message.created_at < utc(2026, 6, 1))) == 0
        assert s.scalar(select(func.count()).select_from(DailyFigure)) > 0
    assert (figures(storage, year, bot), figures(storage, spring_nl, bot)) == before


def test_sealing_twice_or_on_two_replicas_at_once_keeps_one_copy_of_each_day(
    storage: Storage, rows: Rows, database_url: str
) -> None:
    _history(rows)
    year = Period(date(2026, 1, 1), date(2026, 11, 26), timezone=AMSTERDAM)
    before = figures(storage, year)
    seal(storage, date(2026, 3, 5), AMSTERDAM)
    first = _sealed(storage)
    other = Storage(database_url)  # a second replica
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda db=db: results.append(seal(db, date(2026, 10, 8), AMSTERDAM))
        )
        for db in (storage, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()

    days, figures_rows = _sealed(storage)
    assert days[0] == "2026-03-02" and days[-1] == "2026-10-07" and len(days) == len(set(days))
    assert first[0] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert len(figures_rows) == len(set(figures_rows))
    assert seal(storage, date(2026, 10, 8), AMSTERDAM) == []
    assert figures(storage, year) == before


def _sealed(storage: Storage) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    with storage.session() as s:
        days = list(s.scalars(select(SealedDay.day).order_by(SealedDay.day)))
        keys = s.execute(
            select(DailyFigure.day, DailyFigure.language, DailyFigure.metric, DailyFigure.key)
        )
        return days, [tuple(k) for k in keys]  # type: ignore[misc]


def test_sealed_days_are_read_from_the_aggregates_not_from_rows_added_later(
    storage: Storage, rows: Rows
) -> None:
    rows.answered(utc(2026, 11, 2, 12), "opzeggen")
    seal(storage, date(2026, 11, 3), AMSTERDAM)
    rows.answered(utc(2026, 11, 2, 13), "opzeggen")  # e.g. restored from a backup
    rows.answered(utc(2026, 11, 3, 13), "opzeggen")
    assert [d["answer"] for d in figures(storage, NOVEMBER)["trend"][1:3]] == [1, 1]


def test_a_period_that_ends_before_it_starts_is_refused(storage: Storage) -> None:
    with pytest.raises(BadRequest, match="ends .* before it starts"):
        figures(storage, Period(date(2026, 11, 2), date(2026, 11, 1)))
    with pytest.raises(BadRequest, match="unknown timezone"):
        figures(storage, Period(date(2026, 11, 1), date(2026, 11, 2), timezone="Mars/Olympus"))


def test_an_empty_database_gives_every_key_with_zeros(storage: Storage) -> None:
    result = figures(storage, default_period(date(2026, 11, 27)))
    assert result["period"]["since"] == "2026-10-29" and len(result["trend"]) == 30
    assert result["conversations"] == 0 and result["answered_rate"] == 0.0
    assert result["handoffs"]["first_response_seconds_p50"] is None
    assert result["busiest"] == {"hours": [0] * 24, "weekdays": [0] * 7}
