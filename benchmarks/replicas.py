"""How long a save on one replica takes to be answered by another (docs/replicas.md).

Two replicas' flows folders on one SQLite file, in one process: A saves a new
intent through the editor (check, write, publish); B takes the publication in
(`FlowSync.follow_once`: loaded on a scratch copy, written into its folder)
and reloads its runtime. The poll itself adds at most POLL_SECONDS on top. Run on the
150-intent bot when ../shared/bench is there, else on the example bot.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.speed import ROOT, _large_bot
from botbuilder.db.engine import Database
from botbuilder.editing.forms import IntentForm
from botbuilder.editing.history import FlowHistory
from botbuilder.editing.publications import Publications
from botbuilder.editing.publishing import POLL_SECONDS, FlowSync
from botbuilder.editing.service import FlowEditor
from botbuilder.matching.runtime import BotRuntime
from botbuilder.matching.understanding import understand

ROUNDS = 3


def _replica(source: Path, work: Path, database: Database) -> tuple[Path, Path, FlowSync]:
    flows, instance = work / "flows", work / "instance"
    shutil.copytree(source, flows)
    instance.mkdir()
    sync = FlowSync(
        Publications(database), flows, instance, instance / "flows.lock", FlowHistory(database)
    )
    sync.start()
    return flows, instance, sync


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = _large_bot(work / "large")
        label, file = (
            ("150 intents", "intents.yml") if source else ("example bot", "en/contact.yml")
        )
        source = source or ROOT / "flows"
        database = Database(f"sqlite:///{work / 'shared.sqlite'}")
        a_flows, a_instance, a_sync = _replica(source, work / "a", database)
        b_flows, b_instance, b_sync = _replica(source, work / "b", database)
        editor = FlowEditor(a_flows, FlowHistory(database), a_instance / "flows.lock", a_sync)
        runtime = BotRuntime(b_flows, cache_path=b_instance / "embeddings.sqlite")
        saves, takes, reloads, reload_cpu = [], [], [], []
        for n in range(ROUNDS):
            question = f"Where can I leave my bicycle number {n} during the match?"
            form = IntentForm(f"bicycle_{n}", [question, f"bike rack {n}"], "In the basement.")
            editor.parsed(file)  # the editor's page read the file the manager then saves
            started = time.perf_counter()
            editor.save(editor.draft_intent(file, None, form), "bench@example.org")
            saved = time.perf_counter()
            assert b_sync.follow_once()
            taken, cpu = time.perf_counter(), time.thread_time()
            runtime.reload()  # the provisional index: its finish runs in a thread of its own
            reloaded = time.perf_counter()
            reload_cpu.append(time.thread_time() - cpu)
            assert understand(runtime.current().matcher, question).candidates[0].intent == form.id
            saves.append(saved - started)
            takes.append(taken - saved)
            reloads.append(reloaded - taken)
        database.close()
    print(f"replicas ({label}, median of {ROUNDS} saves):")
    print(f"  save on A (check, write, publish): {statistics.median(saves):.2f} s")
    print(f"  B takes the publication in:        {statistics.median(takes):.2f} s")
    print(
        f"  B reloads its bot:                 {statistics.median(reloads):.2f} s "
        f"({statistics.median(reload_cpu):.2f} s CPU)"
    )
    print(
        f"  B answers with it after at most   "
        f"{POLL_SECONDS + statistics.median(takes) + statistics.median(reloads):.2f} s "
        f"(poll {POLL_SECONDS} s + take in + reload)"
    )


if __name__ == "__main__":
    main()
