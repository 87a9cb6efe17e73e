"""Conversations written straight into the real tables, each row at a chosen time: the
insights tests' `rows` fixture (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botbuilder.conversations.store import Conversation, Feedback, Handoff, Message, Storage


class Rows:
    """Conversations written straight into the real tables, each row at a chosen time."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.count = 0

    def conversation(
        self, at: datetime, language: str = "nl", updated: datetime | None = None
    ) -> str:
        self.count += 1
        cid = f"c{self.count:031d}"
        self._add(
            Conversation(
                id=cid, language=language, state="bot", created_at=at, updated_at=updated or at
            )
        )
        return cid

    def member(
        self, cid: str, at: datetime, decision: str | None = None, intent: str | None = None
    ) -> int:
        return self._message(cid, "member", at, decision=decision, intent=intent)

    def bot(
        self, cid: str, at: datetime, intent: str | None = None, helpful: bool | None = None
    ) -> int:
        message = self._message(
            cid, "bot", at, intent=intent, decision="answer" if intent else None
        )
        if helpful is not None:
            self._add(
                Feedback(conversation_id=cid, message_id=message, helpful=helpful, created_at=at)
            )
        return message

    def agent(self, cid: str, at: datetime) -> int:
        return self._message(cid, "agent", at)

    def handoff(
        self,
        cid: str,
        team: str,
        at: datetime,
        claimed: datetime | None = None,
        closed: datetime | None = None,
        status: str | None = None,
    ) -> None:
        self._add(
            Handoff(
                conversation_id=cid,
                team=team,
                reason="low_confidence",
                question="vraag",
                status=status or ("closed" if closed else "claimed" if claimed else "waiting"),
                claimed_by="ann@example.org" if claimed else None,
                created_at=at,
                claimed_at=claimed,
                closed_at=closed,
            )
        )

    def answered(
        self, at: datetime, intent: str, language: str = "nl", helpful: bool | None = None
    ) -> str:
        cid = self.conversation(at, language)
        self.member(cid, at, "answer", intent)
        self.bot(cid, at + timedelta(seconds=1), intent, helpful)
        return cid

    def _message(self, cid: str, role: str, at: datetime, **fields: Any) -> int:
        row = Message(
            conversation_id=cid,
            role=role,
            text="tekst",
            html="",
            buttons=[],
            candidates=[],
            created_at=at,
            **fields,
        )
        self._add(row)
        return row.id

    def _add(self, row: Any) -> None:
        with self.storage.session() as s, s.begin():
            s.add(row)
