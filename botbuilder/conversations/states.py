"""The two state machines of the conversations room, each written once as a table.

A conversation is answered by the bot, waits for an agent, is with an agent, or
is closed. Each time it is handed off, a handoff row records the queue's side:
waiting for an agent, claimed by one, and how it ended. Every change of either
goes through these tables, so a move they do not list is refused with `Conflict`
(409) and a message that says why, whoever attempts it.

    conversation                          handoff
    bot      -> waiting, closed           waiting -> claimed, transferred, closed, returned,
    waiting  -> waiting, agent, bot,                 left, abandoned
                closed                    claimed -> transferred, closed, returned, left
    agent    -> agent, waiting, bot,      transferred, closed, returned, left, abandoned: final
                closed
    closed: final

A member who stops waiting (`left`) or goes quiet while waiting (`abandoned`,
see `lifecycle`) takes the conversation from waiting back to the bot.
"""

from __future__ import annotations

from botbuilder.errors import N_, BadRequest, Conflict

__all__ = [
    "HANDOFF_STATUSES",
    "HANDOFF_TRANSITIONS",
    "STATES",
    "TRANSITIONS",
    "check_handoff_move",
    "handoff_sources",
    "refusal",
    "sources_of",
]

STATES = ("bot", "waiting", "agent", "closed")
# Where a conversation in each state may go next. A member asks for a person
# (bot -> waiting); an agent claims (waiting -> agent), replies (agent -> agent),
# transfers to another team (-> waiting), hands back to the bot (agent -> bot) or
# closes. A member who stops waiting goes back to the bot (waiting -> bot). A
# closed conversation stays closed: the member starts a new one.
TRANSITIONS: dict[str, frozenset[str]] = {
    "bot": frozenset({"waiting", "closed"}),
    "waiting": frozenset({"waiting", "agent", "bot", "closed"}),
    "agent": frozenset({"agent", "waiting", "bot", "closed"}),
    "closed": frozenset(),
}

HANDOFF_STATUSES = (
    "waiting",
    "claimed",
    "transferred",
    "closed",
    "returned",
    "left",
    "abandoned",
)
# Where a handoff in each status may go next. An open one (waiting or claimed)
# ends by transfer (a new handoff takes its place), close, return to the bot, the
# member leaving (`left`), or, while still waiting, the member going quiet
# (`abandoned`); an ended one never changes again.
HANDOFF_TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"claimed", "transferred", "closed", "returned", "left", "abandoned"}),
    "claimed": frozenset({"transferred", "closed", "returned", "left"}),
    "transferred": frozenset(),
    "closed": frozenset(),
    "returned": frozenset(),
    "left": frozenset(),
    "abandoned": frozenset(),
}


def sources_of(state: str, among: tuple[str, ...] = STATES) -> tuple[str, ...]:
    """The states of `among` from which a conversation may move to `state`."""
    if state not in STATES:
        raise BadRequest(f"unknown state '{state}'; one of {', '.join(STATES)}")
    return tuple(s for s in among if state in TRANSITIONS.get(s, frozenset()))


def refusal(current: str, state: str) -> Conflict:
    """Why a conversation that is `current` cannot become `state`, for people."""
    return Conflict(
        N_("conversation is '%(current)s', so it cannot become '%(state)s'"),
        current=current,
        state=state,
    )


def handoff_sources(status: str) -> tuple[str, ...]:
    """The statuses from which a handoff may move to `status`."""
    return tuple(s for s in HANDOFF_STATUSES if status in HANDOFF_TRANSITIONS[s])


def check_handoff_move(current: str, status: str) -> None:
    """Refuse, with `Conflict`, a handoff move the table does not list."""
    if status not in HANDOFF_TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"the handoff is '{current}', so it cannot become '{status}'")
