"""Weight and speed of the chat widget, for `make bench`.

- size: the bytes a browser downloads for the widget (its JS, with the CSS
  inside it, plus any stylesheet in web/static), raw and gzipped at level 9
  as a compressing proxy or CDN would send them; the budget is 30 KB gzipped.
- launcher: the time from the widget script starting to run until the
  launcher button is in the page, as the script itself records it with
  `performance.mark` ("botbuilder:launcher" measure), in headless Chromium
  on a cold page, median of several runs; the budget is 100 ms.

No server is needed: the browser gets the page and the script from memory
(Playwright request routing), so the figure is the script's own cost.
"""

from __future__ import annotations

import gzip
import statistics
from importlib.resources import files
from pathlib import Path
from typing import Any

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS

__all__ = ["launcher_timing", "widget_figures", "widget_size"]

SIZE_BUDGET_BYTES = 30 * 1024
LAUNCHER_BUDGET_MS = 100.0
_ORIGIN = "http://widget-bench.invalid"
_PAGE = f"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>bench</title></head>
<body><h1>Een pagina</h1><p>{"Tekst van de site. " * 200}</p>
<script src="{_ORIGIN}/widget.js" defer></script></body></html>"""


def _static() -> Path:
    return Path(str(files("botbuilder.web"))) / "static"


def widget_assets() -> list[Path]:
    """Every file a page loads for the widget: widget.js and any stylesheet beside it."""
    static = _static()
    return [static / "widget.js", *sorted(static.glob("*.css"))]


def widget_size() -> dict[str, Any]:
    """Raw and gzipped bytes of the widget's JS and CSS."""
    raw = gz = 0
    for path in widget_assets():
        data = path.read_bytes()
        raw += len(data)
        gz += len(gzip.compress(data, compresslevel=9, mtime=0))
    return {
        "widget_files": [p.name for p in widget_assets()],
        "widget_bytes": raw,
        "widget_gzip_bytes": gz,
        "widget_gzip_budget_bytes": SIZE_BUDGET_BYTES,
        "widget_gzip_within_budget": gz <= SIZE_BUDGET_BYTES,
    }


def launcher_timing(runs: int = 9) -> dict[str, Any]:
    """Milliseconds from the script starting to the launcher in the DOM (median of `runs`)."""
    from playwright.sync_api import sync_playwright

    script = (_static() / "widget.js").read_bytes()

    def serve(route: Any) -> None:
        url = route.request.url
        if url.endswith("/widget.js"):
            route.fulfill(body=script, content_type="application/javascript")
        elif url.endswith("/page.html"):
            route.fulfill(body=_PAGE, content_type="text/html")
        else:  # the widget's settings: not needed for the launcher
            route.fulfill(status=404, json={"ok": False, "error": "bench", "status": 404})

    launcher: list[float] = []
    since_navigation: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context()  # cold: no cache, no storage
                page = context.new_page()
                page.route(f"{_ORIGIN}/**", serve)
                page.goto(f"{_ORIGIN}/page.html")
                page.wait_for_function(
                    "performance.getEntriesByName('botbuilder:launcher', 'measure').length > 0"
                )
                measure, shown = page.evaluate(
                    "[performance.getEntriesByName('botbuilder:launcher', 'measure')[0].duration,"
                    " performance.getEntriesByName('botbuilder:launcher-shown', 'mark')[0].startTime]"
                )
                launcher.append(float(measure))
                since_navigation.append(float(shown))
                context.close()
        finally:
            browser.close()
    median = statistics.median(launcher)
    return {
        "launcher_ms_median": round(median, 2),
        "launcher_ms_max": round(max(launcher), 2),
        "launcher_runs": runs,
        "launcher_budget_ms": LAUNCHER_BUDGET_MS,
        "launcher_within_budget": median <= LAUNCHER_BUDGET_MS,
        "launcher_since_navigation_ms_median": round(statistics.median(since_navigation), 1),
    }


def widget_figures() -> dict[str, Any]:
    """The widget's gzipped size and launcher timing; timing is None without Chromium."""
    figures = widget_size()
    if not Path(CHROMIUM).exists():
        figures["launcher_ms_median"] = None
        figures["launcher_skipped"] = f"chromium not found at {CHROMIUM}"
        return figures
    figures.update(launcher_timing())
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(widget_figures(), indent=2))
