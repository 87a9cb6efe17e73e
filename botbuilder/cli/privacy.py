"""`botbuilder privacy …`: retention, and a member's requests to see or delete their data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from botbuilder.errors import BotbuilderError

__all__ = ["privacy"]

_INSTANCE_HELP = (
    "Instance folder of the server (its SQLite database) "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance]. "
    "With $BOTBUILDER_DATABASE_URL set, that database is used."
)
_CONVERSATION_HELP = "The member's conversation id (the widget shows it under ⋯)."
_EMAIL_HELP = "The member's e-mail address: every conversation that names it."


def _database(instance: str | None):  # type: ignore[no-untyped-def]
    from botbuilder.config import database_url
    from botbuilder.db.engine import Database

    return Database(database_url(instance))


def _member(database, conversation: str | None, email: str | None):  # type: ignore[no-untyped-def]
    from botbuilder.privacy.requests import find_member

    if (conversation is None) == (email is None):
        raise click.UsageError("give --conversation ID or --email ADDRESS (one of them)")
    return find_member(database, conversation_id=conversation, email=email)


@click.group("privacy")
def privacy() -> None:
    """Members' data under the AVG/GDPR: retention, deletion and export on request."""


@privacy.command("purge")
@click.argument("flows_dir", default="flows", type=click.Path(exists=True, file_okay=False))
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def purge_command(flows_dir: str, instance: str | None) -> None:
    """Delete what is older than bot.yml's privacy.retention_days, and empty conversations."""
    from botbuilder.content.bot_settings import read_settings
    from botbuilder.errors import FlowError, FlowProblem
    from botbuilder.privacy.retention import purge

    problems: list[FlowProblem] = []
    settings = read_settings(Path(flows_dir), problems)
    errors = [p for p in problems if p.severity == "error"]
    try:
        if errors:
            raise FlowError(errors)
        report = purge(
            _database(instance), settings.privacy.retention_days, handoff=settings.handoff
        )
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    for table, count in sorted(report.rows.items()):
        click.echo(f"{table}: {count} deleted")
    if report.questions_cleared:
        click.echo(f"handoffs: {report.questions_cleared} questions cleared")
    click.echo(
        f"purged {report.total} rows (retention {settings.privacy.retention_days} days; "
        f"sign-in records: {report.login_records})"
    )


@privacy.command("delete")
@click.option("--conversation", metavar="ID", help=_CONVERSATION_HELP)
@click.option("--email", metavar="ADDRESS", help=_EMAIL_HELP)
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def delete_command(conversation: str | None, email: str | None, instance: str | None) -> None:
    """Delete everything stored about one member; the log gets counts only."""
    from botbuilder.privacy.requests import delete_member

    try:
        database = _database(instance)
        report = delete_member(database, _member(database, conversation, email))
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    for table, count in sorted(report.rows.items()):
        click.echo(f"{table}: {count} deleted")
    click.echo(f"deleted {report.total} rows of {report.conversations} conversation(s)")


@privacy.command("export")
@click.option("--conversation", metavar="ID", help=_CONVERSATION_HELP)
@click.option("--email", metavar="ADDRESS", help=_EMAIL_HELP)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def export_command(
    conversation: str | None, email: str | None, out: str | None, instance: str | None
) -> None:
    """Write everything stored about one member as JSON."""
    from botbuilder.db.engine import private_file
    from botbuilder.privacy.requests import export_member

    try:
        database = _database(instance)
        data = export_member(database, _member(database, conversation, email))
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if out is None:
        click.echo(text)
        return
    Path(private_file(out)).write_text(text + "\n", encoding="utf-8")
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(f"wrote {rows} rows of {len(data['conversations'])} conversation(s) to {out}")
