"""The weekly digest for managers: last week's figures in one short e-mail or chat post.

What it says, for the seven days before the day it is sent (the bot's days):
conversations; the share the bot answered and its change against the week
before; the five largest gaps in the learning inbox, with a link to it; the
intents members rated worst; and how fast the team took and resolved
handoffs. The figures come from `insights.figures` and the gaps from
`insights.gaps`, the same as the dashboard's, so the two never disagree.

It goes by e-mail (text and a plain HTML part, every value escaped) to
bot.yml's `digest.to`, and/or as a post to the webhooks of `digest.teams`
(delivered and recorded like handoff notifications). It names gaps by their
proposed titles and counts, never by members' questions.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from botbuilder.content.model import Bot
from botbuilder.conversations.notify import Notifier, chat_text
from botbuilder.db.engine import Database
from botbuilder.errors import ConfigError
from botbuilder.insights.figures import Period, bot_timezone, figures
from botbuilder.insights.gaps import Suggestion
from botbuilder.integrations.mail import Mailer

__all__ = ["TOP_GAPS", "Digest", "compose_digest", "deliver_digest", "digest_weeks"]

log = logging.getLogger(__name__)

TOP_GAPS = 5
WORST_INTENTS = 5
INBOX_PATH = "/editor/inbox"


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str  # the e-mail's text, and the chat post
    html: str
    figures: dict[str, Any]  # this week's, as `figures()` gives them
    previous: dict[str, Any]  # the week before's
    gaps: tuple[Suggestion, ...]


def digest_weeks(today: date, timezone: str) -> tuple[Period, Period]:
    """The seven days before `today`, and the seven before those."""
    week = Period(
        since=today - timedelta(days=7), until=today - timedelta(days=1), timezone=timezone
    )
    before = Period(
        since=week.since - timedelta(days=7),
        until=week.since - timedelta(days=1),
        timezone=timezone,
    )
    return week, before


def compose_digest(
    database: Database,
    bot: Bot,
    today: date,
    *,
    gaps: Sequence[Suggestion] = (),
    public_url: str | None = None,
) -> Digest:
    """The digest of the week before `today` (in the bot's timezone)."""
    week, before = digest_weeks(today, bot_timezone(bot))
    now, then = figures(database, week, bot), figures(database, before, bot)
    top = tuple(gaps[:TOP_GAPS])
    inbox = (public_url or "").rstrip("/") + INBOX_PATH
    lines = _lines(now, then, top, inbox)
    name = bot.settings.name
    subject = f"{name}: weekly digest {week.since.isoformat()} to {week.until.isoformat()}"
    text = "\n".join([subject, "", *(line for line, _ in lines), ""])
    return Digest(subject, text, _html(subject, lines), now, then, top)


def _lines(
    now: dict[str, Any], then: dict[str, Any], gaps: Sequence[Suggestion], inbox: str
) -> list[tuple[str, str | None]]:
    """(text, link) per line of the digest; an empty text is a blank line."""
    rate, before = now["answered_rate"], then["answered_rate"]
    change = (
        f"{(rate - before) * 100:+.0f} points against the week before"
        if then["decisions"] and sum(then["decisions"].values())
        else "no figures for the week before"
    )
    h = now["handoffs"]
    lines: list[tuple[str, str | None]] = [
        (f"Conversations: {now['conversations']} (week before: {then['conversations']})", None),
        (f"Answered by the bot: {rate * 100:.0f}% ({change})", None),
        (
            f"Handoffs: {h['count']}, taken {h['claimed']}; first response median "
            f"{_duration(h['first_response_seconds_p50'])} (p90 "
            f"{_duration(h['first_response_seconds_p90'])}), resolved median "
            f"{_duration(h['resolution_seconds_p50'])} (p90 {_duration(h['resolution_seconds_p90'])})",
            None,
        ),
        (f"Follow-ups waiting: {now['follow_ups_waiting']}", None),
        ("", None),
        (
            f"Top {len(gaps)} questions the bot misses:" if gaps else "No new gaps in the inbox.",
            None,
        ),
    ]
    for n, gap in enumerate(gaps, start=1):
        what = "new intent" if gap.kind == "new_intent" else f"add phrasings to {gap.intent}"
        lines.append(
            (
                f"{n}. {gap.title} ({gap.language}): {gap.count} questions from "
                f"{gap.members} conversations; {what}",
                inbox,
            )
        )
    if gaps:
        lines.append((f"Open the inbox: {inbox}", inbox))
    worst = [i for i in now["feedback"]["by_intent"] if i["not_helpful"]][:WORST_INTENTS]
    lines += [
        ("", None),
        ("Worst-rated answers:" if worst else "No answer was rated not helpful.", None),
    ]
    lines += [
        (f"- {i['intent']}: {i['not_helpful']} not helpful, {i['helpful']} helpful", None)
        for i in worst
    ]
    return lines


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _html(subject: str, lines: Sequence[tuple[str, str | None]]) -> str:
    body = []
    for text, link in lines:
        if not text:
            continue
        escaped = html.escape(text)
        if link and link.startswith(("http://", "https://")):
            escaped += f' <a href="{html.escape(link)}">inbox</a>'
        body.append(f"<p>{escaped}</p>")
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<h1 style="font-size:1.2em">{html.escape(subject)}</h1>{"".join(body)}</body></html>'
    )


def deliver_digest(
    digest: Digest,
    bot: Bot,
    *,
    slot: str,
    mailer: Mailer | None,
    notifier: Notifier | None,
    to: Sequence[str] | None = None,
) -> str:
    """Send it to bot.yml's `digest.to` (or `to`) and post it to `digest.teams`' webhooks."""
    settings = bot.settings.digest
    recipients = list(to if to is not None else settings.to)
    done: list[str] = []
    for team in settings.teams if to is None else ():
        config = bot.settings.handoff.teams.get(team)
        if config is not None and config.webhook and notifier is not None:
            payload = {
                "text": chat_text(digest.text),
                "event": "digest",
                "week": slot,
                "team": team,
            }
            if notifier.send(config.webhook, payload, conversation_id=f"digest-{slot}", team=team):
                done.append(f"posted to team {team}")
    if recipients:
        if mailer is None:
            raise ConfigError("the digest has e-mail recipients but BOTBUILDER_SMTP_URL is not set")
        sender = mailer.default_from or _team_address(bot)
        message_id = mailer.send(
            recipients, digest.subject, digest.text, digest.html, from_addr=sender
        )
        done.append(f"e-mailed to {len(recipients)} recipient(s) as {message_id}")
    return "; ".join(done) or "nobody to send it to"


def _team_address(bot: Bot) -> str | None:
    handoff = bot.settings.handoff
    team = handoff.teams.get(handoff.default_team)
    return team.email if team else None


def digest_job_run(
    database: Database,
    bot: Callable[[], Bot],
    today: Callable[[str], date],
    *,
    mailer: Mailer | None,
    notifier: Notifier | None,
    gaps: Callable[[], Sequence[Suggestion]] | None,
    public_url: str | None,
) -> Callable[[str], str]:
    """The scheduler's run of the weekly digest for a slot."""

    def run(slot: str) -> str:
        current = bot()
        digest = compose_digest(
            database,
            current,
            today(bot_timezone(current)),
            gaps=gaps() if gaps else (),
            public_url=public_url,
        )
        return deliver_digest(digest, current, slot=slot, mailer=mailer, notifier=notifier)

    return run
