"""Answers' Markdown to HTML that is safe to insert into any page.

Two layers, so one mistake is not enough for a script to run: markdown-it
with raw HTML switched off, then the nh3 (Ammonia) sanitizer with a short
allow-list of tags, attributes and URL schemes.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

__all__ = ["render_markdown", "sanitize_html"]

_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "code"}
_ATTRIBUTES = {"a": {"href", "title"}}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "zero" enables nothing; we switch on just the subset docs/flow-format.md promises.
    md = MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True, "typographer": False})
    md.enable(["emphasis", "link", "list", "newline", "backticks", "escape", "autolink"])
    return md


def sanitize_html(html: str) -> str:
    """Keep only harmless tags; links open in a new tab without access to the opener."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    ).strip()


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Markdown subset (bold, italics, links, lists) to sanitized HTML."""
    return sanitize_html(_parser().render(text))
