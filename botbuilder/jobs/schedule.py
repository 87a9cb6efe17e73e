"""The jobs a server schedules: the daily privacy purge, the nightly count of
yesterday's insights figures and, when bot.yml asks, the weekly digest.

`server_jobs` gives the scheduler a function it calls on every tick, so a
digest added to bot.yml (or a changed retention) counts from the next minute
without a restart. Both run once per period across replicas
(`scheduler.Scheduler`). Operators who prefer cron set
`BOTBUILDER_SCHEDULER=off` and run `botbuilder privacy purge` and
`botbuilder digest` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from botbuilder.content.model import Bot
from botbuilder.conversations.notify import Notifier
from botbuilder.db.base import utcnow
from botbuilder.db.engine import Database
from botbuilder.insights.figures import Period, bot_timezone, figures
from botbuilder.insights.gaps import Suggestion
from botbuilder.integrations.mail import Mailer
from botbuilder.jobs.digest import digest_job_run
from botbuilder.jobs.scheduler import Job, daily_slot, weekly_slot
from botbuilder.privacy.retention import purge

__all__ = ["DIGEST_JOB", "KEEP_JOB", "PURGE_HOUR", "PURGE_JOB", "JobServices", "server_jobs"]

PURGE_JOB = "privacy-purge"
DIGEST_JOB = "weekly-digest"
PURGE_HOUR = 3  # o'clock in the bot's timezone: the quietest hour of a community's day
# After the purge: count the finished days of the past year into the kept days
# (insights/rollups.py), so no manager's first look at a long period pays for it
# on the page (about 4 s CPU for 180 days on 100,000 conversations). After the
# first night only one more day, and days a late change dropped, are counted.
KEEP_JOB = "insights-keep"
KEEP_HOUR = 4
KEEP_DAYS = 366


@dataclass(frozen=True)
class JobServices:
    """What the jobs run on: the server's own services, or those a command builds."""

    database: Database
    bot: Callable[[], Bot]  # the bot as loaded now
    mailer: Mailer | None = None
    notifier: Notifier | None = None
    gaps: Callable[[], Sequence[Suggestion]] | None = None  # the inbox's new suggestions
    public_url: str | None = None
    clock: Callable[[], datetime] = utcnow


def server_jobs(services: JobServices) -> Callable[[], list[Job]]:
    """The jobs due for the bot as it is now (asked on each tick)."""

    def today(timezone: str) -> date:
        return services.clock().astimezone(ZoneInfo(timezone)).date()

    def run_purge(slot: str) -> str:
        settings = services.bot().settings
        days = settings.privacy.retention_days
        # The bot's teams: the purge seals the insights figures in their timezone and hours.
        report = purge(services.database, days, clock=services.clock, handoff=settings.handoff)
        return f"purged {report.total} rows (retention {days} days)"

    def run_keep(slot: str) -> str:
        bot = services.bot()
        timezone = bot_timezone(bot)
        # Days are kept once they ended a day ago (rollups.settled): up to the day before yesterday.
        until = today(timezone) - timedelta(days=2)
        since = until - timedelta(days=KEEP_DAYS - 1)
        period = Period(since=since, until=until, timezone=timezone)
        figures(services.database, period, bot, now=services.clock())
        return f"kept the insights figures of {since} to {until}"

    run_digest = digest_job_run(
        services.database,
        services.bot,
        today,
        mailer=services.mailer,
        notifier=services.notifier,
        gaps=services.gaps,
        public_url=services.public_url,
    )

    def jobs() -> list[Job]:
        bot = services.bot()
        timezone = bot_timezone(bot)
        found = [
            Job(PURGE_JOB, daily_slot(PURGE_HOUR, timezone), run_purge),
            Job(KEEP_JOB, daily_slot(KEEP_HOUR, timezone), run_keep),
        ]
        digest = bot.settings.digest
        if digest.to or digest.teams:
            slot = weekly_slot(digest.weekday, digest.hour, timezone)
            found.append(Job(DIGEST_JOB, slot, run_digest))
        return found

    return jobs
