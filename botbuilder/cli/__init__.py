"""The `botbuilder` command: serve, check, chat, evaluate, actions, and the groups
registered at the bottom (user, import, export, privacy).

The only place where errors become exit codes: core code raises
`BotbuilderError`, and this module turns it into a `click.ClickException`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from botbuilder import __version__
from botbuilder.errors import BotbuilderError

__all__ = ["main"]


@contextmanager
def _people_errors() -> Iterator[None]:
    try:
        yield
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc


def _matcher_for(flows_dir: str):  # type: ignore[no-untyped-def]
    from botbuilder.config import instance_path
    from botbuilder.content.loader import load_bot
    from botbuilder.matching.encoder import CachedEncoder, encoder_for
    from botbuilder.matching.index_store import IndexStore
    from botbuilder.matching.matcher import Matcher

    bot = load_bot(flows_dir)
    cache = instance_path() / "embeddings.sqlite"
    encoder = CachedEncoder(encoder_for(bot.settings.matcher.model), cache)
    return bot, Matcher(bot, encoder, store=IndexStore(cache))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="botbuilder")
def main() -> None:
    """botbuilder: FAQ chatbots for communities, from YAML flows."""


@main.command()
@click.argument("flows_dir", default="flows", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--instance",
    type=click.Path(file_okay=False),
    help="Folder for the SQLite database, secret key and caches "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance].",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Requests handled at once.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Server processes sharing the port (Linux), each with --threads threads.",
)
@click.option("--reuse-port", is_flag=True, hidden=True)  # a worker of --workers
def serve(
    flows_dir: str,
    host: str,
    port: int,
    instance: str | None,
    threads: int,
    workers: int,
    reuse_port: bool,
) -> None:
    """Run the bot server (widget API, demo page) with a production WSGI server."""
    if workers > 1:  # processes on one port (cli/workers.py)
        sys.exit(_run_workers(workers, flows_dir, host, port, instance, threads))
    import waitress

    from botbuilder.server import create_app
    from botbuilder.server.app import follow_published_flows, start_scheduler
    from botbuilder.server.transfer import MAX_UPLOAD

    # A large bot's first start answers from a provisional index over a few
    # phrasings of every intent while the rest are encoded (matching/matcher.py).
    config: dict[str, object] = {"FLOWS_DIR": flows_dir, "QUICK_START": True}
    if instance:
        config["INSTANCE_PATH"] = instance
    with _people_errors():
        app = create_app(config)
    loaded = app.extensions["botbuilder"].runtime.current()
    name = loaded.bot.settings.name
    # A saved index needs no encoding, but the first question does: load the model
    # before serving, so /ready means the encoder is loaded too (e5: well under a second).
    load = getattr(loaded.matcher.query_encoder, "load", None)
    if load is not None:
        with _people_errors():
            load()
    click.echo(
        f"botbuilder {__version__}: serving '{name}' from {flows_dir} on http://{host}:{port}"
    )
    click.echo(f"database: {app.extensions['botbuilder'].storage.engine.url.render_as_string()}")
    if app.extensions["botbuilder"].editor.sync is not None:
        click.echo(f"flows: {app.extensions['botbuilder'].editor.sync.started}")
    app.extensions["botbuilder"].notifier.start()  # webhooks any replica left in the outbox
    if start_scheduler(app):
        click.echo("scheduled jobs: the daily purge, and the weekly digest if bot.yml has one")
    follow_published_flows(app)  # flows published by other replicas come in within a second
    sys.stdout.flush()
    waitress.serve(
        app,
        **_listen(host, port, reuse_port),
        threads=threads,
        ident="botbuilder",
        channel_timeout=60,
        # Just above the largest route limit (uploads); the app gives each route its own, in JSON.
        max_request_body_size=MAX_UPLOAD + 64 * 1024,
        # waitress drops X-Forwarded-* unless told otherwise; with trusted proxies set the app
        # reads them itself, and believes them only from those proxies (server/proxies.py).
        clear_untrusted_proxy_headers=not app.config.get("TRUSTED_PROXIES"),
    )


def _run_workers(
    workers: int, flows_dir: str, host: str, port: int, instance: str | None, threads: int
) -> int:
    from botbuilder.cli.workers import run_workers

    if port == 0:
        raise click.BadParameter("several workers need a fixed port", param_hint="--port")
    arguments = [flows_dir, "--host", host, "--port", str(port), "--threads", str(threads)]
    return run_workers(workers, arguments + (["--instance", instance] if instance else []))


def _listen(host: str, port: int, reuse_port: bool) -> dict[str, object]:
    """waitress's address; a worker of --workers opens a socket the others share."""
    if not reuse_port:
        return {"host": host, "port": port}
    from botbuilder.cli.workers import reuse_port_socket

    return {"sockets": [reuse_port_socket(host, port)]}


@main.command()
@click.argument("flows_dir", type=click.Path(file_okay=False))
@click.option(
    "--publish",
    is_flag=True,
    help="Without errors, publish the folder to the database: every replica serves it "
    "within 2 seconds (docs/replicas.md).",
)
@click.option(
    "--instance",
    type=click.Path(file_okay=False),
    help="With --publish: the server's instance folder (its SQLite database) "
    "[default: $BOTBUILDER_INSTANCE_PATH or ./instance]; $BOTBUILDER_DATABASE_URL wins.",
)
def check(flows_dir: str, publish: bool, instance: str | None) -> None:
    """Validate a bot directory: every error with file, line and fix (exit 1 on errors)."""
    from botbuilder.content.loader import inspect_bot

    bot, problems = inspect_bot(flows_dir)
    if bot is not None:
        from botbuilder.content.advice import advise

        problems = [*problems, *advise(bot)]
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.column)):
        prefix = "warning: " if problem.severity == "warning" else ""
        click.echo(
            f"{problem.path}:{problem.line}:{problem.column}: {prefix}{problem.message}",
            err=problem.severity == "error",
        )
    if bot is None:
        errors = sum(1 for p in problems if p.severity == "error")
        nothing = "; nothing was published" if publish else ""
        raise click.ClickException(
            f"{errors} error{'s' if errors != 1 else ''} in {flows_dir}{nothing}; "
            "fix them and check again"
        )
    from botbuilder.matching.encoder import choose_encoder

    click.echo(f"encoder: {choose_encoder(bot.settings.matcher.model).describe()}")
    warnings = sum(1 for p in problems if p.severity == "warning")
    matchable = len({i.id for i in bot.matchable()})
    click.echo(
        f"OK: {len(bot.intent_ids())} intents ({matchable} matchable) in "
        f"{', '.join(bot.languages)}, {sum(len(i.questions) for i in bot.intents.values())} "
        f"example questions"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )
    if publish:
        with _people_errors():
            _publish(flows_dir, instance)


def _publish(flows_dir: str, instance: str | None) -> None:
    """`check --publish`: the checked folder becomes the newest publication."""
    import socket
    from pathlib import Path

    from botbuilder.config import database_url
    from botbuilder.db.engine import Database
    from botbuilder.editing.history import FlowHistory
    from botbuilder.editing.publications import Publications, publish_folder

    database = Database(database_url(instance))
    try:
        note = f"published with botbuilder check --publish on {socket.gethostname()}"
        published = publish_folder(
            Publications(database), FlowHistory(database), Path(flows_dir).resolve(), note
        )
    finally:
        database.close()
    if published is None:
        click.echo("published already: the database's newest flows are this folder")
    else:
        click.echo(
            f"published as publication {published.id}: every replica serves it within 2 seconds"
        )


@main.command()
@click.argument("flows_dir", default="flows", type=click.Path(file_okay=False))
@click.option("--language", help="Start in this language (default: the bot's).")
def chat(flows_dir: str, language: str | None) -> None:
    """Talk to the bot in the terminal; shows decision, intent and confidence."""
    import tempfile

    from botbuilder.config import instance_path
    from botbuilder.conversations.dialogue import Dialogue
    from botbuilder.conversations.store import Storage
    from botbuilder.db.engine import database_url
    from botbuilder.matching.runtime import BotRuntime

    with _people_errors(), tempfile.TemporaryDirectory() as tmp:
        runtime = BotRuntime(flows_dir, cache_path=instance_path() / "embeddings.sqlite")
        # A scratch database: a terminal chat leaves nothing in the server's.
        storage = Storage(database_url(None, tmp))
        dialogue = Dialogue(runtime, storage)
        turn = dialogue.start(language)
        conversation_id = turn.conversation.id
        _show(turn.messages)
        click.echo("(type a question; a button's number to press it; 'quit' to stop)")
        buttons: list[dict[str, str]] = []
        while True:
            try:
                text = click.prompt("you", prompt_suffix="> ").strip()
            except (EOFError, click.Abort):
                break
            if text.lower() in ("quit", "exit", "stop"):
                break
            try:
                if text.isascii() and text.isdigit() and 0 < int(text) <= len(buttons):
                    turn = dialogue.press_button(conversation_id, buttons[int(text) - 1]["id"])
                else:
                    turn = dialogue.receive_text(conversation_id, text)
            except BotbuilderError as exc:
                click.echo(f"  ! {exc.message}")
                continue
            member = turn.member_message
            if member is not None and member.decision:
                click.secho(
                    f"  [{member.decision} · {member.intent or '-'} · {member.confidence or 0:.2f} · "
                    f"state {turn.conversation.state}]",
                    fg="cyan",
                )
            elif turn.conversation.state != "bot":
                click.secho(
                    f"  [state {turn.conversation.state}: waiting for a colleague]", fg="cyan"
                )
            buttons = [b for m in turn.messages for b in m.buttons if not b.get("url")]
            _show(turn.messages)
        storage.close()


def _show(messages: list) -> None:  # type: ignore[type-arg]
    number = 0
    for message in messages:
        click.echo(f"bot> {message.text.strip()}")
        for button in message.buttons:
            if button.get("url"):
                click.echo(f"     ↗ {button['label']} ({button['url']})")
            else:
                number += 1
                click.echo(f"     [{number}] {button['label']}")


@main.command()
@click.argument("flows_dir", type=click.Path(file_okay=False))
@click.option(
    "--tests",
    "tests_file",
    type=click.Path(dir_okay=False),
    help="Evaluation file: a YAML list of {q, expect}.",
)
@click.option(
    "--cross-validate",
    "cross",
    is_flag=True,
    help="Without a tests file: hold out each example question in turn and score the bot on it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures.")
def evaluate(flows_dir: str, tests_file: str | None, cross: bool, as_json: bool) -> None:
    """Score the bot on questions it has never seen."""
    from botbuilder.matching.evaluation import cross_validate, load_cases, report
    from botbuilder.matching.evaluation import evaluate as run

    if bool(tests_file) == cross:
        raise click.UsageError("give either --tests FILE or --cross-validate")
    with _people_errors():
        bot, matcher = _matcher_for(flows_dir)
        if cross:
            result = cross_validate(bot, matcher.encoder)
        else:
            cases = load_cases(tests_file, set(bot.intent_ids()))  # type: ignore[arg-type]
            result = run(matcher, cases)
    if as_json:
        figures = dict(result.metrics)
        figures["thresholds"] = {
            "answer": matcher.thresholds.answer,
            "clarify": matcher.thresholds.clarify,
        }
        if cross:
            figures["cross_validated"] = True
        click.echo(json.dumps(figures, indent=2))
    else:
        if cross:
            click.echo(
                "Cross-validation: each example question held out once (no out-of-scope questions).\n"
            )
        click.echo(report(result))


@main.command()
@click.argument("flows_dir", default="flows", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5055, show_default=True, type=click.IntRange(0, 65535))
def actions(flows_dir: str, host: str, port: int) -> None:
    """Run a rasa-sdk action server with action_botbuilder_faq for an existing Rasa assistant."""
    from rasa_sdk import endpoint
    from rasa_sdk.executor import ActionExecutor

    from botbuilder.content.loader import load_bot
    from botbuilder.integrations.rasa_actions import ActionBotbuilderFaq, configure

    with _people_errors():
        bot = load_bot(flows_dir)  # report broken flows now, not on Rasa's first call
    configure(flows_dir)
    os.environ["SANIC_HOST"] = host  # rasa-sdk listens on 0.0.0.0 unless told
    executor = ActionExecutor()
    executor.register_action(ActionBotbuilderFaq)
    click.echo(
        f"botbuilder {__version__}: action_botbuilder_faq for '{bot.settings.name}' "
        f"on http://{host}:{port}/webhook"
    )
    sys.stdout.flush()
    # Rasa calls the action server from its own process, never from a browser: no CORS.
    endpoint.run(executor, port=port, cors_origins=[])


# These commands live in their own modules; registered here so `botbuilder user …`,
# `botbuilder export` and `botbuilder import` work.
from botbuilder.cli.digest import digest_command  # noqa: E402
from botbuilder.cli.insights import insights  # noqa: E402
from botbuilder.cli.privacy import privacy  # noqa: E402
from botbuilder.cli.transfer import export_command, import_command  # noqa: E402
from botbuilder.cli.users import users  # noqa: E402

main.add_command(users)
main.add_command(privacy)
main.add_command(insights)
main.add_command(export_command)
main.add_command(import_command)
main.add_command(digest_command)
