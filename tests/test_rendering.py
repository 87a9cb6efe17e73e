"""Answers' Markdown becomes HTML that can never run script."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from botbuilder.content.rendering import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klik](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '"><style>body{display:none}</style>',
]


def test_supported_markdown_subset_renders() -> None:
    html = render_markdown("Zeg op via **Mijn account**, *snel*.\n\n- een\n- twee\n\n1. a\n2. b")
    assert "<strong>Mijn account</strong>" in html and "<em>snel</em>" in html
    assert "<ul>\n<li>een</li>" in html and "<ol>" in html


def test_links_open_in_a_new_tab_without_opener() -> None:
    html = render_markdown("[Agenda](https://example.org/agenda)")
    assert html == (
        '<p><a href="https://example.org/agenda" target="_blank" '
        'rel="noopener noreferrer nofollow">Agenda</a></p>'
    )


class _Elements(HTMLParser):
    """Collects the real elements and attributes of an HTML fragment (escaped text is not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_never_survives(payload: str) -> None:
    parser = _Elements()
    parser.feed(render_markdown(payload))
    for tag, attrs in parser.elements:
        assert tag in {"p", "br", "strong", "em", "a", "ul", "ol", "li", "code"}
        for name, value in attrs:
            assert not name.startswith("on")
            if name == "href":
                assert (value or "").startswith(("https:", "http:", "mailto:", "tel:"))
