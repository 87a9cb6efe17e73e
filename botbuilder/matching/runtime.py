"""The running bot: flows plus matcher, swapped atomically when the files change.

A server asks `BotRuntime.current()` on every request. When the flow files
changed on disk, the new version is loaded and indexed first; only a bot
that loads without errors replaces the running one, so a broken edit never
takes a working bot down. The last problem is kept for the editor to show.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from botbuilder.content.loader import SETTINGS_FILE, flow_files, load_bot
from botbuilder.content.model import Bot
from botbuilder.errors import FlowError
from botbuilder.matching.batching import Batcher
from botbuilder.matching.encoder import CachedEncoder, Encoder, encoder_for, identity
from botbuilder.matching.index_store import IndexStore
from botbuilder.matching.matcher import Matcher

__all__ = ["BotRuntime", "Loaded", "shared_matcher"]

log = logging.getLogger(__name__)


# Matchers by (bot fingerprint, model): several runtimes of the same flows in
# one process (tests, the CLI) share one index instead of training it again.
_matchers: dict[tuple[str, str], Matcher] = {}
_matchers_lock = threading.Lock()
_MATCHERS_KEPT = 4


def shared_matcher(
    bot: Bot,
    encoder: Encoder,
    *,
    previous: Matcher | None = None,
    store: IndexStore | None = None,
    quick: bool = False,
) -> Matcher:
    """The matcher for this bot content and model, built once per process.

    When the build is provisional (a large bot changed: see Matcher), the
    full build finishes in a background thread; the bot answers meanwhile
    with the provisional index. `quick`: see Matcher (a server's first start).
    """
    key = (bot.fingerprint, identity(encoder))
    with _matchers_lock:
        if key in _matchers:
            return _matchers[key]
    matcher = Matcher(bot, encoder, previous=previous, store=store, quick=quick)
    if matcher.provisional:
        threading.Thread(
            target=_finish, args=(weakref.ref(matcher),), name="finish-index", daemon=True
        ).start()
    with _matchers_lock:
        while len(_matchers) >= _MATCHERS_KEPT:
            _matchers.pop(next(iter(_matchers)))
        _matchers[key] = matcher
    return matcher


# One background build at a time: a manager saving five times in a minute
# must not have five builds fight the server for two cores.
_finishing = threading.Lock()


def _finish(ref: weakref.ref[Matcher]) -> None:
    with _finishing:
        matcher = ref()  # None: replaced and dropped meanwhile, no need to finish it
        if matcher is None:
            return
        try:
            matcher.finish()
        except Exception:  # the provisional index keeps serving; say why in the log
            log.exception("finishing the index of %s failed", matcher.bot.directory)


@dataclass(frozen=True)
class Loaded:
    bot: Bot
    matcher: Matcher


class BotRuntime:
    """Holds the current bot of one flows directory; safe to share between threads."""

    def __init__(
        self,
        flows_dir: str | os.PathLike[str],
        *,
        cache_path: str | os.PathLike[str] | None = None,
        encoder: Encoder | None = None,
        check_interval: float = 1.0,
        batcher: Batcher | None = None,
        quick: bool = False,
    ) -> None:
        """`quick`: a large bot's first index may be provisional, over a few
        phrasings of every intent, finished in the background (see Matcher):
        a server answers in seconds instead of after encoding every example."""
        self.flows_dir = Path(flows_dir)
        # Every question this runtime's bot is asked goes through it (matching/batching.py).
        self.batcher = batcher or Batcher()
        self.cache_path = Path(cache_path) if cache_path else None
        self.index_store = IndexStore(self.cache_path) if self.cache_path else None
        self._encoder = encoder
        self.quick = quick
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None
        self._stamp: tuple[tuple[str, float, int], ...] = ()
        self._checked_at = 0.0
        self.last_error: FlowError | None = None
        self.reload()

    def _encoder_for(self, bot: Bot) -> Encoder:
        if self._encoder is not None:
            return self._encoder
        encoder: Encoder = encoder_for(bot.settings.matcher.model)
        if self.cache_path:
            encoder = CachedEncoder(encoder, self.cache_path)
        return encoder

    def _disk_stamp(self) -> tuple[tuple[str, float, int], ...]:
        paths = [self.flows_dir / SETTINGS_FILE, *flow_files(self.flows_dir)]
        stamp = []
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            stamp.append((str(p), st.st_mtime, st.st_size))
        return tuple(stamp)

    def reload(self) -> Loaded:
        """Load the flows now; raise FlowError (keeping the running bot) if they are broken."""
        with self._lock:
            stamp = self._disk_stamp()
            try:
                bot = load_bot(self.flows_dir)
            except FlowError as exc:
                self.last_error = exc
                self._stamp = stamp  # don't retry the same broken files on every request
                raise
            if self._loaded is None or bot.fingerprint != self._loaded.bot.fingerprint:
                previous = self._loaded.matcher if self._loaded else None
                matcher = shared_matcher(
                    bot,
                    self._encoder_for(bot),
                    previous=previous,
                    store=self.index_store,
                    quick=self.quick,
                )
                matcher.batcher = self.batcher
                self._loaded = Loaded(bot, matcher)
            self._stamp = stamp
            self.last_error = None
            self._checked_at = time.monotonic()
            return self._loaded

    def current(self) -> Loaded:
        """The running bot, reloaded first if its files changed (checked at most once a second)."""
        loaded = self._loaded
        assert loaded is not None  # reload() in __init__ either set it or raised
        if time.monotonic() - self._checked_at < self.check_interval:
            return loaded
        self._checked_at = time.monotonic()
        if self._disk_stamp() != self._stamp:
            try:
                return self.reload()
            except FlowError:
                return loaded
        return loaded
