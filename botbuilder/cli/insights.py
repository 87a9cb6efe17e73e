"""`botbuilder insights`: the dashboard's figures and the gap finder's suggestions, for
scripts (--json) and people (a summary)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import click

from botbuilder.errors import BotbuilderError

__all__ = ["insights"]

_INSTANCE_HELP = (
    "Instance folder of the server (its SQLite database and embedding cache) "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance]. "
    "With $BOTBUILDER_DATABASE_URL set, that database is used."
)
DEFAULT_DAYS = 30


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date like 2026-11-27", param=param) from None


@click.command("insights")
@click.argument("flows_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: the figures and gaps."
)
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    callback=_day,
    help=f"First day, in the bot's timezone [default: {DEFAULT_DAYS} days before --until].",
)
@click.option(
    "--until", metavar="YYYY-MM-DD", callback=_day, help="Last day, included [default: today]."
)
@click.option("--language", metavar="CODE", help="Only conversations in this language, e.g. nl.")
def insights(
    flows_dir: str,
    as_json: bool,
    instance: str | None,
    since: date | None,
    until: date | None,
    language: str | None,
) -> None:
    """What members asked, what the bot missed and how fast the team responded."""
    from botbuilder.config import database_url, instance_path
    from botbuilder.content.loader import load_bot
    from botbuilder.db.engine import Database
    from botbuilder.insights.figures import bot_timezone, figures
    from botbuilder.insights.local_time import day_start
    from botbuilder.insights.summary import summary

    try:
        bot = load_bot(flows_dir)
        period = _period(bot_timezone(bot), since, until, language, bot.languages)
        database = Database(database_url(instance))
        try:
            result = figures(database, period, bot)
            start = day_start(period.since, period.timezone)
            result["gaps"] = gaps(database, flows_dir, instance_path(instance), language, start)
        finally:
            database.close()
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(summary(result, result["gaps"], bot.settings.name))


def _period(
    timezone: str,
    since: date | None,
    until: date | None,
    language: str | None,
    languages: tuple[str, ...],
) -> Any:
    from botbuilder.insights.figures import MAX_DAYS, Period
    from botbuilder.insights.local_time import zone

    if language is not None and language not in languages:
        raise click.BadParameter(
            f"this bot speaks {', '.join(languages)}, not '{language}'", param_hint="--language"
        )
    until = until or datetime.now(zone(timezone)).date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if until < since:
        raise click.UsageError(f"--until {until} is before --since {since}")
    if (until - since).days >= MAX_DAYS:
        raise click.UsageError(f"a period can be at most {MAX_DAYS} days")
    return Period(since, until, language, timezone)


def gaps(
    database: Any, flows_dir: str, instance: Any, language: str | None, since: datetime
) -> list[dict[str, Any]]:
    """The gap finder's new suggestions since the start of the period, largest first."""
    from botbuilder.db.engine import private_folder
    from botbuilder.insights.gaps import GapFinder
    from botbuilder.matching.runtime import BotRuntime

    cache = private_folder(instance) / "embeddings.sqlite"
    runtime = BotRuntime(flows_dir, cache_path=cache)
    finder = GapFinder(database, runtime)
    return [s.as_json() for s in finder.suggestions(language=language, since=since)]
