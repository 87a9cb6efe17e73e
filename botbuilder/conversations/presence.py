"""Which agents are at their console now, so the dialogue knows whether anyone can answer.

The console sends a heartbeat while it is open; an agent not heard from for
`PRESENCE_TIMEOUT` counts as away, so a closed laptop does not leave members
waiting for someone who is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, mapped_column

from botbuilder.conversations.store import Storage
from botbuilder.db.base import Base, aware_utc, utcnow
from botbuilder.errors import N_, BadRequest

__all__ = ["AgentPresence", "PRESENCE", "PRESENCE_TIMEOUT", "Presence"]

# An agent whose console has not been heard from for this long counts as away.
PRESENCE_TIMEOUT = timedelta(seconds=90)
PRESENCE = ("online", "away")


class AgentPresence(Base):  # created by migration 0003
    __tablename__ = "agent_presence"
    agent: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Presence:
    """Agents' online/away status, on one storage."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime] = utcnow) -> None:
        self.storage = storage
        self.clock = clock

    def set_presence(self, agent: str, status: str) -> None:
        """Record that `agent` is online or away (the console calls this as a heartbeat)."""
        if status not in PRESENCE:
            raise BadRequest(
                N_("presence must be one of %(known)s, not '%(status)s'"),
                known=", ".join(PRESENCE),
                status=status,
            )
        now = self.clock()
        with self.storage.session() as s, s.begin():
            row = s.get(AgentPresence, agent)
            if row is None:
                s.add(AgentPresence(agent=agent, status=status, seen_at=now))
            else:
                row.status, row.seen_at = status, now

    def presence(self) -> dict[str, str]:
        """Every agent ever seen: 'online', or 'away' when they said so or went quiet."""
        cutoff = self.clock() - PRESENCE_TIMEOUT
        with self.storage.session() as s:
            return {
                p.agent: p.status if aware_utc(p.seen_at) >= cutoff else "away"
                for p in s.scalars(select(AgentPresence).order_by(AgentPresence.agent))
            }

    def nobody_online(self) -> bool:
        """True when agents use the console but none is online now.

        An installation whose console was never opened is not "empty": its
        handoffs behave as before (office hours alone decide).
        """
        presence = self.presence()
        return bool(presence) and "online" not in presence.values()
