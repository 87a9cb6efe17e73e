"""One group of missed questions made into a suggestion: where its questions belong.

`build_suggestion` decides between "add phrasings to the intent the group sits
close to" (`homes`; never an intent the members rejected for these questions)
and "a new intent", named from the group's distinctive words (`naming`).

`Suggester` makes the suggestions of a whole inbox and remembers each group's
kind, intent and title by its questions (and the bot's content and encoder):
after a few new questions only the groups they joined are compared with the
bot's examples and named again, the others keep their names. That also keeps
a proposed name steady while the rest of the inbox changes around it.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from botbuilder.content.languages import normalise
from botbuilder.content.model import Bot
from botbuilder.insights.clustering import topic_text
from botbuilder.insights.grouping import MIN_GROUP
from botbuilder.insights.homes import Homes
from botbuilder.insights.inbox_store import InboxRow
from botbuilder.insights.naming import distinctive_words, proposed_id, proposed_title

__all__ = ["Names", "Suggester", "Suggestion", "build_suggestion"]


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
    return _suggestion(group_id, rows, kind, intent_id, title)


Vectors = Callable[[list[int]], dict[int, np.ndarray]]  # message ids -> stored vectors
_NAMES_KEPT = 20_000  # groups whose name is remembered
_WORDS_KEPT = 200_000  # questions whose topic words are remembered


class Suggester:
    """The suggestions of an inbox's rows; remembers each group's name by its questions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._named: OrderedDict[tuple[Any, ...], tuple[str, str | None, str]] = OrderedDict()
        self._words: dict[int, tuple[str, ...]] = {}
        self.named = 0  # groups named (not taken from memory) so far: for tests and benchmarks

    def forget(self) -> None:
        """Drop every remembered name and word (questions have left the inbox)."""
        with self._lock:
            self._named.clear()
            self._words.clear()

    def suggest(
        self, rows: Sequence[InboxRow], bot: Bot, homes: Homes, vectors: Vectors, model: str
    ) -> list[Suggestion]:
        """A suggestion per group of at least `MIN_GROUP` rows, most members first."""
        groups: dict[str, list[InboxRow]] = defaultdict(list)
        for row in rows:
            if row.group_id:
                groups[row.group_id].append(row)
        groups = {g: m for g, m in groups.items() if len(m) >= MIN_GROUP}
        made: list[Suggestion] = []
        todo: list[tuple[tuple[Any, ...], str, list[InboxRow]]] = []
        for group_id, members in groups.items():
            members.sort(key=lambda r: (-r.typicality, r.message_id))
            key = (bot.fingerprint, model, group_id, tuple(sorted(r.message_id for r in members)))
            with self._lock:
                name = self._named.get(key)
                if name is not None:
                    self._named.move_to_end(key)
            if name is None:
                todo.append((key, group_id, members))
            else:
                made.append(_suggestion(group_id, members, *name))
        if todo:
            taken = set(bot.intent_ids()) | {s.intent for s in made if s.intent}
            names = Names(self._backgrounds(rows), len(groups), taken)
            stored = vectors([r.message_id for _, _, members in todo for r in members])
            for key, group_id, members in todo:
                found = build_suggestion(group_id, members, bot, homes, stored, names)
                made.append(found)
                with self._lock:
                    self.named += 1
                    self._named[key] = (found.kind, found.intent, found.title)
                    while len(self._named) > _NAMES_KEPT:
                        self._named.popitem(last=False)
        return sorted(made, key=lambda g: (-g.members, -g.count, g.id))

    def _backgrounds(self, rows: Sequence[InboxRow]) -> dict[str, Counter[str]]:
        """Per language, the word counts of all these questions (naming's background)."""
        backgrounds: dict[str, Counter[str]] = defaultdict(Counter)
        with self._lock:
            if len(self._words) > _WORDS_KEPT:
                self._words.clear()
            for row in rows:
                words = self._words.get(row.message_id)
                if words is None:
                    words = self._words[row.message_id] = tuple(
                        normalise(topic_text(row.text)).split()
                    )
                backgrounds[row.language].update(words)
        return backgrounds


def _suggestion(
    group_id: str, rows: list[InboxRow], kind: str, intent: str | None, title: str
) -> Suggestion:
    """A suggestion with a remembered kind, intent and title (rows most typical first)."""
    return Suggestion(
        id=group_id,
        kind=kind,
        intent=intent,
        title=title,
        language=rows[0].language,
        count=len(rows),
        members=len({r.conversation_id for r in rows}),
        questions=tuple(r.text for r in rows),
        message_ids=tuple(r.message_id for r in rows),
        state=rows[0].state,
    )
