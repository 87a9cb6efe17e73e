"""The figures as a few lines for people: what `botbuilder insights` prints without --json."""

from __future__ import annotations

from typing import Any

__all__ = ["duration", "summary"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def duration(seconds: float | None) -> str:
    """'45 s', '12 min', '2 h 5 min', '3 d 4 h'; '-' when there is nothing to measure."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _times(figures: dict[str, Any]) -> str:
    return (
        f"first response {duration(figures['first_response_seconds_p50'])} "
        f"(p90 {duration(figures['first_response_seconds_p90'])}), "
        f"resolution {duration(figures['resolution_seconds_p50'])} "
        f"(p90 {duration(figures['resolution_seconds_p90'])})"
    )


def _busiest(counts: list[int], name: Any, top: int = 3) -> str:
    ranked = sorted(range(len(counts)), key=lambda i: (-counts[i], i))[:top]
    shown = [f"{name(i)} ({counts[i]})" for i in ranked if counts[i]]
    return ", ".join(shown) or "-"


def summary(figures: dict[str, Any], gaps: list[dict[str, Any]], name: str = "") -> str:
    """A readable summary of `figures` (from `figures.figures`) and the gaps."""
    period = figures["period"]
    decisions = figures["decisions"]
    feedback = figures["feedback"]
    handoffs = figures["handoffs"]
    busiest = figures["busiest"]
    languages = period["language"] or "all languages"
    lines = [
        f"{name + ': ' if name else ''}{period['since']} to {period['until']} "
        f"({period['timezone']}, {languages})",
        "",
        f"conversations        {figures['conversations']}",
        f"member messages      {figures['member_messages']}",
        f"answered             {figures['answered_rate']:.0%} (answer {decisions['answer']}, "
        f"clarify {decisions['clarify']}, handoff {decisions['handoff']})",
        "top intents          "
        + (", ".join(f"{i['intent']} {i['count']}" for i in figures["top_intents"][:5]) or "-"),
        f"feedback             {feedback['helpful']} helpful, {feedback['not_helpful']} not helpful"
        + "".join(
            f"; worst: {f['intent']} ({f['not_helpful']} of {f['helpful'] + f['not_helpful']})"
            for f in feedback["by_intent"][:1]
            if f["not_helpful"]
        ),
        f"handoffs             {handoffs['count']}, {handoffs['claimed']} claimed; "
        f"median {_times(handoffs)}",
        f"  in office hours    median {_times(handoffs['office_hours'])}",
        *(
            f"  {t['team']:<18} {t['count']}, {t['claimed']} claimed; median {_times(t)}"
            for t in handoffs["by_team"]
        ),
        "busiest hours        " + _busiest(busiest["hours"], lambda h: f"{h:02d}:00"),
        "busiest weekdays     " + _busiest(busiest["weekdays"], lambda d: WEEKDAYS[d]),
        f"follow-ups waiting   {figures['follow_ups_waiting']}",
        f"gaps                 {len(gaps)}" + (" (largest first):" if gaps else ""),
        *(
            f"  {g['count']:>4} × {g['kind'].replace('_', ' ')} "
            f"'{g.get('title') or g['intent']}' ({g['language']}): {g['questions'][0]}"
            for g in gaps[:10]
            if g["questions"]
        ),
    ]
    return "\n".join(lines)
