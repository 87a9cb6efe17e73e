"""Conversations an agent held, given back to their team's queue when the agent leaves.

A claimed conversation answers to the agent who claimed it alone (`queue.py`):
everyone else, admins too, is told "<agent> has this conversation". So when
an admin deactivates or removes that agent, who can no longer sign in, each
conversation they held goes back to its team's queue, as a transfer would
(the member reads that a colleague takes over), and the next agent claims
it. Without this the member would wait for nobody.
"""

from __future__ import annotations

import logging

from botbuilder.conversations.queue import HandoffQueue
from botbuilder.errors import Conflict, NotFound

__all__ = ["release_claims"]

log = logging.getLogger(__name__)


def release_claims(queue: HandoffQueue, agent: str) -> int:
    """Put every conversation `agent` has claimed back in its team's queue; how many went."""
    released = 0
    for entry in queue.assigned_to(agent):
        team = entry.handoff.team
        teams = queue.teams() if queue.teams is not None else [team]
        if team not in teams and teams:  # the team is gone from bot.yml: the first one takes it
            team = teams[0]
        try:
            queue.transfer(entry.conversation.id, agent, team)
        except (Conflict, NotFound):  # closed, handed back or deleted meanwhile: nothing to give
            continue
        released += 1
    if released:
        log.info("released %d conversation(s) of a departing agent to their queues", released)
    return released
