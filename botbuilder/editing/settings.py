"""The settings form and where each of its fields lives in bot.yml.

The same round-trip care as for intents: only settings that changed are
written, a text given in one language stays a plain string until a second
language is added, and a threshold left at "auto" is not written at all.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from botbuilder.editing.forms import SettingsForm
from botbuilder.editing.round_trip import load_round_trip, scalar_like

__all__ = ["SETTINGS_KEYS", "apply_settings", "settings_field", "settings_form"]

# Where each settings field lives in bot.yml.
SETTINGS_KEYS: dict[str, tuple[str, ...]] = {
    "greeting": ("greeting",),
    "offline_message": ("handoff", "offline_message"),
    "welcome": ("widget", "welcome"),
    "answer_threshold": ("matcher", "answer_threshold"),
    "clarify_threshold": ("matcher", "clarify_threshold"),
    "widget_title": ("widget", "title"),
    "widget_color": ("widget", "color"),
}
_TEXTS = ("greeting", "offline_message", "welcome")


def settings_form(data: CommentedMap, default: str) -> SettingsForm:
    """The settings form for bot.yml's content; `default` names a text given as a plain string."""

    def texts(value: Any) -> dict[str, str]:
        if isinstance(value, dict):
            return {str(k): str(v or "").strip() for k, v in value.items()}
        return {default: str(value).strip()} if value else {}

    form = SettingsForm()
    for name, path in SETTINGS_KEYS.items():
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if name in _TEXTS:
            setattr(form, name, texts(node))
        elif name.endswith("threshold"):
            setattr(form, name, "auto" if node is None else str(node))
        else:
            if isinstance(node, dict):  # a title per language: the form edits the default one
                node = node.get(default)
            setattr(form, name, "" if node is None else str(node))
    return form


def apply_settings(
    data: CommentedMap, current: SettingsForm, form: SettingsForm, default: str
) -> None:
    """Write the fields of `form` that differ from `current` into bot.yml's content."""
    for name, path in SETTINGS_KEYS.items():
        old, new = getattr(current, name), getattr(form, name)
        if old == new:
            continue
        parent = data
        for key in path[:-1]:
            if not isinstance(parent.get(key), CommentedMap):
                parent[key] = CommentedMap()
            parent = parent[key]
        key = path[-1]
        if isinstance(new, dict):
            _apply_texts(parent, key, new, default)
            continue
        if isinstance(parent.get(key), CommentedMap):  # per language: keep the others
            _apply_texts(parent, key, {**parent[key], default: new}, default)
            continue
        value = _number(new) if name.endswith("threshold") else new.strip()
        if value == "" or (name.endswith("threshold") and value == "auto" and key not in parent):
            parent.pop(key, None)
        else:
            parent[key] = value


def _apply_texts(parent: CommentedMap, key: str, new: dict[str, str], default: str) -> None:
    """A text per language; one in the default language only stays a plain string."""
    texts = {lang: text.strip() for lang, text in new.items() if text.strip()}
    old = parent.get(key)
    if isinstance(old, CommentedMap):  # per language already: change only what changed
        for lang in list(old):
            if lang not in texts:
                del old[lang]
        for lang, text in texts.items():
            if old.get(lang) != text:
                old[lang] = scalar_like(old.get(lang), text)
    elif not set(texts) <= {default}:
        parent[key] = CommentedMap(texts)
    elif texts:
        parent[key] = texts[default]
    else:
        parent.pop(key, None)


def _number(text: str) -> Any:
    text = text.strip()
    if text in ("", "auto"):
        return "auto"
    try:
        return float(text)
    except ValueError:
        return text  # the loader explains what is expected


def settings_field(text: str, line: int) -> str | None:
    """The settings field whose key (or one of whose language texts) is on `line` (0-based)."""
    try:
        data = load_round_trip(text)[1]
    except YAMLError:
        return None
    for name, path in SETTINGS_KEYS.items():
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, CommentedMap) else None
        if not isinstance(node, CommentedMap) or path[-1] not in node:
            continue
        lines = {node.lc.key(path[-1])[0]}
        value = node[path[-1]]
        if isinstance(value, CommentedMap):
            lines.update(value.lc.key(k)[0] for k in value)
        if line in lines:
            return name
    return None
