"""Browser fixtures: a real `botbuilder serve`, host pages on two other origins,
and headless Debian Chromium driven by Playwright (sync API).

One server for the whole run (starting it loads the sentence model, ~15 s) and
one browser per test module; every test gets a fresh browser context, so
fresh localStorage and a conversation of its own.

Without chromium (or the playwright package) the browser tests are skipped
with the reason, except under CI, where they fail: CI installs chromium.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS
from tests.servers import free_port, stop, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
SMALL_BOT = ROOT / "tests" / "fixtures" / "small_bot"
XSS_FLOW = Path(__file__).parent / "fixtures" / "xss.yml"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WELCOME = "Stel je vraag over lidmaatschap, contributie of activiteiten."
PRIVACY_URL = "https://example.org/privacy"


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return (
            f"chromium not found at {CHROMIUM}; install it with `make system-deps` (Debian package)"
        )
    return None


@dataclass(frozen=True)
class Server:
    """A running `botbuilder serve` and the two host sites around it."""

    url: str  # http://127.0.0.1:PORT, no trailing slash
    database_url: str
    allowed_site: str  # an origin listed in widget.allowed_origins
    refused_site: str  # an origin that is not

    def storage(self):  # type: ignore[no-untyped-def]
        from botbuilder.conversations.store import Storage

        return Storage(self.database_url, migrate=False)


# -- host pages on other origins ------------------------------------------------------


def _host_page(
    server_url: str,
    title: str,
    body: str = "",
    *,
    lang: str = "nl",
    style: str = "",
    script_attrs: str = "",
) -> str:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body><h1>{title}</h1>{body}
<script src="{server_url}/widget.js" defer {script_attrs}></script>
</body></html>"""


HOSTILE_CSS = """
html { font-size: 40px !important; line-height: 3 !important; }
body { font: italic 30px/3 "Comic Sans MS", cursive !important; color: red !important;
       letter-spacing: 6px !important; word-spacing: 20px !important;
       text-transform: uppercase !important; text-align: right !important; cursor: wait;
       background: #222 !important; min-height: 3000px;
       transform: translateZ(0); /* makes body the box of position: fixed children */ }
* { box-sizing: content-box !important; }
:root > :not(head), body * { display: inline !important; }
div, section, button, textarea, form, header, p, span, svg { all: unset !important;
       border: 5px dashed lime !important; font-size: 50px !important; }
button { display: none !important; }
[role=dialog], [role=log], textarea, .launcher, .panel { display: none !important; }
botbuilder-chat { display: none !important; position: absolute !important;
       left: -9999px !important; z-index: -1 !important; opacity: 0 !important;
       visibility: hidden !important; pointer-events: none !important; }
:host { display: none !important; }
"""

HOST_ELEMENTS = """
<p id="host-text">Gewone tekst van de site.</p>
<button id="host-button" class="launcher panel msg bubble reply">Knop van de site</button>
<div class="bb panel log" id="host-div">Een div met de klassen van de widget</div>
"""


def _write_site(directory: Path, server_url: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pages = {
        "index.html": _host_page(server_url, "Een andere website"),
        "english.html": _host_page(server_url, "An English site", lang="en-GB"),
        "nolang.html": _host_page(server_url, "A site that names no language", lang=""),
        "options.html": _host_page(
            server_url,
            "Opties",
            script_attrs='data-language="en" data-position="left" data-open="true"',
        ),
        # No widget in the page until the test adds it, so the host's own
        # computed styles can be compared before and after.
        "hostile.html": f"""<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vijandige CSS</title><style>{HOSTILE_CSS}</style></head>
<body>{HOST_ELEMENTS}</body></html>""",
    }
    pages["logo.svg"] = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        '<circle cx="16" cy="16" r="16" fill="#f4b400"/></svg>'
    )
    for name, html in pages.items():
        (directory / name).write_text(html, encoding="utf-8")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _static_site(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


# -- the bot server -------------------------------------------------------------------


def _bot_dir(target: Path, allowed_origin: str) -> Path:
    shutil.copytree(SMALL_BOT, target)
    shutil.copy(XSS_FLOW, target / "xss.yml")
    settings = yaml.safe_load((target / "bot.yml").read_text(encoding="utf-8"))
    settings["widget"] = {
        "title": {"nl": "Vraag het ons", "en": "Ask us"},
        "privacy_url": PRIVACY_URL,
        "color": "#0b6e4f",
        "welcome": {"nl": WELCOME, "en": "Ask about membership, fees or events."},
        "allowed_origins": [allowed_origin],
        "logo": f"{allowed_origin}/logo.svg",
    }
    # Fixed thresholds: the pages need a question that is asked back ("vraag over
    # lidmaatschap": cancelling or the fee?) whatever the calibration of the day decides.
    settings["matcher"] = {"answer_threshold": 0.7, "clarify_threshold": 0.45}
    (target / "bot.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return target


def _serve_command() -> list[str]:
    script = Path(sys.executable).parent / "botbuilder"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "botbuilder.cli", "serve"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`botbuilder serve` on a free port of 127.0.0.1, with its own instance folder."""
    work = tmp_path_factory.mktemp("widget")
    allowed_httpd, allowed_site = _static_site(work / "allowed-site")
    refused_httpd, refused_site = _static_site(work / "refused-site")
    flows = _bot_dir(work / "flows", allowed_site)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _write_site(work / "allowed-site", url)
    _write_site(work / "refused-site", url)
    instance = work / "instance"
    log_path = work / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "BOTBUILDER_DATABASE_URL"}  # SQLite here
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_serve_command(), str(flows), "--port", str(port), "--instance", str(instance)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
        )
    try:
        wait_until_healthy(url + "/health", process, log_path)
        yield Server(url, f"sqlite:///{instance / 'botbuilder.sqlite'}", allowed_site, refused_site)
    finally:
        stop(process)
        allowed_httpd.shutdown()
        refused_httpd.shutdown()


# -- the browser ----------------------------------------------------------------------


# Per module, not per session: Playwright's sync API allows one running instance
# per thread, and a test module may start its own (test_editor_browser.py does).
# Launching Chromium takes well under a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


def _new_page(browser: Any, **options: Any) -> Iterator[Any]:
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.script_errors = errors  # type: ignore[attr-defined]
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
    assert not dialogs, f"something opened a dialog (a script payload ran?): {dialogs}"


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A desktop-sized page in a fresh context (empty localStorage)."""
    yield from _new_page(browser, viewport=DESKTOP, locale="nl-NL")


@pytest.fixture
def phone(browser: Any, server: Server) -> Iterator[Any]:
    """A phone-sized page: 390×844, touch, mobile viewport."""
    yield from _new_page(
        browser,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
    )
