"""`botbuilder export` and `botbuilder import`: a bot to and from Rasa, spreadsheets and QnA Maker.

The formats come from the one registry (`botbuilder.interchange.registry`),
the same the editor's Import / export page offers. An import is saved like an
edit in the editor: entries become a draft that `FlowEditor.save` checks and
writes, all or nothing. A folder has no database, so the command keeps no
history; it takes the server's lock file when the instance folder exists, so
an import never interleaves with an editor save of a server on that instance.
"""

from __future__ import annotations

from pathlib import Path

import click

from botbuilder.config import instance_path
from botbuilder.content.loader import load_bot
from botbuilder.editing.importing import ImportReport, draft_import, save_import
from botbuilder.editing.service import FlowEditor
from botbuilder.errors import BotbuilderError
from botbuilder.interchange.entries import bot_entries
from botbuilder.interchange.registry import FORMATS, Format, export_formats

__all__ = ["export_command", "import_command"]


@click.command("export")
@click.argument("flows_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(export_formats()), required=True)
@click.option("--language", help="Only this language (rasa: default the bot's language).")
@click.argument("out", type=click.Path())
def export_command(flows_dir: str, fmt: str, language: str | None, out: str) -> None:
    """Write the bot as Rasa training data (OUT is a folder) or a spreadsheet (OUT is a file)."""
    chosen = FORMATS[fmt]
    assert chosen.write is not None
    try:
        bot = load_bot(flows_dir)
        paths = chosen.write(bot, Path(out), language)
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    if chosen.folder:
        click.echo(f"wrote {', '.join(str(p) for p in paths)}")
    else:
        click.echo(f"wrote {len(bot_entries(bot, language))} intents to {out}")


@click.command("import")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), required=True)
@click.option("--language", help="Language of the imported questions [default: the bot's, or nl].")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def import_command(fmt: str, language: str | None, paths: tuple[str, ...]) -> None:
    """Import FILES into the bot folder OUT_DIR (new or existing): import --format F FILES... OUT_DIR.

    rasa takes nlu.yml and optionally domain.yml (for the answers); csv/xlsx a
    spreadsheet with columns intent, question, answer, language; qna a QnA Maker TSV.
    Existing intents get new questions and answers; nothing is written if any row is bad.
    """
    if len(paths) < 2:
        raise click.UsageError("give the file(s) to import and then the bot folder to import into")
    *files, out_dir = (Path(p) for p in paths)
    for f in files:
        if not f.is_file():
            raise click.UsageError(f"no such file: {f}")
    try:
        report = _import(FORMATS[fmt], files, out_dir, language)
    except BotbuilderError as exc:
        raise click.ClickException(exc.message) from exc
    for key in report.added:
        click.echo(f"added    {key}")
    for key in report.changed:
        click.echo(f"changed  {key}")
    click.echo(report.summary())


def _import(fmt: Format, files: list[Path], target: Path, language: str | None) -> ImportReport:
    """Read the files, then save them into the bot at `target` through the flow editor."""
    existing = load_bot(target) if target.exists() and any(target.iterdir()) else None
    lang = language or (existing.settings.language if existing else "nl")
    entries = fmt.read(files, lang, existing)
    instance = instance_path()
    lock = instance / "flows.lock" if instance.is_dir() else None
    editor = FlowEditor(target, history=None, lock_path=lock)
    note = f"imported {', '.join(f.name for f in files)} ({fmt.name})"
    draft, report = draft_import(editor, entries, existing, lang, note)
    save_import(editor, draft, "botbuilder import")
    return report
