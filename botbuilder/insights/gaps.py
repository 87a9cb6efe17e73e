"""The gap finder: the questions the bot missed, grouped into ready-made suggestions.

Questions enter the inbox (`inbox_store`) when the bot handed them off for
low confidence, asked "Bedoelde je…?" and got no pick, answered and was
marked not helpful, or answered and the member asked for a person next. Per
language they are grouped by meaning (`clustering`); a group of at least
`MIN_GROUP` questions becomes a `Suggestion`: add its questions as phrasings
of the intent it sits close to (`homes`; never the intent members rejected
for them), or a new intent with an id and title from its distinctive words
(`naming`). Suggestions are ranked by how many members (conversations) they
affect; singles and pairs are `loose_questions`.

Cost: a question is encoded once, when it enters (its vector is stored on its
row); the grouping is stored too and redone only for a language that gained
questions since, so a page view after nothing new costs two queries.

    finder = GapFinder(storage, runtime)
    for s in finder.suggestions(language="nl"): ...
    finder.accept(s.id, by="manager@example.org")
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from botbuilder.content.languages import guess_language, normalise
from botbuilder.content.model import Bot
from botbuilder.conversations.store import Conversation, Message
from botbuilder.db.base import aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.db.ids import fits_id
from botbuilder.errors import BadRequest, NotFound
from botbuilder.insights import inbox_store as inbox
from botbuilder.insights.clustering import topic_text
from botbuilder.insights.grouping import MIN_GROUP, REGROUP_WHOLE_UP_TO, attach, grouped
from botbuilder.insights.homes import homes_of
from botbuilder.insights.suggesting import Names, Suggestion, build_suggestion
from botbuilder.matching.encoder import identity
from botbuilder.matching.runtime import BotRuntime

__all__ = ["MIN_GROUP", "GapFinder", "LooseQuestion", "Suggestion"]

# A question asked back ("Bedoelde je…?") with nothing after it counts as
# "no pick" once the member had this long to choose.
SETTLE = timedelta(minutes=10)
# Conversations active this long before the last scan are scanned again: a
# message stored while a scan ran is not missed.
_OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True)
class LooseQuestion:
    """A missed question that no other question resembles (yet)."""

    message_id: int
    conversation_id: str
    language: str
    text: str
    reason: str
    asked_at: datetime


class GapFinder:
    """The learning inbox of one bot over one database; safe to share between threads."""

    def __init__(
        self, database: Database, runtime: BotRuntime, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.database = database
        self.runtime = runtime
        self.clock = clock
        self._lock = threading.Lock()
        self._scanned_at: datetime | None = None
        # What the last reads returned, for the inbox version they saw (see `_cached`).
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_mark: tuple[Any, ...] | None = None

    # -- reading ----------------------------------------------------------------------

    def suggestions(
        self, language: str | None = None, state: str = "new", since: datetime | None = None
    ) -> list[Suggestion]:
        """Groups of at least `MIN_GROUP` questions in `state`, most members first."""
        _check_state(state)

        def compute() -> list[Suggestion]:
            return self._suggest(self._rows(language=language, states=(state,), since=since))

        return list(self._cached(("suggestions", language, state, since), compute))

    def loose_questions(self, language: str | None = None) -> list[LooseQuestion]:
        """New questions in no group of `MIN_GROUP` or more, newest first."""
        return list(self._cached(("loose", language), lambda: self._loose(language)))

    def _loose(self, language: str | None) -> list[LooseQuestion]:
        rows = self._rows(language=language, states=("new",))
        sizes = Counter(r.group_id for r in rows)
        loose = [r for r in rows if not r.group_id or sizes[r.group_id] < MIN_GROUP]
        return [
            LooseQuestion(r.message_id, r.conversation_id, r.language, r.text, r.reason, r.asked_at)
            for r in sorted(loose, key=lambda r: r.message_id, reverse=True)
        ]

    def get(self, suggestion_id: str) -> Suggestion:
        """The suggestion with this id, in whatever state; NotFound if there is none."""
        if not isinstance(suggestion_id, str) or not suggestion_id.isalnum():
            raise NotFound(f"no suggestion '{suggestion_id}'")
        self.refresh()
        rows = self._rows(states=inbox.STATES, group_id=suggestion_id)
        by_state: dict[str, list[inbox.InboxRow]] = defaultdict(list)
        for row in rows:
            by_state[row.state].append(row)
        for state in inbox.STATES:  # new questions that joined after an accept come first
            found = self._suggest(by_state.get(state, []))
            if found:
                return found[0]
        raise NotFound(f"no suggestion '{suggestion_id}'; it may have been regrouped")

    # -- deciding ---------------------------------------------------------------------

    def accept(self, suggestion_id: str, by: str) -> Suggestion:
        """Mark the suggestion's questions accepted: they leave "new" and wait for the bot."""
        suggestion = self.get(suggestion_id)
        self._decide(suggestion.message_ids, "accepted", by)
        return replace(suggestion, state="accepted")

    def ignore(self, suggestion_id: str, by: str) -> None:
        """Mark the suggestion's questions ignored: they never come back."""
        suggestion = self.get(suggestion_id)
        self._decide(suggestion.message_ids, "ignored", by)

    def add_to_inbox(self, message_id: int, by: str) -> None:
        """Put a member's question in the inbox ("no intent yet", from a transcript)."""
        if (
            not isinstance(message_id, int)
            or isinstance(message_id, bool)
            or not fits_id(message_id)
        ):
            raise BadRequest("'message_id' must be the id (a number) of a member's message")
        with self.database.session() as s, s.begin():
            message = s.get(Message, message_id)
            if message is None:
                raise NotFound(f"no message {message_id}")
            if message.role != "member":
                raise BadRequest(f"message {message_id} is not a member's question")
            row = s.get(inbox.GapQuestion, message_id)
            if row is None:
                language = self._language(message.text, message.conversation_id, s)
                s.add(
                    inbox.GapQuestion(
                        message_id=message_id,
                        conversation_id=message.conversation_id,
                        language=language,
                        reason="manual",
                        state="new",
                        typicality=0.0,
                        asked_at=aware_utc(message.created_at),
                    )
                )
            else:  # a manager's explicit word brings even an ignored question back
                row.state, row.group_id = "new", None
            inbox.set_state(s, [message_id], "new", by, self.clock())

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """`compute()`, or what it gave for the same inbox version and bot content.

        A page view with nothing new then costs the scan and one aggregate query."""
        self.refresh()
        with self.database.session() as s:
            mark = (inbox.version(s), self.runtime.current().bot.fingerprint)
        with self._lock:
            if self._cache_mark != mark:
                self._cache, self._cache_mark = {}, mark
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            if self._cache_mark == mark:
                self._cache[key] = value
        return value

    def _decide(self, message_ids: Iterable[int], state: str, by: str) -> None:
        with self.database.session() as s, s.begin():
            inbox.set_state(s, list(message_ids), state, by, self.clock())

    # -- taking questions in ------------------------------------------------------------

    def refresh(self) -> None:
        """Take in the questions missed since the last look, and regroup what changed."""
        with self._lock:
            started = utcnow()  # the clock messages are stamped with, whatever self.clock says
            with self.database.session() as s, s.begin():
                found = inbox.scan(s, self._scan_since(s), self.clock() - SETTLE)
                languages = self.runtime.current().bot.languages
                for f in found:
                    s.add(
                        inbox.GapQuestion(
                            message_id=f.message_id,
                            conversation_id=f.conversation_id,
                            language=guess_language(f.text, languages) or f.conversation_language,
                            reason=f.reason,
                            rejected_intent=f.rejected_intent,
                            state="new",
                            typicality=0.0,
                            asked_at=f.asked_at,
                        )
                    )
            self._scanned_at = started
            self._regroup()

    def _scan_since(self, session: Any) -> datetime | None:
        """Conversations active since when to look at again (None: all).

        Again those of the last `SETTLE`: a question asked back then may have
        been left without a pick since. After a restart, from a day before the
        newest question in the inbox: later feedback is found by its own time."""
        if self._scanned_at is not None:
            return self._scanned_at - SETTLE - _OVERLAP
        newest = inbox.last_asked(session)
        return newest - timedelta(days=1) if newest is not None else None

    def _language(self, text: str, conversation_id: str, session: Any) -> str:
        bot = self.runtime.current().bot
        conversation = session.get(Conversation, conversation_id)
        fallback = conversation.language if conversation else bot.settings.language
        return guess_language(text, bot.languages) or fallback

    def _regroup(self) -> None:
        """Group again each language with new questions not grouped yet.

        A small inbox is grouped whole each time. A large one that gained a
        few questions keeps its groups: the new questions join the group they
        are closest to on average (the rule average linkage cuts by), and the
        rest are grouped with the recent loose questions (`attach`)."""
        with self.database.session() as s:
            pending = {
                language
                for (language,) in s.execute(
                    select(inbox.GapQuestion.language)
                    .where(inbox.GapQuestion.state == "new", inbox.GapQuestion.group_id.is_(None))
                    .distinct()
                )
            }
        for language in sorted(pending):
            with self.database.session() as s:
                every = inbox.load_rows(s, language=language, states=("new",))
            known = _phrasings(self.runtime.current().bot)
            rows = [r for r in every if normalise(r.text) not in known]
            # A question the bot has as a phrasing is out of the groups, and no
            # longer waiting for one: else every look would regroup for it.
            groups: dict[int, tuple[str, float]] = {
                r.message_id: ("", 0.0) for r in every if normalise(r.text) in known
            }
            vectors = self._vectors(rows)
            fresh = sum(r.group_id is None for r in rows)
            if len(rows) > REGROUP_WHOLE_UP_TO and fresh * 10 <= len(rows):
                groups.update(attach(rows, vectors, language, self.clock()))
            else:
                groups.update(grouped(rows, vectors, language))
            with self.database.session() as s, s.begin():
                inbox.save_groups(s, groups)

    def _vectors(self, rows: list[inbox.InboxRow]) -> np.ndarray:
        """The rows' vectors of their topic text, encoding (and storing) the missing ones."""
        encoder = self.runtime.current().matcher.query_encoder
        model = identity(encoder)
        ids = [r.message_id for r in rows]
        with self.database.session() as s:
            stored = inbox.vectors_of(s, ids, model)
        missing = [r for r in rows if r.message_id not in stored]
        if missing:
            fresh = encoder.encode([topic_text(r.text) for r in missing])
            new = {r.message_id: v for r, v in zip(missing, fresh, strict=True)}
            with self.database.session() as s, s.begin():
                inbox.save_vectors(s, new, model)
            stored.update(new)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([stored[i] for i in ids]).astype(np.float32)

    # -- suggestions ------------------------------------------------------------------

    def _rows(self, **filters: Any) -> list[inbox.InboxRow]:
        """Inbox rows, without the questions the loaded bot now has as phrasings."""
        with self.database.session() as s:
            rows = inbox.load_rows(s, **filters)
        known = _phrasings(self.runtime.current().bot)
        return [r for r in rows if normalise(r.text) not in known]

    def _suggest(self, rows: list[inbox.InboxRow]) -> list[Suggestion]:
        loaded = self.runtime.current()
        # The examples through the matcher's cached encoder: encoded once per text.
        homes = homes_of(loaded.bot, loaded.matcher.encoder)
        groups: dict[str, list[inbox.InboxRow]] = defaultdict(list)
        for row in rows:
            if row.group_id:
                groups[row.group_id].append(row)
        backgrounds: dict[str, Counter[str]] = defaultdict(Counter)
        for row in rows:
            backgrounds[row.language].update(normalise(topic_text(row.text)).split())
        groups = {g: m for g, m in groups.items() if len(m) >= MIN_GROUP}
        with self.database.session() as s:
            vectors = inbox.vectors_of(
                s,
                [r.message_id for m in groups.values() for r in m],
                identity(loaded.matcher.query_encoder),
            )
        names = Names(backgrounds, len(groups), set(loaded.bot.intent_ids()))
        found = []
        for group_id, members in groups.items():
            members.sort(key=lambda r: (-r.typicality, r.message_id))
            found.append(build_suggestion(group_id, members, loaded.bot, homes, vectors, names))
        return sorted(found, key=lambda g: (-g.members, -g.count, g.id))


_known: dict[str, frozenset[str]] = {}


def _phrasings(bot: Bot) -> frozenset[str]:
    """The normalised example questions of every intent of `bot` (cached per content)."""
    if bot.fingerprint not in _known:
        if len(_known) > 8:
            _known.clear()
        _known[bot.fingerprint] = frozenset(
            normalise(q) for intent in bot.intents.values() for q in intent.questions
        )
    return _known[bot.fingerprint]


def _check_state(state: str) -> None:
    if state not in inbox.STATES:
        raise BadRequest(f"unknown state '{state}'; one of {', '.join(inbox.STATES)}")
