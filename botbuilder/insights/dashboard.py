"""The manager's dashboard as named tables and chart data, made from `figures.figures()`.

One definition per table: the page shows each `Table` beside its chart and
`/editor/stats/<name>.csv` writes the same rows, so the page and the export
cannot disagree. `charts` is what the page's script draws, from the same
figures. A period longer than `WEEKLY_AFTER_DAYS` shows its trend per week
(Monday first): 90 daily bars are unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = [
    "TABLES",
    "WEEKDAYS",
    "WEEKLY_AFTER_DAYS",
    "Column",
    "Table",
    "cell_text",
    "charts",
    "tables",
    "trend_rows",
]


def N_(text: str) -> str:
    """Marks a label for the translation catalogue (gettext's convention): the page translates it."""
    return text


WEEKLY_AFTER_DAYS = 62
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
TABLES = ("summary", "trend", "intents", "feedback", "handoffs", "hours", "weekdays")
_DECISIONS = ("answer", "clarify", "handoff")


@dataclass(frozen=True)
class Column:
    label: str
    # "text", "label" (the dashboard's own words, marked N_: the page translates them),
    # "count", "share" (0..1) or "seconds"
    kind: str = "count"


@dataclass(frozen=True)
class Table:
    name: str  # its CSV is /editor/stats/<name>.csv
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def csv_rows(self) -> list[list[Any]]:
        """The header and the rows as a spreadsheet gets them: shares as 0.123, seconds whole."""
        header = [c.label for c in self.columns]
        return [header] + [
            [_csv_value(v, c.kind) for v, c in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]


def cell_text(value: Any, kind: str) -> str:
    """A value as the page shows it: "42 %", "3 min 5 s", "—" for no data."""
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:.0f} %"
    if kind == "seconds":
        return _duration(float(value))
    return str(value)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "share":
        return f"{value:.3f}"
    if kind == "seconds":
        return round(value)
    return value


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def trend_rows(figures: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The trend per "day", or per "week" (labelled by its Monday) when the period is long."""
    days = figures["trend"]
    if len(days) <= WEEKLY_AFTER_DAYS:
        return "day", [dict(d) for d in days]
    weeks: dict[str, dict[str, Any]] = {}
    for d in days:
        day = date.fromisoformat(d["day"])
        monday = (day - timedelta(days=day.weekday())).isoformat()
        week = weeks.setdefault(
            monday, {"day": monday, "conversations": 0, **dict.fromkeys(_DECISIONS, 0)}
        )
        for key in ("conversations", *_DECISIONS):
            week[key] += d[key]
    return "week", list(weeks.values())


def tables(figures: dict[str, Any]) -> dict[str, Table]:
    """Every table of the dashboard, by name, in the order of `TABLES`."""
    built = [
        _summary(figures),
        _trend(figures),
        Table(
            "intents",
            N_("Top intents: answers given per intent"),
            (Column(N_("Intent"), "text"), Column(N_("Answers"))),
            tuple((i["intent"], i["count"]) for i in figures["top_intents"]),
        ),
        Table(
            "feedback",
            N_("Ratings per intent, worst first (most not helpful)"),
            (
                Column(N_("Intent"), "text"),
                Column(N_("Not helpful")),
                Column(N_("Helpful")),
                Column(N_("Share not helpful"), "share"),
            ),
            tuple(
                (
                    f["intent"] or N_("(no intent)"),
                    f["not_helpful"],
                    f["helpful"],
                    _share(f["not_helpful"], f["helpful"] + f["not_helpful"]),
                )
                for f in figures["feedback"]["by_intent"]
            ),
        ),
        _handoffs(figures),
        Table(
            "hours",
            N_("Busiest hours: member messages per hour of the day (bot's time zone)"),
            (Column(N_("Hour"), "text"), Column(N_("Member messages"))),
            tuple((f"{h:02d}:00", n) for h, n in enumerate(figures["busiest"]["hours"])),
        ),
        Table(
            "weekdays",
            N_("Busiest weekdays: member messages per day of the week"),
            (Column(N_("Weekday"), "label"), Column(N_("Member messages"))),
            tuple(zip(WEEKDAYS, figures["busiest"]["weekdays"], strict=True)),
        ),
    ]
    return {t.name: t for t in built}


def _summary(figures: dict[str, Any]) -> Table:
    decisions = figures["decisions"]
    total = sum(decisions[k] for k in _DECISIONS)
    feedback, handoffs = figures["feedback"], figures["handoffs"]
    rated = feedback["helpful"] + feedback["not_helpful"]
    rows: tuple[tuple[str, int, float | None], ...] = (
        (N_("Conversations"), figures["conversations"], None),
        (N_("Member messages"), figures["member_messages"], None),
        (N_("Answered"), decisions["answer"], figures["answered_rate"] if total else None),
        (N_("Clarified (asked back)"), decisions["clarify"], _share(decisions["clarify"], total)),
        (N_("Handed off"), decisions["handoff"], _share(decisions["handoff"], total)),
        (N_("Rated helpful"), feedback["helpful"], _share(feedback["helpful"], rated)),
        (N_("Rated not helpful"), feedback["not_helpful"], _share(feedback["not_helpful"], rated)),
        (
            N_("Handoffs claimed by an agent"),
            handoffs["claimed"],
            _share(handoffs["claimed"], handoffs["count"]),
        ),
        (N_("Follow-ups waiting (e-mail)"), figures["follow_ups_waiting"], None),
    )
    return Table(
        "summary",
        N_(
            "The period at a glance (shares of the bot's decisions, of the ratings, of the handoffs)"
        ),
        (Column(N_("Figure"), "label"), Column(N_("Count")), Column(N_("Share"), "share")),
        rows,
    )


def _trend(figures: dict[str, Any]) -> Table:
    unit, rows = trend_rows(figures)
    return Table(
        "trend",
        N_("Answered, clarified and handed off per week")
        if unit == "week"
        else N_("Answered, clarified and handed off per day"),
        (
            Column(N_("Week of") if unit == "week" else N_("Day"), "text"),
            Column(N_("Conversations")),
            Column(N_("Answered")),
            Column(N_("Clarified")),
            Column(N_("Handed off")),
            Column(N_("Answered share"), "share"),
        ),
        tuple(
            (
                r["day"],
                r["conversations"],
                r["answer"],
                r["clarify"],
                r["handoff"],
                _share(r["answer"], sum(r[k] for k in _DECISIONS)),
            )
            for r in rows
        ),
    )


def _handoffs(figures: dict[str, Any]) -> Table:
    handoffs = figures["handoffs"]
    office = handoffs["office_hours"]
    keys = (
        "first_response_seconds_p50",
        "first_response_seconds_p90",
        "resolution_seconds_p50",
        "resolution_seconds_p90",
    )
    rows = [
        (t["team"], t["count"], t["claimed"], *(t[k] for k in keys)) for t in handoffs["by_team"]
    ]
    rows.append(("All teams", handoffs["count"], handoffs["claimed"], *(handoffs[k] for k in keys)))
    rows.append(("All teams, in office hours", None, None, *(office[k] for k in keys)))
    return Table(
        "handoffs",
        "Handoffs per team: first response and resolution times (median and p90)",
        (
            Column(N_("Team"), "text"),
            Column(N_("Handoffs")),
            Column(N_("Claimed")),
            Column(N_("First response, median"), "seconds"),
            Column(N_("First response, p90"), "seconds"),
            Column(N_("Resolution, median"), "seconds"),
            Column(N_("Resolution, p90"), "seconds"),
        ),
        tuple(rows),
    )


def charts(figures: dict[str, Any]) -> dict[str, Any]:
    """The data each chart of the page draws (`web/static/editor/stats.js`)."""
    unit, trend = trend_rows(figures)
    worst = figures["feedback"]["by_intent"][:10]
    teams = figures["handoffs"]["by_team"]
    minutes = lambda s: None if s is None else round(s / 60, 1)  # noqa: E731
    return {
        "trend": {
            "unit": unit,
            "labels": [r["day"] for r in trend],
            **{k: [r[k] for r in trend] for k in ("conversations", *_DECISIONS)},
        },
        "decisions": {k: figures["decisions"][k] for k in _DECISIONS},
        "intents": {
            "labels": [i["intent"] for i in figures["top_intents"]],
            "counts": [i["count"] for i in figures["top_intents"]],
        },
        "feedback": {
            "labels": [f["intent"] or N_("(no intent)") for f in worst],
            "helpful": [f["helpful"] for f in worst],
            "not_helpful": [f["not_helpful"] for f in worst],
        },
        "handoffs": {
            "labels": [t["team"] for t in teams],
            "first_p50": [minutes(t["first_response_seconds_p50"]) for t in teams],
            "first_p90": [minutes(t["first_response_seconds_p90"]) for t in teams],
            "resolution_p50": [minutes(t["resolution_seconds_p50"]) for t in teams],
            "resolution_p90": [minutes(t["resolution_seconds_p90"]) for t in teams],
        },
        "hours": {"labels": [f"{h:02d}" for h in range(24)], "counts": figures["busiest"]["hours"]},
        "weekdays": {"labels": [d[:3] for d in WEEKDAYS], "counts": figures["busiest"]["weekdays"]},
    }
