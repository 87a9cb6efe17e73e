"""Import and export in the editor: upload a file, preview what will change, confirm.

The same formats (the one registry in `botbuilder.interchange.registry`) and
the same rules as `botbuilder import` / `botbuilder export`. An upload is read
once, at the preview: its entries (not the file) are kept in the instance
folder under a random token until the confirm, which merges them into the
files as they are then and saves the draft through the editor (same checks,
same lock, a version per written file in the history). Managers and admins
only; every POST is CSRF-checked by `login_required`.
"""

from __future__ import annotations

import dataclasses
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

from flask import Blueprint, current_app, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from botbuilder.content.loader import load_bot
from botbuilder.content.model import Bot
from botbuilder.editing.importing import ImportReport, check_import, draft_import, save_import
from botbuilder.errors import N_, BadRequest, FlowError, ImportFileError, Message, NotFound, Phrase
from botbuilder.interchange.entries import Entry, slug
from botbuilder.interchange.registry import FORMATS, Format, format_named
from botbuilder.server import auth
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_author, current_user
from botbuilder.server.editor_shared import EDITORS, flow_editor, reload_now, running_bot_problem
from botbuilder.server.i18n import localized

__all__ = ["blueprint"]

blueprint = Blueprint("transfer", __name__, url_prefix="/editor/transfer")
auth.STAFF_BLUEPRINTS.add("transfer")

MAX_UPLOAD = 2 * 1024 * 1024  # bytes per upload request (the app's default is 64 KB)
KEEP_SECONDS = 3600  # an upload not confirmed within an hour is thrown away
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_GONE = N_("This upload has expired or was imported already; upload the file again.")
_BROKEN = N_(
    "The flow files have errors; fix them (or restore a version) before importing or "
    "exporting:\n%(problems)s"
)


@blueprint.before_request
def _larger_uploads() -> None:
    # Before login_required reads the form (for the CSRF token), so the limit applies to it.
    if request.endpoint == "transfer.preview":
        request.max_content_length = MAX_UPLOAD


@blueprint.context_processor
def _common() -> dict[str, Any]:
    return {"flows_problem": running_bot_problem()}


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _bot() -> Bot:
    root = flow_editor().root
    try:
        return load_bot(root)
    except FlowError as exc:
        raise BadRequest(_BROKEN, problems=_one_a_line(exc, root)) from exc


def _one_a_line(error: FlowError, root: Path) -> str:
    """`file:line:col: problem`, one a line, each problem a value the page translates."""
    lines, params = [], {}
    for n, p in enumerate(error.problems):
        path = Path(p.path).resolve()
        where = path.relative_to(root.resolve()) if path.is_relative_to(root.resolve()) else path
        lines.append(f"%(place{n})s: %(problem{n})s")
        params[f"place{n}"] = f"{where.as_posix()}:{p.line}:{p.column}"
        params[f"problem{n}"] = p.message
    return Message("\n".join(lines), **params) if lines else str(error)


# -- reading an upload, and keeping its entries between preview and confirm ---------------


def _read_upload(
    fmt: Format, meta: dict[str, Any], main: FileStorage, domain: FileStorage | None, bot: Bot
) -> list[Entry]:
    """The uploaded file(s) as entries, read as `botbuilder import` reads them."""
    with tempfile.TemporaryDirectory(prefix="botbuilder-upload-") as tmp:
        files = [Path(tmp) / f"upload{fmt.suffix}"]
        main.save(files[0])
        if domain is not None:
            files.append(Path(tmp) / "domain.yml")
            domain.save(files[1])
        try:
            return fmt.read(files, meta["language"], bot)
        except ImportFileError as exc:
            # Name the files as the manager knows them, not by their place on the server.
            names = {
                str(files[0]): meta["names"]["main"],
                str(Path(tmp) / "domain.yml"): "domain.yml",
            }
            raise ImportFileError([_renamed(p, names) for p in exc.problems]) from exc


def _renamed(problem: str, names: dict[str, str]) -> str:
    """`problem` with each path in `names` replaced by its name; a `Message` stays one."""
    if isinstance(problem, Message):
        params = {
            k: v if isinstance(v, Phrase) or not isinstance(v, str) else _renamed(v, names)
            for k, v in problem.params.items()
        }
        return Message(problem.template, **params)
    for path, name in names.items():
        problem = problem.replace(path, name)
    return problem


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


def _store(meta: dict[str, Any], entries: list[Entry]) -> str:
    token = secrets.token_urlsafe(24)
    folder = _uploads() / token
    folder.mkdir(parents=True, mode=0o700)
    (folder / "entries.json").write_text(
        json.dumps([dataclasses.asdict(e) for e in entries], ensure_ascii=False), encoding="utf-8"
    )
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _stored(token: str) -> tuple[Path, dict[str, Any], list[Entry]]:
    """The upload under `token`, if it exists and belongs to the signed-in user."""
    folder = _uploads() / token
    user = current_user()
    if not _TOKEN.match(token) or not (folder / "meta.json").is_file():
        raise NotFound(_GONE)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("user") != (user.id if user else None):
        raise NotFound(_GONE)
    entries = json.loads((folder / "entries.json").read_text(encoding="utf-8"))
    return folder, meta, [Entry(**e) for e in entries]


def _note(meta: dict[str, Any]) -> str:
    return f"imported {meta['names']['main']} ({meta['format']})"


def _page(meta: dict[str, Any], **context: Any) -> str:
    context = {"problems": [], "report": None, "files": [], "token": None, "done": False, **context}
    return render_template("editor/transfer_preview.html", meta=meta, **context)


# -- pages ---------------------------------------------------------------------------------


@blueprint.get("")
@login_required(EDITORS)
def home() -> ResponseReturnValue:
    default, languages = flow_editor().languages()
    formats = {name: f.label for name, f in FORMATS.items()}
    return render_template(
        "editor/transfer.html", formats=formats, languages=languages, default=default
    )


def _upload_meta() -> tuple[Format, dict[str, Any], FileStorage, FileStorage | None]:
    """The preview form, checked: the format, what to keep about the upload, and its files."""
    default, languages = flow_editor().languages()
    fmt = format_named(request.form.get("format", ""))
    language = request.form.get("language") or default
    if language not in languages:
        choose = N_("choose one of the bot's languages: %(languages)s")
        raise BadRequest(choose, languages=", ".join(languages))
    main = request.files.get("file")
    if main is None or not main.filename:
        raise BadRequest(N_("choose a file to import"))
    domain = request.files.get("domain") if fmt.name == "rasa" else None
    if domain is not None and not domain.filename:
        domain = None
    names = {"main": secure_filename(main.filename) or f"upload{fmt.suffix}"}
    if domain is not None:
        names["domain"] = secure_filename(domain.filename or "") or "domain.yml"
    user = current_user()
    meta = {
        "format": fmt.name,
        "language": language,
        "names": names,
        "user": user.id if user else None,
    }
    return fmt, meta, main, domain


@blueprint.post("/preview")
@login_required(EDITORS)
def preview() -> ResponseReturnValue:
    fmt, meta, main, domain = _upload_meta()
    _clean_old()
    editor, bot = flow_editor(), _bot()
    try:
        entries = _read_upload(fmt, meta, main, domain, bot)
        draft, report = draft_import(editor, entries, bot, bot.settings.language, _note(meta))
        check_import(editor, draft)  # a dry run: the same checks as the confirm
    except ImportFileError as exc:
        return _page(meta, problems=exc.problems), 422
    token = _store(meta, entries)
    return _page(meta, report=report, files=report.files, token=token)


@blueprint.post("/confirm")
@login_required(EDITORS)
def confirm() -> ResponseReturnValue:
    folder, meta, entries = _stored(request.form.get("token", ""))
    editor, bot = flow_editor(), _bot()
    report: ImportReport
    try:
        # Merged into the files as they are now, which may have changed since the preview;
        # each new intent goes to the topic file the manager picked there.
        picks = {k[len("target:") :]: v for k, v in request.form.items() if k.startswith("target:")}
        draft, report = draft_import(
            editor, entries, bot, bot.settings.language, _note(meta), picks
        )
        versions = save_import(editor, draft, current_author())
    except ImportFileError as exc:
        return _page(meta, problems=exc.problems), 422
    shutil.rmtree(folder, ignore_errors=True)
    reload_now()
    return _page(meta, report=report, files=[v.path for v in versions], done=True)


@blueprint.get("/export")
@login_required(EDITORS)
def export() -> ResponseReturnValue:
    fmt = format_named(request.args.get("format", ""), export=True)
    language = request.args.get("language") or None
    bot = _bot()
    if language is not None and language not in bot.languages:
        raise BadRequest(N_("the bot has no language '%(language)s'"), language=language[:20])
    if fmt.folder:  # one language per folder: the bot's unless one is asked for
        language = language or bot.settings.language
    data, download = _exported(bot, fmt, language)
    return send_file(
        io.BytesIO(data), mimetype=fmt.mimetype, as_attachment=True, download_name=download
    )


def _exported(bot: Bot, fmt: Format, language: str | None) -> tuple[bytes, str]:
    """The bot written in `fmt` (a folder zipped), and the name to download it as."""
    assert fmt.write is not None
    name = slug(bot.settings.name) or "bot"
    with tempfile.TemporaryDirectory(prefix="botbuilder-export-") as tmp:
        if fmt.folder:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in fmt.write(bot, Path(tmp) / fmt.name, language):
                    archive.write(path, path.name)
            return buffer.getvalue(), f"{name}-{fmt.name}-{language}.zip"
        path = Path(tmp) / f"export{fmt.suffix}"
        fmt.write(bot, path, language)
        return path.read_bytes(), f"{name}{'-' + language if language else ''}{fmt.suffix}"


@blueprint.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_template(
        "auth/refused.html", message=localized(exc), title=gettext("Not found")
    ), 404


@blueprint.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> ResponseReturnValue:
    # One problem of the flow files a line, as the editor's banner lists them.
    message = Markup("<br>").join(localized(exc).split("\n"))
    return render_template(
        "auth/refused.html", message=message, title=gettext("Not possible")
    ), exc.status
