"""One group of missed questions made into a suggestion: where its questions belong.

`build_suggestion` decides between "add phrasings to the intent the group sits
close to" (`homes`; never an intent the members rejected for these questions)
and "a new intent", named from the group's distinctive words (`naming`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from botbuilder.content.model import Bot
from botbuilder.insights.homes import Homes
from botbuilder.insights.inbox_store import InboxRow
from botbuilder.insights.naming import distinctive_words, proposed_id, proposed_title

__all__ = ["Names", "Suggestion", "build_suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """One group of missed questions and what to do with it."""

    id: str  # stable while its oldest question stays in it: language + that message id
    kind: str  # "new_intent" | "add_phrasings"
    intent: str | None  # existing intent (add_phrasings) or proposed id (new_intent)
    title: str  # proposed title, or the intent's title (its first question)
    language: str
    count: int
    members: int  # distinct conversations: the ranking key
    questions: tuple[str, ...]  # as stored (masked), most typical first
    message_ids: tuple[int, ...]
    state: str  # "new" | "accepted" | "ignored"

    def as_json(self) -> dict[str, Any]:
        """The gap as `botbuilder insights --json` gives it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "intent": self.intent,
            "title": self.title,
            "language": self.language,
            "count": self.count,
            "members": self.members,
            "questions": list(self.questions),
            "state": self.state,
        }


@dataclass
class Names:
    """What naming a new intent needs: the words of all questions, and the ids in use."""

    backgrounds: dict[str, Counter[str]]
    groups: int
    taken: set[str]


def build_suggestion(
    group_id: str,
    rows: list[InboxRow],
    bot: Bot,
    homes: Homes,
    vectors: dict[int, np.ndarray],
    names: Names,
) -> Suggestion:
    """The suggestion of one group (rows most typical first)."""
    language = rows[0].language
    texts = [r.text for r in rows]
    rejected = {r.rejected_intent for r in rows if r.rejected_intent}
    home = None
    if all(r.message_id in vectors for r in rows):
        stacked = np.vstack([vectors[r.message_id] for r in rows])
        home = homes.closest(language, texts, stacked, rejected)
    intent = bot.intent(home[0], language) if home else None
    if intent is not None:
        kind, intent_id = "add_phrasings", intent.id
        title = intent.questions[0] if intent.questions else intent.id
    else:
        words = distinctive_words(texts, names.backgrounds[language], names.groups)
        kind, intent_id = "new_intent", proposed_id(words, names.taken)
        names.taken.add(intent_id)
        title = proposed_title(words) or texts[0]
    return Suggestion(
        id=group_id,
        kind=kind,
        intent=intent_id,
        title=title,
        language=language,
        count=len(rows),
        members=len({r.conversation_id for r in rows}),
        questions=tuple(texts),
        message_ids=tuple(r.message_id for r in rows),
        state=rows[0].state,
    )
