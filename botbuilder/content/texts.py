"""What the bot itself says, per language, when no flow file says it.

Managers override the greeting and the offline message in bot.yml; the rest
are short system phrases kept in one place so the tone stays consistent.
"""

from __future__ import annotations

__all__ = ["system_text"]

_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "greeting": "Hoi! Waar kan ik je mee helpen?",
        "queue_position": "Je bent nummer {position} in de wachtrij.",
        "clarify": "Bedoelde je…?",
        "something_else": "Iets anders / een medewerker",
        "handoff": "Ik zet je door naar een collega. Een moment geduld alsjeblieft…",
        "handoff_unsure": "Daar weet ik helaas geen goed antwoord op. Ik zet je door naar een collega…",
        "offline": "Onze collega's zijn er nu niet. Laat je e-mailadres achter, dan nemen we "
        "zo snel mogelijk contact met je op.",
        "waiting": "Je gesprek staat in de wachtrij; een collega komt zo bij je.",
        "handed_back": "Je praat weer met de bot. Waar kan ik je nog mee helpen?",
        "closed": "Dit gesprek is gesloten.",
        "left_queue": "Je wacht niet meer op een medewerker. Stel gerust je vraag, dan help ik "
        "je verder.",
        "member_closed": "Je hebt dit gesprek beëindigd.",
        "abandoned": "We hoorden een tijd niets van je, dus je staat niet meer in de wachtrij. "
        "Vraag opnieuw naar een medewerker als je nog hulp wilt.",
        "agent_joined": "Een collega is er nu en helpt je verder.",
        "transferred": "Ik zet je door naar een ander team. Een moment geduld alsjeblieft…",
        "no_agent": "Er is op dit moment geen collega beschikbaar. Laat je e-mailadres en je "
        "vraag achter, dan nemen we zo snel mogelijk contact met je op.",
        "still_waiting": "Het duurt langer dan we hadden gehoopt. Je kunt blijven wachten, of "
        "je e-mailadres achterlaten; dan mailen we je het antwoord.",
        "email_thanks": "Dank je! We mailen je op {email} zo snel mogelijk.",
        "email_invalid": "'{email}' lijkt geen geldig e-mailadres. Probeer het nog eens, "
        "bijvoorbeeld naam@voorbeeld.nl.",
    },
    "en": {
        "greeting": "Hi! How can I help you?",
        "queue_position": "You are number {position} in the queue.",
        "clarify": "Did you mean…?",
        "something_else": "Something else / talk to a person",
        "handoff": "I'm passing you to a colleague. One moment please…",
        "handoff_unsure": "I don't have a good answer to that. I'm passing you to a colleague…",
        "offline": "Our colleagues are not available right now. Leave your e-mail address "
        "and we'll get back to you as soon as we can.",
        "waiting": "You're in the queue; a colleague will be with you shortly.",
        "handed_back": "You're talking to the bot again. What else can I help you with?",
        "closed": "This conversation is closed.",
        "left_queue": "You're no longer waiting for a staff member. Ask your question and "
        "I'll help you.",
        "member_closed": "You ended this conversation.",
        "abandoned": "We hadn't heard from you for a while, so you're no longer in the queue. "
        "Ask for a staff member again if you still need help.",
        "agent_joined": "A colleague is here now and will help you further.",
        "transferred": "I'm passing you to another team. One moment please…",
        "no_agent": "Nobody is available right now. Leave your e-mail address and your "
        "question, and we'll get back to you as soon as we can.",
        "still_waiting": "This is taking longer than we hoped. You can keep waiting, or leave "
        "your e-mail address and we'll mail you the answer.",
        "email_thanks": "Thank you! We'll e-mail you at {email} as soon as we can.",
        "email_invalid": "'{email}' doesn't look like a valid e-mail address. Please try again, "
        "for example name@example.org.",
    },
}


def system_text(key: str, language: str) -> str:
    """A system phrase in `language`, falling back to English."""
    return _TEXTS.get(language, _TEXTS["en"]).get(key) or _TEXTS["en"][key]
