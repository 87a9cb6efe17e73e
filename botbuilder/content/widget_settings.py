"""bot.yml `widget:`: how the chat widget looks and where it may run, checked like the rest.

Texts a member reads (`title`, `welcome`) may be given once or per language,
like the greeting, so an English member gets an English title.
"""

from __future__ import annotations

import re

from ruamel.yaml.comments import CommentedMap

from botbuilder.content.model import WidgetSettings
from botbuilder.content.yaml_source import SourceFile, per_language
from botbuilder.errors import N_, Message, Phrase

__all__ = ["WIDGET_KEYS", "read_widget"]

WIDGET_KEYS = (
    "title",
    "color",
    "allowed_origins",
    "position",
    "logo",
    "welcome",
    "privacy_url",
)
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_ORIGIN = re.compile(r"^https?://[^/\s]+$|^\*$")


def read_widget(f: SourceFile, data: CommentedMap, language: str) -> WidgetSettings:
    """bot.yml `widget:`, defaults for what it leaves out."""
    widget = WidgetSettings()
    if not isinstance(data.get("widget"), CommentedMap):
        return widget
    w = data["widget"]
    f.check_keys(w, WIDGET_KEYS, Phrase(N_("widget settings")))
    color = f.string(w, "color", "widget") or widget.color
    if not _COLOR.match(color):
        not_hex = N_("color '%(color)s' must be a hex colour like \"#0b6e4f\"")
        f.error(f.value_pos(w, "color"), Message(not_hex, color=color))
    origins = _origins(f, w)
    position = f.string(w, "position", "widget") or "right"
    if position not in ("left", "right"):
        left_or_right = N_("widget position must be 'left' or 'right'")
        f.error(f.value_pos(w, "position"), Message(left_or_right))
    titles = per_language(f, w, "title", language)
    privacy_url = f.string(w, "privacy_url", "widget")
    if privacy_url and not privacy_url.lower().startswith(("https://", "http://")):
        not_a_url = N_(
            "privacy_url '%(url)s' must be an http(s) URL, e.g. https://example.org/privacy"
        )
        f.error(f.value_pos(w, "privacy_url"), Message(not_a_url, url=privacy_url))
        privacy_url = None
    return WidgetSettings(
        # The main language's title, else the first one given.
        title=titles.get(language) or next(iter(titles.values()), widget.title),
        color=color,
        allowed_origins=origins,
        position=position,
        logo=f.string(w, "logo", "widget"),
        welcome=per_language(f, w, "welcome", language),
        titles=titles,
        privacy_url=privacy_url,
    )


def _origins(f: SourceFile, widget: CommentedMap) -> tuple[str, ...]:
    """The web origins allowed to embed the widget, without a trailing slash."""
    raw_origins = widget.get("allowed_origins") or []
    if not isinstance(raw_origins, list):
        not_a_list = N_("'allowed_origins' must be a list of origins")
        f.error(f.value_pos(widget, "allowed_origins"), Message(not_a_list))
        return ()
    origins: list[str] = []
    for i, origin in enumerate(raw_origins):
        text = str(origin).rstrip("/")
        if not _ORIGIN.match(text):
            not_an_origin = N_(
                "'%(origin)s' is not an origin; write scheme and host, e.g. https://example.org"
            )
            f.error(f.pos_of(raw_origins, i), Message(not_an_origin, origin=origin))
        else:
            origins.append(text)
    return tuple(origins)
