"""The API's rate limits at the edge: who is asking, and the 429 with Retry-After.

The counting is `conversations/rate_limits.py` (shared by replicas through the
database); here a request is turned into what it counts against: the client's
network (an IPv4 address or an IPv6 /64, as the login limits count it, after
`proxies.py` has found the client behind a trusted proxy) and the
conversation in the path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from botbuilder.accounts import client_network
from botbuilder.conversations.rate_limits import RateLimited
from botbuilder.conversations.store import is_conversation_id
from botbuilder.errors import NotFound
from botbuilder.server.common import error_response, services

__all__ = ["count_handoff", "limited", "refused", "requester"]

F = TypeVar("F", bound=Callable[..., Any])


def requester() -> str:
    """The network this request counts against."""
    return _network(request.remote_addr or "")


# The same few clients ask again and again: parse each address once.
_network = functools.lru_cache(maxsize=4096)(client_network)


def _conversation(kwargs: dict[str, Any]) -> str | None:
    """The conversation in the path, if it is shaped like one (others get a 404 anyway)."""
    conversation_id = kwargs.get("conversation_id")
    return conversation_id if conversation_id and is_conversation_id(conversation_id) else None


def limited(action: str, handoffs: bool = False) -> Callable[[F], F]:
    """Count each request of the view against `action`'s limits; 429 once they are spent.

    With `handoffs`, a request that could start a handoff (the conversation is with
    the bot) is also refused once the network or conversation has used its handoffs.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limits = services().rate_limits
            conversation_id = _conversation(kwargs)
            limits.hit(action, requester(), conversation_id)
            if handoffs and _with_the_bot(conversation_id):
                limits.check_handoffs(requester(), conversation_id)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _with_the_bot(conversation_id: str | None) -> bool:
    if conversation_id is None:
        return False
    try:
        return services().storage.conversation(conversation_id).state == "bot"
    except NotFound:  # the view answers that itself
        return False


def count_handoff(conversation_id: str) -> None:
    """Count a handoff the request just started."""
    conversation = _conversation({"conversation_id": conversation_id})
    services().rate_limits.count_handoff(requester(), conversation)


def refused(exc: RateLimited) -> Any:
    """The 429: the one JSON error shape, and when to try again."""
    response = error_response(exc.message, exc.status)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
