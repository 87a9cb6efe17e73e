"""`botbuilder user …`: accounts for the editor and the agent console.

There are no default credentials: the first admin is made here, on the
server, by someone who can run commands there. Adding, removing and new
passwords go through `people.People`, so they are in the editor's History
("command line") like the admin pages' changes.
"""

from __future__ import annotations

import functools
import sys

import click

from botbuilder.errors import BotbuilderError

__all__ = ["users"]

_INSTANCE_HELP = (
    "Instance folder of the server (its SQLite database) "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance]. "
    "With $BOTBUILDER_DATABASE_URL set, that database is used."
)


def _accounts(instance: str | None):  # type: ignore[no-untyped-def]
    from botbuilder.accounts import Accounts
    from botbuilder.config import database_url
    from botbuilder.db.engine import Database

    return Accounts(Database(database_url(instance)))


def _people(instance: str | None):  # type: ignore[no-untyped-def]
    """People on the instance's database; an agent removed here gives their conversations
    back to the queue, as in the admin's pages."""
    from botbuilder.accounts import Accounts
    from botbuilder.config import database_url
    from botbuilder.conversations.queue import HandoffQueue
    from botbuilder.conversations.release import release_claims
    from botbuilder.conversations.store import Storage
    from botbuilder.people import People

    storage = Storage(database_url(instance))
    release = functools.partial(release_claims, HandoffQueue(storage))
    return People(Accounts(storage), release=release)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("user")
def users() -> None:
    """Manage accounts: managers edit the bot, agents answer chats, admins do both."""


@users.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "manager", "agent"]),
    default="manager",
    show_default=True,
    help="admin: everything; manager: the editor; agent: the agent console.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def add(email: str, role: str, password_stdin: bool, instance: str | None) -> None:
    """Create an account (asks for the password unless --password-stdin)."""
    try:
        user, _ = _people(instance).invite(email, role, _password(password_stdin), via="cli")
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"added {user.email} ({user.role}); they can sign in at /login")


@users.command("list")
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def list_users(instance: str | None) -> None:
    """Show every account and its role."""
    try:
        found = _accounts(instance).users()
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    if not found:
        click.echo("no accounts yet; add one with: botbuilder user add EMAIL --role admin")
    for user in found:
        click.echo(f"{user.email}\t{user.role}\tsince {user.created_at:%Y-%m-%d}")


@users.command("remove")
@click.argument("email")
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def remove(email: str, instance: str | None) -> None:
    """Delete an account; its sessions end at once."""
    try:
        _people(instance).remove(email)
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"removed {email.strip().lower()}")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--instance", type=click.Path(file_okay=False), help=_INSTANCE_HELP)
def set_password(email: str, password_stdin: bool, instance: str | None) -> None:
    """Give an account a new password; every session of the account ends."""
    try:
        user = _people(instance).set_password(email, _password(password_stdin))
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"new password set for {user.email}")
