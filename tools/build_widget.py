"""Build web/static/widget.js, the one file a site loads, from its sources in web/widget/.

The widget is one script tag on someone else's site, so it ships as one file
with one scope (an IIFE). Reading and changing it is easier in parts, so the
parts live in web/widget/ and this script joins them, in a fixed order, into
that one function: names declared in one part are seen by the others. No Node
and no bundler: running the product needs neither, and the built file is
committed, so `make serve` and a pip install work without building.

    python tools/build_widget.py          # write web/static/widget.js
    python tools/build_widget.py --check  # exit 1 if it differs from the sources

tests/test_widget_sources.py fails when the committed file is not the build of
the sources, so an edit to one is not forgotten in the other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "web" / "widget"
OUTPUT = ROOT / "web" / "static" / "widget.js"

HEADER = "header.js"  # the widget's description, above the function
# In this order: the texts and the style are plain data; the transport needs
# nothing from the others; the view uses all three; the notices use the view;
# main starts it all.
PARTS = ("texts.js", "style.js", "transport.js", "view.js", "notices.js", "main.js")


def _indent(text: str) -> str:
    return "".join("  " + line if line.strip() else line for line in text.splitlines(keepends=True))


def build(sources: Path = SOURCES) -> str:
    """The text of widget.js: the header, then every part inside one strict-mode function."""
    parts = [_indent((sources / name).read_text(encoding="utf-8")) for name in PARTS]
    return (
        f"// Built by tools/build_widget.py from web/widget/ ({', '.join(PARTS)}):"
        " edit those, then run `make widget`.\n"
        + (sources / HEADER).read_text(encoding="utf-8")
        + '(function () {\n  "use strict";\n\n'
        + "\n".join(parts)
        + "})();\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if widget.js is stale"
    )
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is not the build of web/widget/: run `make widget`")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
