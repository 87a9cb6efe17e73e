"""The conversations browser on 100,000 generated conversations: query and page times.

    python -m benchmarks.browse [--conversations 100000]

For each filter (none, a language, a decision, an intent, feedback, a team, a
state, a week, a search that finds many, one that finds nothing), the median
time of `insights.browse.browse` for the first page and for the 20th (reached
by following the cursors: keyset pages cost the same however deep), then the
whole page through the real app (`GET /conversations`, signed in as a manager,
rendered), one transcript, and the gap inbox (its first look, which takes in, encodes
and groups every missed question once, and the page after it). The database is `benchmarks.generated_db`'s,
copied to a scratch folder so the account added here stays out of the cache.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.generated_db import generated_database, generated_url
from botbuilder.conversations.store import Storage
from botbuilder.insights.browse import Filters, browse

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
DEEP = 20
PASSWORD = "paging through old transcripts"


def _cases(today: date) -> dict[str, Filters]:
    return {
        "no filter": Filters(),
        "language en": Filters(language="en"),
        "decision handoff": Filters(decision="handoff"),
        "intent factuur": Filters(intent="factuur"),
        "feedback 👎": Filters(feedback="not_helpful"),
        "team (none match)": Filters(team="no-such-team"),
        "state waiting": Filters(state="waiting"),
        "last 7 days": Filters(since=today - timedelta(days=7), until=today),
        "search 'gpx'": Filters(search="gpx"),
        "search (no match)": Filters(search="zzqx niets"),
        "search + en + 👎": Filters(search="member", language="en", feedback="not_helpful"),
    }


def _median_ms(run: Callable[[], Any], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def queries(storage: Storage, today: date) -> None:
    print(f"{'filter':22} {'page 1 ms':>10} {f'page {DEEP} ms':>11} {'rows':>5}")
    for name, filters in _cases(today).items():
        first = browse(storage, filters)
        cursor, pages = first.older, 1
        while cursor and pages < DEEP - 1:
            cursor, pages = browse(storage, filters, cursor).older, pages + 1
        deep = "-"
        if cursor:
            deep = f"{_median_ms(lambda c=cursor, f=filters: browse(storage, f, c)):.0f}"
        page_ms = _median_ms(lambda f=filters: browse(storage, f))
        print(f"{name:22} {page_ms:10.0f} {deep:>11} {len(first.rows):5d}")


def pages(database: Path, instance: Path) -> None:
    """The rendered pages through the real app, as a signed-in manager."""
    from botbuilder.server import create_app

    app = create_app(
        {
            "FLOWS_DIR": str(ROOT / "flows"),
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": generated_url(database),
            "RELOAD_INTERVAL": 0,
        }
    )
    app.extensions["botbuilder"].accounts.add("bench@example.org", PASSWORD, "manager")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    first = client.get("/conversations")  # loads the bot and its matcher
    assert first.status_code == 200, first.status_code
    conversation = re.search(r'href="/conversations/([0-9a-f]{32})"', first.text)
    assert conversation
    inbox_first = time.perf_counter()
    assert client.get("/editor/inbox").status_code == 200
    inbox_first = time.perf_counter() - inbox_first
    print(
        f"{'GET /editor/inbox, first look':32} {inbox_first * 1000:6.0f} ms (finds, encodes, groups)"
    )
    for name, path in (
        ("GET /editor/inbox", "/editor/inbox"),
        ("GET /conversations", "/conversations"),
        ("  ?q=gpx", "/conversations?q=gpx"),
        ("  ?intent=factuur&language=nl", "/conversations?intent=factuur&language=nl"),
        ("  ?q=zzqx (no match)", "/conversations?q=zzqx"),
        ("a transcript", f"/conversations/{conversation.group(1)}"),
    ):
        ms = _median_ms(lambda p=path: client.get(p))
        print(f"{name:32} {ms:6.0f} ms")
    app.extensions["botbuilder"].storage.close()


def main(conversations: int = 100_000) -> None:
    print(f"Conversations browser on {conversations:,} generated conversations (median of {RUNS})")
    source = generated_database(conversations)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "browse.sqlite"
        shutil.copy(source, database)
        storage = Storage(generated_url(database))
        try:
            queries(storage, date.today())
        finally:
            storage.close()
        print()
        instance = Path(tmp) / "instance"
        instance.mkdir()
        pages(database, instance)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    main(parser.parse_args().conversations)
