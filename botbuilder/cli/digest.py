"""`botbuilder digest`: the weekly digest, for cron or a systemd timer instead of the scheduler."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from botbuilder.errors import BotbuilderError

__all__ = ["digest_command"]

_INSTANCE_HELP = (
    "Instance folder of the server (its SQLite database and embedding cache) "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance]. "
    "With $BOTBUILDER_DATABASE_URL set, that database is used."
)


@click.command("digest")
@click.argument("flows_dir", default="flows", type=click.Path(exists=True, file_okay=False))
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Send it to ADDRESS instead of bot.yml's digest.to (and to no webhook); repeatable.",
)
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    help="The day it is sent; it covers the seven days before [default: today, the bot's timezone].",
)
@click.option("--no-gaps", is_flag=True, help="Leave out the inbox's gaps (no model is loaded).")
@click.option("--dry-run", is_flag=True, help="Print the digest; send nothing.")
def digest_command(
    flows_dir: str,
    instance: str | None,
    to: tuple[str, ...],
    today: str | None,
    no_gaps: bool,
    dry_run: bool,
) -> None:
    """Send the weekly digest (figures, gaps, ratings, response times) by e-mail and webhook."""
    from botbuilder.config import database_url, instance_path, setting
    from botbuilder.content.loader import load_bot
    from botbuilder.conversations.notify import Notifier
    from botbuilder.db.engine import Database
    from botbuilder.insights.figures import bot_timezone
    from botbuilder.integrations.mail import mailer_from_url
    from botbuilder.jobs.digest import compose_digest, deliver_digest
    from botbuilder.jobs.scheduler import iso_week

    try:
        bot = load_bot(flows_dir)
        day = _day(today, bot_timezone(bot))
        database = Database(database_url(instance))
        gaps = () if no_gaps else _gaps(flows_dir, database, instance_path(instance))
        digest = compose_digest(
            database, bot, day, gaps=gaps, public_url=setting("PUBLIC_URL") or None
        )
        if dry_run:
            click.echo(digest.text)
            return
        mailer = mailer_from_url(setting("SMTP_URL"), setting("MAIL_FROM"))
        notifier = Notifier(database)
        outcome = deliver_digest(
            digest, bot, slot=iso_week(day), mailer=mailer, notifier=notifier, to=to or None
        )
        notifier.wait(60)
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"digest {digest.subject}: {outcome}")


def _day(text: str | None, timezone: str) -> date:
    if text is None:
        return datetime.now(ZoneInfo(timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date like 2026-11-30", param_hint="--today"
        ) from None


def _gaps(flows_dir: str, database, instance: Path):  # type: ignore[no-untyped-def]
    from botbuilder.insights.gaps import GapFinder
    from botbuilder.matching.runtime import BotRuntime

    runtime = BotRuntime(flows_dir, cache_path=instance / "embeddings.sqlite")
    return GapFinder(database, runtime).suggestions()
