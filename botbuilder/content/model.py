"""The typed, frozen model of a bot: settings from bot.yml and its intents.

Built once by `botbuilder.content.loader`, validated there; the rest of the code
trusts these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

__all__ = [
    "Bot",
    "BotSettings",
    "Button",
    "HandoffSettings",
    "Intent",
    "LimitSettings",
    "MatcherSettings",
    "TeamSettings",
    "WidgetSettings",
]


@dataclass(frozen=True)
class Button:
    """A quick reply under an answer: exactly one of goto, url or handoff."""

    label: str
    goto: str | None = None
    url: str | None = None
    handoff: bool = False

    @property
    def id(self) -> str:
        """The id a client posts back; stable for the same button."""
        if self.goto:
            return f"goto:{self.goto}"
        if self.handoff:
            return "handoff"
        return f"url:{self.url}"


@dataclass(frozen=True)
class Intent:
    """One FAQ entry in one language."""

    id: str
    language: str
    answer: str
    questions: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    context_only: bool = False
    handoff_team: str | None = None
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class MatcherSettings:
    model: str = ""  # empty: the default encoder (botbuilder.matching.encoder)
    # None means "auto": calibrated from the bot's own example questions.
    answer_threshold: float | None = None
    clarify_threshold: float | None = None


@dataclass(frozen=True)
class TeamSettings:
    name: str
    # weekday (0 = Monday) -> opening intervals; an empty mapping means "always open"
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    timezone: str = "Europe/Amsterdam"
    closed_days: tuple[date, ...] = ()
    webhook: str | None = None
    email: str | None = None  # sender of the team's follow-up replies (needs BOTBUILDER_SMTP_URL)


@dataclass(frozen=True)
class DigestSettings:
    """The weekly digest: to whom (addresses, teams' webhooks) and when (the bot's timezone)."""

    to: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    weekday: int = 0  # Monday
    hour: int = 8


@dataclass(frozen=True)
class HandoffSettings:
    teams: Mapping[str, TeamSettings] = field(default_factory=dict)
    default_team: str = "default"
    offline_message: Mapping[str, str] = field(default_factory=dict)  # language -> text
    # A waiting member not heard from for this many minutes leaves the queue (abandoned).
    abandoned_after: int = 15


@dataclass(frozen=True)
class WidgetSettings:
    title: str = "Chat"  # in the bot's main language; `titles` has every language given
    color: str = "#0b6e4f"
    allowed_origins: tuple[str, ...] = ()
    position: str = "right"
    logo: str | None = None
    welcome: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)  # language -> title
    privacy_url: str | None = None  # linked from the widget's notice before the first message


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int = 180  # transcripts, notes and follow-ups are deleted after this
    mask: bool = True  # e-mail addresses, phone numbers and IBANs masked in stored member text


@dataclass(frozen=True)
class LimitSettings:
    """Rate limits of the public API (bot.yml `limits:`), each "N/period", several joined by ';'.

    Per IP counts an IPv4 address or an IPv6 /64; the defaults are far above what a
    member does, and stop one client from flooding the database or the agents' queue.
    """

    conversations_per_ip: str = "30/minute; 300/hour"
    messages_per_ip: str = "120/minute"
    messages_per_conversation: str = "30/minute; 300/hour"
    feedback_per_ip: str = "60/minute"
    feedback_per_conversation: str = "30/minute"
    match_per_ip: str = "120/minute"
    handoffs_per_ip: str = "20/hour"
    handoffs_per_conversation: str = "5/hour"


@dataclass(frozen=True)
class BotSettings:
    name: str = "botbuilder"
    language: str = "nl"
    languages: tuple[str, ...] = ("nl",)
    greeting: Mapping[str, str] = field(default_factory=dict)  # language -> text
    matcher: MatcherSettings = field(default_factory=MatcherSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    widget: WidgetSettings = field(default_factory=WidgetSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    # "je" or "u": how the bot addresses members in Dutch; None: not checked
    tone_address: str | None = None
    digest: DigestSettings = field(default_factory=DigestSettings)


@dataclass(frozen=True)
class Bot:
    """A loaded, valid bot: settings plus intents keyed by (language, id)."""

    directory: Path
    settings: BotSettings
    intents: Mapping[tuple[str, str], Intent]
    fingerprint: str = ""

    @property
    def languages(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.settings.languages)
        seen.update(dict.fromkeys(lang for lang, _ in self.intents))
        return tuple(seen)

    def intent_ids(self) -> list[str]:
        return sorted({intent_id for _, intent_id in self.intents})

    def intent(self, intent_id: str, language: str | None = None) -> Intent | None:
        """The intent in `language`, else in the bot's language, else any language."""
        for lang in (language, self.settings.language, *self.languages):
            if lang and (lang, intent_id) in self.intents:
                return self.intents[(lang, intent_id)]
        return None

    def matchable(self) -> list[Intent]:
        """Intents the matcher may route to: not context_only, with questions."""
        return [i for i in self.intents.values() if not i.context_only and i.questions]
