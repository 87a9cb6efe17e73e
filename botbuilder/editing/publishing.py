"""Flows shared by replicas through the database: every replica serves the newest publication.

The YAML files in a replica's flows folder stay the authoring source. A
*publication* is the whole folder (bot.yml and every flow file) as one
replica saved it, a row of `flow_publications`; its id is the version
counter the replicas compare. See docs/replicas.md for the model in words.

- On start (`FlowSync.start`) a replica publishes its folder when the
  database has nothing newer than what the folder was last in step with;
  otherwise it takes the newest publication into its folder.
- `FlowEditor.save` goes through `shared_save`: a newer publication comes in
  first (EditConflict when it changed a file being saved), and after the
  write the folder is published.
- `FlowSync.follow` asks for the newest id four times a second. A newer
  publication is loaded on a scratch copy first: one that does not load is
  refused, and the replica keeps serving what it has. One that loads is
  written into the folder (atomically, file by file, under the writers' lock)
  and handed to the runtime.
- Hand edits keep working on their own replica (the runtime reloads from
  disk) and reach the others with `botbuilder check --publish`. A hand edit
  that a newer publication replaces is kept in History first.

Where the folder stands is kept in the instance folder (`flows-publication.json`):
the publication it was last in step with, and a hash of each of its files then.
Polling, not LISTEN/NOTIFY: one indexed query per replica four times a second works
on SQLite and PostgreSQL alike, needs no connection held open, and misses
nothing while the database restarts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from botbuilder.content.files import atomic_write, exclusive
from botbuilder.editing.forms import Draft, EditConflict
from botbuilder.editing.history import FlowHistory
from botbuilder.editing.publications import (
    Publication,
    Publications,
    file_hash,
    folder_files,
    problem_of,
    problem_of_files,
    record_hand_edits,
)

__all__ = ["FlowSync", "shared_save"]

log = logging.getLogger(__name__)

# How often a replica asks for the newest publication's id: a quarter of the 2 s
# hand-over at most, for one indexed query (a fraction of a millisecond) each time.
POLL_SECONDS = 0.25
MARKER = "flows-publication.json"  # in the instance folder


@dataclass(frozen=True)
class _Mark:
    publication: int
    hashes: dict[str, str]


class FlowSync:
    """Keeps one replica's flows folder in step with the newest publication."""

    def __init__(
        self,
        publications: Publications,
        flows_dir: str | Path,
        instance: Path,
        lock_path: Path | None = None,
        history: FlowHistory | None = None,
    ) -> None:
        self.publications = publications
        self.root = Path(flows_dir).resolve()
        self.marker_path = instance / MARKER
        self.lock_path = lock_path
        self.history = history
        self.refused: dict[int, str] = {}  # publications that do not load, and why
        self.started = ""  # what `start` did, for the log
        self._stop = threading.Event()
        self._mark = self._read_mark()

    @property
    def applied(self) -> int:
        """The publication this folder was last in step with (0: none known)."""
        return self._mark.publication if self._mark else 0

    def _read_mark(self) -> _Mark | None:
        try:
            data = json.loads(self.marker_path.read_text(encoding="utf-8"))
            if data["flows"] != str(self.root):
                return None  # written for another folder: nothing known about this one
            return _Mark(int(data["publication"]), dict(data["hashes"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _remember(self, publication: int, files: Mapping[str, str]) -> None:
        self._mark = _Mark(publication, {rel: file_hash(c) for rel, c in files.items()})
        body = {"flows": str(self.root), "publication": publication, "hashes": self._mark.hashes}
        atomic_write(self.marker_path, json.dumps(body, indent=1, sort_keys=True))

    # -- on start -------------------------------------------------------------------------

    def start(self) -> str:
        """Put the folder and the database in step before the runtime loads; what it did."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            try:
                self.started = self._start()
            except EditConflict:  # another replica published first (SQLite): follow it
                self.started = self._start()
        except OSError as exc:  # a read-only folder, say: serve it as it is, and say so
            self.started = f"could not write the flows folder, serving it as it is: {exc}"
            log.error("flows: %s", self.started)
        return self.started

    def _start(self) -> str:
        with exclusive(self.lock_path), self.publications.locked():
            disk, latest = folder_files(self.root), self.publications.latest()
            if latest is not None and disk == latest.files:
                self._remember(latest.id, disk)
                return f"the flows folder holds publication {latest.id}, the newest"
            if latest is None or (self._mark is not None and self._mark.publication >= latest.id):
                return self._publish_at_start(disk, latest)
            if self._take(latest, disk):
                return f"took publication {latest.id} from the database into the flows folder"
            return f"kept the flows folder: publication {latest.id} does not load"

    def _publish_at_start(self, disk: dict[str, str], latest: Publication | None) -> str:
        problem = problem_of(self.root)
        if problem is not None:
            return f"the flows folder was not published: {problem}"
        note = "the flows folder of a replica, published on start"
        if latest is not None:  # hand edits made while it was stopped
            record_hand_edits(self.history, disk, note)
        published = self.publications.publish(disk, latest.id if latest else 0, None, note)
        self._remember(published.id, disk)
        return f"published the flows folder as publication {published.id}"

    # -- taking a publication in ------------------------------------------------------------

    def _take(self, publication: Publication, disk: dict[str, str]) -> bool:
        """Write a publication into the folder (the writers' lock held); False if it is refused."""
        if publication.id in self.refused:
            return False
        problem = problem_of_files(publication.files)
        if problem is not None:
            self.refused[publication.id] = problem
            log.error(
                "publication %d of the flows does not load, so this replica keeps serving "
                "what it has: %s",
                publication.id,
                problem,
            )
            return False
        if self._mark is not None:  # unknown folders (a new replica's copy) are not recorded
            edits = {
                rel: content
                for rel, content in disk.items()
                if self._mark.hashes.get(rel) != file_hash(content)
                and publication.files.get(rel) != content
            }
            if edits:
                log.warning(
                    "hand edits to %s on this replica are replaced by publication %d; "
                    "they are kept in History",
                    ", ".join(sorted(edits)),
                    publication.id,
                )
                note = f"hand edit on a replica, replaced by publication {publication.id}"
                record_hand_edits(self.history, edits, note)
        for rel, content in publication.files.items():
            if disk.get(rel) != content:
                atomic_write(self.root / rel, content)
        for rel in disk.keys() - publication.files.keys():
            (self.root / rel).unlink(missing_ok=True)
        self._remember(publication.id, publication.files)
        log.info("serving publication %d of the flows", publication.id)
        return True

    def follow_once(self) -> bool:
        """Take in a newer publication, if there is one; True when the folder changed."""
        newest = self.publications.latest_id()
        # Another id than ours, not only a higher one: a database restored from a backup counts.
        if newest in (0, self.applied) or newest in self.refused:
            return False
        with exclusive(self.lock_path):
            latest = self.publications.latest()
            if latest is None or latest.id == self.applied:
                return False
            disk = folder_files(self.root)
            if disk == latest.files:
                self._remember(latest.id, disk)
                return False
            return self._take(latest, disk)

    def follow(
        self, on_change: Callable[[], object], interval: float = POLL_SECONDS
    ) -> threading.Thread:
        """A daemon thread that takes in newer publications and calls `on_change` after each."""

        def run() -> None:
            failing = False
            while not self._stop.wait(interval):
                try:
                    changed = self.follow_once()
                    failing = False
                except Exception:  # the database is away, say; try again next time
                    if not failing:
                        log.warning("cannot read the published flows; retrying", exc_info=True)
                    failing = True
                    continue
                if changed:
                    try:
                        on_change()
                    except Exception:
                        log.exception("reloading the flows of publication %d failed", self.applied)

        thread = threading.Thread(target=run, name="flow-publications", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    # -- saving ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def saving(self, draft: Draft, author: str) -> Iterator[None]:
        """Around `FlowEditor.save`, its lock held: catch up first, publish after the write."""
        with self.publications.locked():
            latest = self.publications.latest()
            if latest is not None and latest.id != self.applied and latest.id not in self.refused:
                disk = folder_files(self.root)
                if any(disk.get(rel) != latest.files.get(rel) for rel in draft.changes):
                    self._take(latest, disk)
                    raise EditConflict(
                        "someone saved this part of the bot on another server a moment ago; "
                        "their version is here now. Open the page again and redo your change.",
                        None,
                    )
                self._take(latest, disk)
            yield
            files = folder_files(self.root)
            if latest is not None and files == latest.files:
                return
            problem = problem_of(self.root)
            if problem is not None:  # a broken hand edit elsewhere: saved here, not shared
                log.warning("saved on this replica only; the flows do not load: %s", problem)
                return
            note = "; ".join(dict.fromkeys(draft.notes.values())) or "edited"
            published = self.publications.publish(files, latest.id if latest else 0, author, note)
            self._remember(published.id, files)


def shared_save(
    sync: FlowSync | None, draft: Draft, author: str
) -> contextlib.AbstractContextManager[None]:
    """`FlowSync.saving`, or nothing for a folder that no database shares."""
    return sync.saving(draft, author) if sync is not None else contextlib.nullcontext()
