"""Two processes sharing one database (SQLite file or PostgreSQL), as two server
processes do: of two agents claiming each conversation at once, exactly one wins."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from typing import Any

from botbuilder.conversations.queue import HandoffQueue
from botbuilder.conversations.store import Storage
from botbuilder.errors import Conflict

ROUNDS = 8


def _claimer(url: str, agent: str, conversations: list[str], start: Any, results: Any) -> None:
    storage = Storage(url, migrate=False)
    queue = HandoffQueue(storage)
    for conversation in conversations:
        start.wait(timeout=30)
        try:
            queue.claim(conversation, agent)
            results.put((conversation, agent))
        except Conflict:
            pass
    storage.close()


def test_two_processes_claiming_the_same_conversations_never_both_win(database_url: str) -> None:
    storage = Storage(database_url)
    conversations = []
    for _ in range(ROUNDS):
        conversation = storage.create_conversation("nl").id
        storage.set_state(conversation, "waiting", expect=("bot",), team="leden")
        storage.open_handoff(conversation, "leden", "member_request", "medewerker")
        conversations.append(conversation)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, like a second server
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_claimer, args=(database_url, agent, conversations, start, results))
        for agent in ("ann@example.org", "bob@example.org")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    winners: dict[str, list[str]] = {}
    while True:
        try:
            conversation, agent = results.get(timeout=2)
        except queue_module.Empty:
            break
        winners.setdefault(conversation, []).append(agent)
    queue = HandoffQueue(storage)
    for conversation in conversations:
        assert len(winners.get(conversation, [])) == 1, winners
        assert queue.owner(conversation) == winners[conversation][0]
        assert storage.conversation(conversation).state == "agent"
    storage.close()
