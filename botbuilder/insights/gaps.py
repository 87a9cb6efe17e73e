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
questions since, so a page view after nothing new costs two queries. Between
looks the finder keeps each question's vector and n-grams (`row_cache`) and
each group's name (`suggesting.Suggester`), so after a few new questions only
those are read and only the groups they joined are named again.

With `read_per_look` (the server's finder) a look encodes at most that many
unread questions, newest first, and leaves the rest to a thread of its own
(`read_behind`), which groups the language once it has read them all: the
first look at a large old inbox shows the groups of what is read so far and
`unread()` says how many are still to read, instead of encoding them all
while the page waits. Without it (the command, the digest) a look reads all.

    finder = GapFinder(storage, runtime)
    for s in finder.suggestions(language="nl"): ...
    finder.accept(s.id, by="manager@example.org")
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from botbuilder.content.languages import guess_language, normalise
from botbuilder.conversations.store import Conversation, Message
from botbuilder.db.base import aware_utc, utcnow
from botbuilder.db.engine import Database
from botbuilder.db.ids import fits_id
from botbuilder.errors import N_, BadRequest, NotFound
from botbuilder.insights import inbox_scan
from botbuilder.insights import inbox_store as inbox
from botbuilder.insights.clustering import topic_text
from botbuilder.insights.grouping import MIN_GROUP
from botbuilder.insights.homes import homes_of
from botbuilder.insights.regrouping import Regrouper, phrasings
from botbuilder.insights.suggesting import Suggester, Suggestion
from botbuilder.matching.encoder import identity
from botbuilder.matching.runtime import BotRuntime

__all__ = ["MIN_GROUP", "READ_PER_LOOK", "GapFinder", "LooseQuestion", "Suggestion"]

log = logging.getLogger(__name__)

# A question asked back ("Bedoelde je…?") with nothing after it counts as
# "no pick" once the member had this long to choose.
SETTLE = timedelta(minutes=10)
# Conversations active this long before the last scan are scanned again: a
# message stored while a scan ran is not missed.
_OVERLAP = timedelta(minutes=2)
# The server's finder encodes at most this many unread questions while a page
# waits; its reader does the rest. multilingual-e5-small costs about 16 ms of
# CPU a question (64, sized for MiniLM, were a second of the first look).
READ_PER_LOOK = 32
_READ_BATCH = 256  # questions the reader takes from the database at a time
# Questions encoded in one call. Few: the encoder serves one call at a time, so
# a member's question or a page waits behind at most these (256 at once held
# it for 5 s of e5 on a busy machine).
_ENCODE_AT_ONCE = 16


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
        self,
        database: Database,
        runtime: BotRuntime,
        clock: Callable[[], datetime] = utcnow,
        read_per_look: int | None = None,
        read_behind: bool = True,
    ) -> None:
        self.database = database
        self.runtime = runtime
        self.clock = clock
        self.read_per_look = read_per_look  # None: a look reads every unread question
        self.read_behind = read_behind  # with read_per_look: a thread reads the rest
        self._lock = threading.Lock()
        self._scanned_at: datetime | None = None
        # What the last reads returned, for the inbox version they saw (see `_cached`).
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_mark: tuple[Any, ...] | None = None
        self._cache_lock = threading.Lock()  # for the cache, never held while computing
        self._grouper = Regrouper(database, runtime, clock)
        self._suggester = Suggester()
        self._reader: threading.Thread | None = None
        self._left = False  # the last look left unread questions for the reader

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
        rows = self._rows(language=language, states=("new",), grouped=True)
        sizes = Counter(r.group_id for r in rows)
        # group_id None: not read yet (see `unread`), so not known to be loose
        loose = [
            r for r in rows if r.group_id == "" or (r.group_id and sizes[r.group_id] < MIN_GROUP)
        ]
        return [
            LooseQuestion(r.message_id, r.conversation_id, r.language, r.text, r.reason, r.asked_at)
            for r in sorted(loose, key=lambda r: r.message_id, reverse=True)
        ]

    def get(self, suggestion_id: str) -> Suggestion:
        """The suggestion with this id, in whatever state; NotFound if there is none."""
        if not isinstance(suggestion_id, str) or not suggestion_id.isalnum():
            raise NotFound(N_("no suggestion '%(suggestion)s'"), suggestion=suggestion_id)
        self.refresh()
        rows = self._rows(states=inbox.STATES, group_id=suggestion_id)
        by_state: dict[str, list[inbox.InboxRow]] = defaultdict(list)
        for row in rows:
            by_state[row.state].append(row)
        for state in inbox.STATES:  # new questions that joined after an accept come first
            found = self._suggest(by_state.get(state, []))
            if found:
                return found[0]
        regrouped = N_("no suggestion '%(suggestion)s'; it may have been regrouped")
        raise NotFound(regrouped, suggestion=suggestion_id)

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
        try:
            return self._cached_after_refresh(key, compute)
        finally:
            self._read_rest_behind()

    def _cached_after_refresh(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        self._refresh()
        with self.database.session() as s:
            mark = (inbox.version(s), self.runtime.current().bot.fingerprint)
        with self._cache_lock:
            if self._cache_mark != mark:
                if self._cache_mark is not None and mark[0][0] < self._cache_mark[0][0]:
                    # Questions left the inbox (a member's data deleted, the purge):
                    # forget what was kept of them, names included.
                    self._suggester.forget()
                    self._grouper.forget()
                self._cache, self._cache_mark = {}, mark
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            if self._cache_mark == mark:
                self._cache[key] = value
        return value

    def _decide(self, message_ids: Iterable[int], state: str, by: str) -> None:
        with self.database.session() as s, s.begin():
            inbox.set_state(s, list(message_ids), state, by, self.clock())

    # -- taking questions in ------------------------------------------------------------

    def refresh(self) -> None:
        """Take in the questions missed since the last look, read them and regroup.

        With `read_per_look` a look never waits for another look or the reader:
        while either holds the finder, it shows the groups stored so far."""
        self._refresh()
        self._read_rest_behind()

    def _refresh(self) -> None:
        """`refresh` without starting the reader: a look starts it once it has shown
        what it read, so the page's own work never waits for the reader's."""
        if not self._lock.acquire(blocking=self.read_per_look is None):
            return
        try:
            self._take_in()
            if self._reading():
                return  # the reader encodes the rest, then groups; pages show what is stored
            self._left = self._read(self.read_per_look) > 0
            self._grouper.regroup()
        finally:
            self._lock.release()

    def _read_rest_behind(self) -> None:
        """Start the reader if the last look left questions unread (and none runs)."""
        if not (self.read_behind and self._left) or not self._lock.acquire(blocking=False):
            return
        try:
            if self._left and not self._reading():
                self._left = False
                self._reader = threading.Thread(
                    target=self._read_behind, name="gap-reader", daemon=True
                )
                self._reader.start()
        finally:
            self._lock.release()

    def unread(self, language: str | None = None) -> int:
        """New questions not read (encoded) yet: in no group and not loose until they are."""
        model = identity(self.runtime.current().matcher.query_encoder)
        with self.database.session() as s:
            return inbox.count_unread(s, model, language)

    def forget(self) -> None:
        """Drop what is kept between looks (vectors, n-grams, names, the last results)."""
        self._suggester.forget()
        self._grouper.forget()
        with self._cache_lock:
            self._cache, self._cache_mark = {}, None

    @property
    def groups_named(self) -> int:
        """How many groups were named so far (not taken from memory): for tests and benchmarks."""
        return self._suggester.named

    def wait_reading(self, timeout: float | None = None) -> bool:
        """Wait for the reader (if one runs); whether it is done."""
        reader = self._reader
        if reader is not None:
            reader.join(timeout)
        return not self._reading()

    def _reading(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def _read_behind(self) -> None:
        """The reader: encode the unread questions a batch at a time, then group them."""
        try:
            while self._read(_READ_BATCH):
                pass
            with self._lock:
                self._grouper.regroup()
        except Exception:  # a thread of its own: say so, the next look starts another
            log.exception("reading the gap inbox failed")

    def _take_in(self) -> None:
        started = utcnow()  # the clock messages are stamped with, whatever self.clock says
        with self.database.session() as s, s.begin():
            found = inbox_scan.scan(s, self._scan_since(s), self.clock() - SETTLE)
            inbox_scan.add_found(s, found, self._language_of(self.runtime.current().bot.languages))
        self._scanned_at = started

    @staticmethod
    def _language_of(languages: tuple[str, ...]) -> Callable[[inbox_scan.Found], str]:
        """A found question's language: the one it is written in, else its conversation's."""
        if len(languages) == 1:  # the guess could only confirm the one or say nothing
            only = languages[0]
            return lambda f: (
                only
                if f.conversation_language == only
                else guess_language(f.text, languages) or f.conversation_language
            )
        return lambda f: guess_language(f.text, languages) or f.conversation_language

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

    def _read(self, limit: int | None) -> int:
        """Encode (and store) up to `limit` unread questions, newest first (None: all);
        how many are left unread."""
        encoder = self.runtime.current().matcher.query_encoder
        model = identity(encoder)
        with self.database.session() as s:
            todo = inbox.unread(s, model, limit)
        if todo:
            texts = [topic_text(text) for _, text in todo]
            vectors = [
                vector
                for start in range(0, len(texts), _ENCODE_AT_ONCE)
                for vector in encoder.encode(texts[start : start + _ENCODE_AT_ONCE])
            ]
            with self.database.session() as s, s.begin():
                new = {m: v for (m, _), v in zip(todo, vectors, strict=True)}
                inbox.save_vectors(s, new, model)
        if limit is None or len(todo) < limit:
            return 0
        with self.database.session() as s:
            return inbox.count_unread(s, model)

    # -- suggestions ------------------------------------------------------------------

    def _rows(self, **filters: Any) -> list[inbox.InboxRow]:
        """Inbox rows, without the questions the loaded bot now has as phrasings."""
        with self.database.session() as s:
            rows = inbox.load_rows(s, **filters)
        known = phrasings(self.runtime.current().bot)
        return [r for r in rows if normalise(r.text) not in known]

    def _suggest(self, rows: list[inbox.InboxRow]) -> list[Suggestion]:
        loaded = self.runtime.current()
        # The examples through the matcher's cached encoder: encoded once per text.
        homes = homes_of(loaded.bot, loaded.matcher.encoder)
        model = identity(loaded.matcher.query_encoder)
        cache, read = self._grouper.row_cache(model)
        return self._suggester.suggest(
            rows, loaded.bot, homes, lambda ids: cache.vectors(ids, read), model
        )


def _check_state(state: str) -> None:
    if state not in inbox.STATES:
        raise BadRequest(f"unknown state '{state}'; one of {', '.join(inbox.STATES)}")
