"""An agent's reply to a follow-up, written in the console and sent by e-mail (issue 16).

The reply goes out from the team's address (bot.yml `handoff.teams.<team>.email`,
else `BOTBUILDER_MAIL_FROM`), with "Re: <the question>" as subject, so the
member's mail program shows it as the answer to what they asked. The
question came through the widget, not by mail, so the thread's first
Message-ID is one botbuilder names for the follow-up
(`<follow-up-ID.CONVERSATION@domain>`): the reply refers to it in
In-Reply-To and References, and whatever the member sends back refers to
both. Only after the server has taken the mail is the reply kept in the
transcript (as an agent message) and the follow-up marked done, with the
reply's Message-ID; if sending fails, nothing changes and the follow-up stays
open. While the mail is being sent the follow-up is "replying", so a
colleague pressing Send at the same moment is told, and the member gets one
reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from botbuilder.content.model import Bot
from botbuilder.content.plain_text import plain_text
from botbuilder.content.rendering import render_markdown
from botbuilder.conversations.followups import FollowUpRecord, FollowUps
from botbuilder.errors import BadRequest, Conflict, MailError
from botbuilder.integrations.mail import Mailer, one_line

__all__ = ["MAX_REPLY", "FollowUpReplies", "thread_root"]

log = logging.getLogger(__name__)

MAX_REPLY = 20_000  # characters in one reply


def thread_root(follow_up: FollowUpRecord, sender: str) -> str:
    """The Message-ID that stands for the member's question in the mail thread."""
    domain = sender.rpartition("@")[2]
    return f"<follow-up-{follow_up.id}.{follow_up.conversation_id}@{domain}>"


class FollowUpReplies:
    """Sends agents' replies to follow-ups and records them; built once per app."""

    def __init__(self, mailer: Mailer, follow_ups: FollowUps, bot: Callable[[], Bot]) -> None:
        self.mailer = mailer
        self.follow_ups = follow_ups
        self.bot = bot  # the bot as loaded now, for the teams' addresses

    def sender(self, team: str) -> str | None:
        """The address a team's replies come from."""
        settings = self.bot().settings.handoff.teams.get(team)
        return (settings.email if settings else None) or self.mailer.default_from

    def reply(self, follow_up_id: int, agent: str, text: str) -> FollowUpRecord:
        """Mail `text` to the member of an open follow-up, then keep it and mark it done."""
        text = plain_text(text, "the reply").strip()
        if not text:
            raise BadRequest("write a reply first")
        if len(text) > MAX_REPLY:
            raise BadRequest(f"a reply is at most {MAX_REPLY} characters, not {len(text)}")
        follow_up = self.follow_ups.follow_up(follow_up_id)
        if follow_up.status not in ("open", "replying") or not follow_up.email:
            raise Conflict(f"follow-up {follow_up_id} is '{follow_up.status}', not open")
        sender = self.sender(follow_up.team)
        if not sender:
            raise MailError(
                f"team '{follow_up.team}' has no e-mail address to send from: set its 'email' "
                "in bot.yml, or BOTBUILDER_MAIL_FROM"
            )
        self.follow_ups.start_reply(follow_up_id, agent)  # Conflict if a colleague is sending
        try:
            message_id = self._send(follow_up, sender, text)
        except BaseException:
            self.follow_ups.release_reply(follow_up_id)
            raise
        record, _ = self.follow_ups.answer_follow_up(follow_up_id, agent, text, message_id)
        log.info("follow-up %d answered by e-mail as %s", follow_up_id, message_id)
        return record

    def _send(self, follow_up: FollowUpRecord, sender: str, text: str) -> str:
        question = one_line(follow_up.question, 80)
        subject = f"Re: {question}" if question else f"Re: {self.bot().settings.name}"
        root = thread_root(follow_up, sender)
        assert follow_up.email is not None  # checked by `reply`
        return self.mailer.send(
            [follow_up.email],
            subject,
            text,
            _html(text),
            from_addr=sender,
            reply_to=sender,
            in_reply_to=root,
            references=[root],
        )


def _html(text: str) -> str:
    """The reply as the transcript shows it: Markdown rendered and sanitized."""
    body = render_markdown(text)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}</body></html>'
