"""Import and export in the editor: upload a file, preview what will change, confirm.

The same formats and the same rules as `botbuilder import` / `botbuilder export`
(csv, xlsx, QnA Maker TSV, Rasa nlu.yml + domain.yml). An upload is kept in
the instance folder under a random token between preview and confirm; the
preview is a dry run against the bot's files, the confirm runs the import
again on the files as they are then and saves the result through the
editor (same checks, same lock, a version per written file in the history).
Managers and admins only; every POST is CSRF-checked by `login_required`.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from botbuilder.content.loader import load_bot
from botbuilder.content.model import Bot
from botbuilder.editing.service import Draft, InvalidEdit
from botbuilder.errors import BadRequest, FlowError, ImportFileError, NotFound
from botbuilder.interchange.entries import Entry, ImportReport, bot_entries, slug, write_entries
from botbuilder.server import auth
from botbuilder.server.auth import current_user, login_required
from botbuilder.server.editor import EDITORS, _reload_now, _running_bot_problem, flow_editor

__all__ = ["FORMATS", "blueprint"]

blueprint = Blueprint("transfer", __name__, url_prefix="/editor/transfer")
auth.STAFF_BLUEPRINTS.add("transfer")

FORMATS = {
    "csv": "Spreadsheet (.csv)",
    "xlsx": "Excel (.xlsx)",
    "qna": "QnA Maker (.tsv)",
    "rasa": "Rasa (nlu.yml + domain.yml)",
}
_SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "qna": ".tsv", "rasa": ".yml"}
MAX_UPLOAD = 2 * 1024 * 1024  # bytes per upload request (the app's default is 64 KB)
KEEP_SECONDS = 3600  # an upload not confirmed within an hour is thrown away
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@blueprint.before_request
def _larger_uploads() -> None:
    # Before login_required reads the form (for the CSRF token), so the limit applies to it.
    if request.endpoint == "transfer.preview":
        request.max_content_length = MAX_UPLOAD


@blueprint.context_processor
def _common() -> dict[str, Any]:
    return {"flows_problem": _running_bot_problem()}


def _flows_dir() -> Path:
    return Path(current_app.config["FLOWS_DIR"])


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _author() -> str:
    user = current_user()
    return user.email if user else "unknown"


def _bot() -> Bot:
    try:
        return load_bot(_flows_dir())
    except FlowError as exc:
        raise BadRequest(
            "The flow files have errors; fix them (or restore a version) before importing or "
            f"exporting: {exc}"
        ) from exc


def _languages() -> tuple[str, tuple[str, ...]]:
    return flow_editor().languages()


# -- the upload between preview and confirm ---------------------------------------------


def _clean_old() -> None:
    root = _uploads()
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if time.time() - folder.stat().st_mtime > KEEP_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def _store(fmt: str, language: str, main: FileStorage, domain: FileStorage | None) -> str:
    token = secrets.token_urlsafe(24)
    folder = _uploads() / token
    folder.mkdir(parents=True, mode=0o700)
    names = {"main": secure_filename(main.filename or "") or f"upload{_SUFFIX[fmt]}"}
    main.save(folder / f"upload{_SUFFIX[fmt]}")
    if domain is not None:
        names["domain"] = secure_filename(domain.filename or "") or "domain.yml"
        domain.save(folder / "domain.yml")
    user = current_user()
    meta = {"format": fmt, "language": language, "names": names, "user": user.id if user else None}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _stored(token: str) -> tuple[Path, dict[str, Any]]:
    """The upload under `token`, if it exists and belongs to the signed-in user."""
    folder = _uploads() / token
    user = current_user()
    if not _TOKEN.match(token) or not (folder / "meta.json").is_file():
        raise NotFound("This upload has expired or was imported already; upload the file again.")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("user") != (user.id if user else None):
        raise NotFound("This upload has expired or was imported already; upload the file again.")
    return folder, meta


def _entries(folder: Path, meta: dict[str, Any], bot: Bot) -> list[Entry]:
    """The uploaded file(s) as entries, as `botbuilder import` reads them."""
    fmt, lang = meta["format"], meta["language"]
    main = folder / f"upload{_SUFFIX[fmt]}"
    try:
        if fmt == "rasa":
            from botbuilder.interchange.rasa import import_rasa

            domain = folder / "domain.yml"
            return import_rasa(main, domain if domain.is_file() else None, lang)
        if fmt == "qna":
            from botbuilder.interchange.qna import import_qna

            return import_qna(main, lang, set(bot.intent_ids()))
        from botbuilder.interchange.spreadsheet import read_rows, rows_to_entries

        return rows_to_entries(read_rows(main), lang, set(bot.intents))
    except ImportFileError as exc:
        # Name the files as the manager knows them, not by their place on the server.
        names = {str(main): meta["names"]["main"], str(folder / "domain.yml"): "domain.yml"}
        problems = list(exc.problems)
        for path, name in names.items():
            problems = [p.replace(path, name) for p in problems]
        raise ImportFileError(problems) from exc


def _import(folder: Path, meta: dict[str, Any], dry_run: bool) -> ImportReport:
    bot = _bot()
    entries = _entries(folder, meta, bot)
    return write_entries(entries, _flows_dir(), bot.settings.language, dry_run=dry_run)


def _save(folder: Path, meta: dict[str, Any]) -> tuple[ImportReport, list[str]]:
    """Import into a scratch copy, then save the changed files through the editor."""
    editor = flow_editor()
    bot = _bot()
    entries = _entries(folder, meta, bot)
    with tempfile.TemporaryDirectory(prefix="botbuilder-import-") as tmp:
        scratch = Path(tmp) / "bot"
        shutil.copytree(editor.root, scratch)
        report = write_entries(entries, scratch, bot.settings.language)
        changes = {
            p.resolve().relative_to(scratch.resolve()).as_posix(): p.read_text(encoding="utf-8")
            for p in report.files
        }
    note = f"imported {meta['names']['main']} ({meta['format']})"
    draft = Draft(changes, {rel: note for rel in changes})
    versions = editor.save(draft, _author())
    return report, [v.path for v in versions]


# -- pages ---------------------------------------------------------------------------------


@blueprint.get("")
@login_required(EDITORS)
def home() -> ResponseReturnValue:
    default, languages = _languages()
    return render_template(
        "editor/transfer.html", formats=FORMATS, languages=languages, default=default
    )


@blueprint.post("/preview")
@login_required(EDITORS)
def preview() -> ResponseReturnValue:
    default, languages = _languages()
    fmt = request.form.get("format", "")
    language = request.form.get("language") or default
    main = request.files.get("file")
    domain = request.files.get("domain") if fmt == "rasa" else None
    if fmt not in FORMATS:
        raise BadRequest(f"choose one of the formats: {', '.join(FORMATS)}")
    if language not in languages:
        raise BadRequest(f"choose one of the bot's languages: {', '.join(languages)}")
    if main is None or not main.filename:
        raise BadRequest("choose a file to import")
    if domain is not None and not domain.filename:
        domain = None
    _clean_old()
    token = _store(fmt, language, main, domain)
    folder, meta = _stored(token)
    try:
        report = _import(folder, meta, dry_run=True)
    except ImportFileError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        page = render_template(
            "editor/transfer_preview.html", meta=meta, problems=exc.problems, report=None
        )
        return page, 422
    return render_template(
        "editor/transfer_preview.html",
        meta=meta,
        problems=[],
        report=report,
        files=_relative(report),
        token=token,
        done=False,
    )


@blueprint.post("/confirm")
@login_required(EDITORS)
def confirm() -> ResponseReturnValue:
    folder, meta = _stored(request.form.get("token", ""))
    try:
        report, written = _save(folder, meta)
    except ImportFileError as exc:
        # The files changed since the preview in a way that makes the import fail.
        page = render_template(
            "editor/transfer_preview.html",
            meta=meta,
            problems=exc.problems,
            report=None,
        )
        return page, 422
    except InvalidEdit as exc:
        page = render_template(
            "editor/transfer_preview.html",
            meta=meta,
            problems=[p.text for p in exc.problems if p.severity == "error"],
            report=None,
        )
        return page, 422
    shutil.rmtree(folder, ignore_errors=True)
    _reload_now()
    return render_template(
        "editor/transfer_preview.html",
        meta=meta,
        problems=[],
        report=report,
        files=written,
        done=True,
    )


def _relative(report: ImportReport) -> list[str]:
    root = _flows_dir().resolve()
    return [p.resolve().relative_to(root).as_posix() for p in report.files]


@blueprint.get("/export")
@login_required(EDITORS)
def export() -> ResponseReturnValue:
    fmt = request.args.get("format", "")
    language = request.args.get("language") or None
    if fmt not in ("csv", "xlsx", "rasa"):
        raise BadRequest("export as csv, xlsx or rasa")
    bot = _bot()
    if language is not None and language not in bot.languages:
        raise BadRequest(f"the bot has no language '{language}'")
    name = slug(bot.settings.name) or "bot"
    with tempfile.TemporaryDirectory(prefix="botbuilder-export-") as tmp:
        out = Path(tmp)
        if fmt == "rasa":
            from botbuilder.interchange.rasa import export_rasa

            language = language or bot.settings.language
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in export_rasa(bot, out / "rasa", language):
                    archive.write(path, path.name)
            data, mimetype = buffer.getvalue(), "application/zip"
            download = f"{name}-rasa-{language}.zip"
        else:
            from botbuilder.interchange.spreadsheet import write_csv, write_xlsx

            path = out / f"export.{fmt}"
            (write_csv if fmt == "csv" else write_xlsx)(bot_entries(bot, language), path)
            data = path.read_bytes()
            mimetype = (
                "text/csv"
                if fmt == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            download = f"{name}{'-' + language if language else ''}.{fmt}"
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=download
    )


@blueprint.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_template("auth/refused.html", message=exc.message, title="Not found"), 404


@blueprint.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> ResponseReturnValue:
    return render_template(
        "auth/refused.html", message=exc.message, title="Not possible"
    ), exc.status
