"""The one shape every outside format is read into and written from: `Entry`.

Every format (Rasa, spreadsheets, QnA Maker TSV) reads into and writes from
the same plain `Entry` list, so a format never touches flow files: a bot's
intents become entries here (`bot_entries`), and entries become flow files
through the editor (`botbuilder.editing.importing`), checked and saved like
any other change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from botbuilder.content.model import Bot

__all__ = ["Entry", "bot_entries", "slug"]


@dataclass
class Entry:
    """One intent in one language, as formats exchange it; no questions = context_only."""

    intent: str
    language: str
    questions: list[str] = field(default_factory=list)
    answer: str = ""


def slug(text: str, taken: set[str] | None = None, limit: int = 40) -> str:
    """An intent id from free text: "Hoe zeg ik op?" -> "hoe_zeg_ik_op"; unique within `taken`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:limit].rstrip("_") or "intent"
    candidate, n = base, 2
    while taken is not None and candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    if taken is not None:
        taken.add(candidate)
    return candidate


def bot_entries(bot: Bot, language: str | None = None) -> list[Entry]:
    """The bot's intents as entries, in a stable order; one language or all."""
    return [
        Entry(i.id, i.language, list(i.questions), i.answer)
        for (lang, _), i in sorted(bot.intents.items())
        if language is None or lang == language
    ]
