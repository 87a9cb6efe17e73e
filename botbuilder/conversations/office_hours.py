"""Office hours of handoff teams: is someone there now, and when are they back?"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from botbuilder.content.model import Bot, TeamSettings
from botbuilder.content.texts import system_text

__all__ = ["handoff_text", "is_open", "next_opening", "team_is_open"]


def handoff_text(bot: Bot, team: str, language: str, reason: str, at: datetime) -> str:
    """What the member reads when handed to `team`: offline message outside its hours."""
    settings = bot.settings.handoff.teams.get(team)
    if settings is not None and not is_open(settings, at):
        return bot.settings.handoff.offline_message.get(language) or system_text(
            "offline", language
        )
    return system_text("handoff_unsure" if reason == "low_confidence" else "handoff", language)


def team_is_open(bot: Bot, team: str, at: datetime) -> bool:
    """True when `team` is within its office hours; a team without settings is always open."""
    settings = bot.settings.handoff.teams.get(team)
    return settings is None or is_open(settings, at)


def is_open(team: TeamSettings, at: datetime) -> bool:
    """True when `team` is within its office hours at `at` (an aware datetime).

    A team without hours is always open; a closed day closes the whole day.
    """
    if not team.hours:
        return True
    local = at.astimezone(ZoneInfo(team.timezone))
    if local.date() in team.closed_days:
        return False
    now = local.time()
    return any(start <= now < end for start, end in team.hours.get(local.weekday(), ()))


def next_opening(team: TeamSettings, at: datetime) -> datetime | None:
    """The next moment the team opens after `at`, in the team's time zone; None if never."""
    if not team.hours:
        return None
    zone = ZoneInfo(team.timezone)
    local = at.astimezone(zone)
    for offset in range(0, 15):
        day = local.date() + timedelta(days=offset)
        if day in team.closed_days:
            continue
        for start, _end in sorted(team.hours.get(day.weekday(), ())):
            opening = datetime.combine(day, start, tzinfo=zone)
            if opening > local:
                return opening
    return None
