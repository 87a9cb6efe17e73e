"""`python -m benchmarks` (its last part): the gap finder on 10,000 open questions.

The questions are the English member questions of ../shared/bench (banking77,
hwu64 and xsid-en test questions and example phrasings, read in place, never
copied), with a light rewording of each ("hi, …", no punctuation) until
there are 10,000: paraphrase-like, as an inbox is. Each goes into a
generated database as one member's low-confidence handoff (SQL inserts, not
the API: the API's own speed is measured elsewhere), for the HWU64 bot.

Reported, for the server's finder (`READ_PER_LOOK`): the inbox's first look
at questions never read (it reads a batch; a thread reads, encodes and groups
the rest), how long that reader takes, a look with nothing new (the stored
groups: the inbox page's cost), and looks after 20 new questions (joining the
stored groups), side by side with the finder keeping vectors, n-grams and
group names between looks and with nothing kept (`GapFinder.forget`, what
every look cost before); then the clustering alone at 1,000, 4,000 and
10,000 questions: agglomerative (exact, and within k-means parts as above
`EXACT_UP_TO`) and HDBSCAN, with purity and coverage against the sets'
intent labels. Times are medians of several looks.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import insert

from botbuilder.conversations.store import Conversation, Message
from botbuilder.db.engine import Database
from botbuilder.insights import clustering
from botbuilder.insights.gaps import MIN_GROUP, READ_PER_LOOK, GapFinder
from botbuilder.insights.inbox_store import load_rows, vectors_of
from botbuilder.matching.encoder import identity
from botbuilder.matching.runtime import BotRuntime

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = ROOT.parent / "shared" / "bench"
SETS = ("banking77-10shot", "hwu64-10shot", "xsid-en")
QUESTIONS = 10_000
STORED = 100_000  # stored questions the clustering must cope with (issue 12)
ROUNDS = 3  # looks after 20 new questions, each way
_REWORDINGS: tuple[Callable[[str], str], ...] = (
    lambda q: q,
    lambda q: f"hi, {q}",
    lambda q: q.rstrip("?.!").lower(),
    lambda q: f"{q} please",
)


def bench_questions(limit: int = QUESTIONS) -> list[tuple[str, str]]:
    """(question, intent label) pairs from the shared sets, reworded up to `limit`."""
    base: list[tuple[str, str]] = []
    for name in SETS:
        folder = SHARED_BENCH / name
        for case in yaml.safe_load((folder / "tests.yml").read_text(encoding="utf-8")):
            base.append((str(case["q"]), f"{name}:{case['expect']}"))
        intents = yaml.safe_load((folder / "flows" / "intents.yml").read_text(encoding="utf-8"))
        for intent in intents["intents"]:
            base.extend((str(q), f"{name}:{intent['id']}") for q in intent["questions"])
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for reword in _REWORDINGS:
        for text, label in base:
            worded = reword(text)
            if worded not in seen:
                seen.add(worded)
                out.append((worded, label))
            if len(out) == limit:
                return out
    return out


def _fill(database: Database, questions: list[tuple[str, str]], at: datetime) -> None:
    """One conversation per question: the member's message, handed off for low confidence."""
    conversations, messages = [], []
    for n, (text, label) in enumerate(questions):
        cid = uuid.uuid4().hex
        when = at + timedelta(seconds=n)
        conversations.append(
            {
                "id": cid,
                "language": "en",
                "state": "waiting",
                "created_at": when,
                "updated_at": when,
            }
        )
        guess = label.split(":", 1)[1]
        messages.append(
            {
                "conversation_id": cid,
                "role": "member",
                "text": text,
                "html": "",
                "buttons": [],
                "intent": guess,
                "decision": "handoff",
                "confidence": 0.1,
                "candidates": [{"intent": guess, "score": 0.1}],
                "created_at": when,
            }
        )
    with database.engine.begin() as c:
        c.execute(insert(Conversation), conversations)
        c.execute(insert(Message), messages)


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _scores(labels: np.ndarray, groups: np.ndarray) -> tuple[float, float, int]:
    """Purity of the groups of MIN_GROUP or more, coverage of the labels, and their number."""
    big = [
        np.flatnonzero(groups == g) for g, n in Counter(groups.tolist()).items() if n >= MIN_GROUP
    ]
    grouped = sum(len(g) for g in big)
    majority = sum(Counter(labels[g].tolist()).most_common(1)[0][1] for g in big)
    totals = Counter(labels.tolist())
    best: dict[str, int] = {}
    for g in big:
        label, count = Counter(labels[g].tolist()).most_common(1)[0]
        best[label] = max(best.get(label, 0), count)
    coverage = sum(best.get(label, 0) / n for label, n in totals.items()) / len(totals)
    return majority / max(grouped, 1), coverage, len(big)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s (of {', '.join(f'{t:.2f}' for t in times)})"


def inbox_times(
    folder: Path, questions: list[tuple[str, str]], rounds: int = ROUNDS
) -> tuple[Database, str, np.ndarray | None]:
    """The finder's looks at the inbox on a generated database, as the server's finder
    makes them (`READ_PER_LOOK`, the rest read behind); returns the database, the
    identity of the encoder that made the stored vectors and the mean the grouping
    centres them on."""
    database = Database(f"sqlite:///{folder / 'gaps.sqlite'}")
    runtime = BotRuntime(
        SHARED_BENCH / "hwu64-10shot" / "flows", cache_path=folder / "embeddings.sqlite"
    )
    runtime.current().matcher.query_encoder.encode(["warm up"])
    now = datetime.now(UTC)
    old = len(questions) - 20 * 2 * rounds
    _fill(database, questions[:old], now - timedelta(days=1))
    finder = GapFinder(
        database, runtime, clock=lambda: now + timedelta(hours=1), read_per_look=READ_PER_LOOK
    )
    found, first = _timed(finder.suggestions)
    print(
        f"inbox, first look at {old:,} unread questions (reads {READ_PER_LOOK}, the rest behind): "
        f"{first:.2f} s, {len(found)} suggestions, {finder.unread():,} still to read"
    )
    _, behind = _timed(lambda: finder.wait_reading())
    print(f"inbox, the reader: read and grouped the rest in {first + behind:.0f} s")
    print(f"  peak memory {_peak_mb():.0f} MB")
    warm = [_timed(finder.suggestions)[1] for _ in range(5)]
    print(f"inbox, a look with nothing new: median {_median(warm)}")
    kept, cold = [], []
    for n in range(rounds):
        batch = questions[old + 40 * n : old + 40 * n + 40]
        _fill(database, batch[:20], datetime.now(UTC))
        kept.append(_timed(finder.suggestions)[1])
        _fill(database, batch[20:], datetime.now(UTC))
        finder.forget()  # nothing kept: every vector read, the n-grams fitted, every group named
        cold.append(_timed(finder.suggestions)[1])
    print(
        "inbox, a look after 20 new questions (they join the stored groups), median of "
        f"{rounds}:\n  with vectors, n-grams and names kept: {_median(kept)}"
        f"\n  nothing kept (as before):              {_median(cold)}"
    )
    matcher = runtime.current().matcher
    return database, identity(matcher.query_encoder), matcher.mean


def clustering_times(
    database: Database, runtime_identity: str, mean: np.ndarray | None, sizes: tuple[int, ...]
) -> None:
    """The clustering alone at these sizes, each method, with purity and coverage, by the
    finder's rule (vectors centred on the matcher's mean, its cut)."""
    with database.session() as s:
        rows = load_rows(s, states=("new",))
        stored = vectors_of(s, [r.message_id for r in rows], runtime_identity)
    labels_of = {text: label for text, label in bench_questions(max(sizes))}
    cut = clustering.threshold_for(runtime_identity, centred=mean is not None)
    rows = [r for r in rows if r.message_id in stored]
    print(
        f"\n{'questions':>9} {'method':<30} {'seconds':>8} {'purity':>7} {'coverage':>8} {'groups':>6}"
    )
    for n in sorted({min(n, len(rows)) for n in sizes}):
        texts = [r.text for r in rows[:n]]
        vectors = clustering.centre(np.vstack([stored[r.message_id] for r in rows[:n]]), mean)
        labels = np.array([labels_of.get(t, "?") for t in texts])
        methods: list[tuple[str, Callable[[np.ndarray, list[str], float], np.ndarray]]] = []
        if n <= clustering.EXACT_UP_TO:
            methods.append(("agglomerative, exact", _exact))
        methods.append(("k-means parts, then exact", _partitioned))
        methods.append(("HDBSCAN, min_cluster_size 3", _hdbscan))
        for name, run in methods:
            groups, seconds = _timed(lambda: run(vectors, texts, cut))  # noqa: B023
            purity, coverage, count = _scores(labels, groups)
            print(f"{n:>9,} {name:<30} {seconds:>8.1f} {purity:>7.2f} {coverage:>8.2f} {count:>6}")
    if len(rows) >= max(sizes):
        _stored_scale(vectors, texts, labels, cut)  # the largest size's
    print(f"peak memory {_peak_mb():.0f} MB")


def _stored_scale(
    vectors: np.ndarray, texts: list[str], labels: np.ndarray, cut: float, size: int = STORED
) -> None:
    """The clustering of `size` stored questions (issue 12: 100,000), made of the largest
    set repeated with a little noise on each copy's vector (cosine ~0.98 to its original):
    encoding 100,000 real questions would cost e5 ~30 min of CPU here, and the finder
    encodes each question once, as it comes in (the background reader), never all at once."""
    rng = np.random.default_rng(0)
    picked = np.resize(np.arange(len(texts)), size)
    noisy = vectors[picked] + rng.normal(0.0, 0.01, (size, vectors.shape[1])).astype(np.float32)
    many, words = clustering.unit_rows(noisy), [texts[i] for i in picked]
    groups, seconds = _timed(lambda: _partitioned(many, words, cut))
    purity, coverage, count = _scores(labels[picked], groups)
    name = "k-means parts, then exact *"
    print(f"{size:>9,} {name:<30} {seconds:>8.1f} {purity:>7.2f} {coverage:>8.2f} {count:>6}")
    print(f"  * the {len(texts):,} above, each repeated with a little noise on its vector")


def _exact(vectors: np.ndarray, texts: list[str], cut: float) -> np.ndarray:
    return clustering.exact_groups(*clustering.views(vectors, texts), cut)


def _partitioned(vectors: np.ndarray, texts: list[str], cut: float) -> np.ndarray:
    return clustering.partitioned_groups(*clustering.views(vectors, texts), cut)


def _hdbscan(vectors: np.ndarray, texts: list[str], cut: float) -> np.ndarray:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    dense, grams = clustering.views(vectors, texts)
    reduced = normalize(TruncatedSVD(128, random_state=0).fit_transform(grams))
    view = normalize(np.hstack([dense, reduced]))
    labels = HDBSCAN(min_cluster_size=MIN_GROUP).fit_predict(view)
    # Noise (-1) is loose: a label of its own per question.
    alone = np.flatnonzero(labels < 0)
    labels[alone] = labels.max() + 1 + np.arange(len(alone))
    return np.asarray(labels)


def main() -> None:
    if not SHARED_BENCH.exists():
        print("(no ../shared/bench: the gap finder benchmark reads its questions there)")
        return
    questions = bench_questions()
    print(f"gap finder: {len(questions):,} open questions from {', '.join(SETS)}\n")
    with tempfile.TemporaryDirectory() as tmp:
        database, encoder, mean = inbox_times(Path(tmp), questions)
        clustering_times(database, encoder, mean, (1000, 4000, QUESTIONS))
        database.close()
    print()
    from benchmarks import gaps_first_look  # it imports this module

    gaps_first_look.main()
