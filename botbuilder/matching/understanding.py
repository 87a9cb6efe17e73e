"""What a member's message asks for: a person, or an intent (via the matcher).

Kept apart from the dialogue so `botbuilder evaluate` judges exactly what a
member would get.
"""

from __future__ import annotations

import re

from botbuilder.content.languages import normalise
from botbuilder.matching.decision import HANDOFF, Match
from botbuilder.matching.matcher import Matcher

__all__ = ["asks_for_person", "understand"]

# A short message that is mostly one of these asks for a person. Longer
# messages go to the matcher: "hoe word ik medewerker?" is a volunteering
# question, not a request for an agent.
_PERSON_WORDS = (
    "mens|medewerker|medewerkster|persoon|iemand|collega|agent|human|person|someone|"
    "operator|support|klantenservice|helpdesk|echt persoon|real person|live chat|"
    "live agent|representative"
)
_PERSON_REQUEST = re.compile(
    rf"^(?:(?:ik wil|ik wil graag|mag ik|kan ik|kun je me|graag|i want|i d like|can i|"
    rf"could i|let me|please|give me|connect me to|verbind me met|met)\s+)?"
    rf"(?:(?:met|with|to|talk to|speak to|speak with|talk with|praten met|spreken met|"
    rf"een|a|an|de|the|een echte|a real|echte|real)\s+)*"
    rf"(?:{_PERSON_WORDS})(?:\s+(?:spreken|praten|alsjeblieft|aub|graag|please|now|nu))*$"
)
_PERSON_PHRASES = re.compile(
    r"\b(?:ik wil (?:met )?(?:een )?(?:mens|medewerker|persoon|iemand) (?:spreken|praten)|"
    r"(?:talk|speak|chat) (?:to|with) (?:a )?(?:human|person|real person|agent|someone)|"
    r"(?:een )?(?:echt(?:e)? )?mens (?:spreken|aan de lijn)|"
    r"(?:human|real person|live agent),? please)\b"
)


def asks_for_person(text: str) -> bool:
    """True when the member asks to talk to a human ("mens", "medewerker", "human", …)."""
    norm = normalise(text)
    if not norm or len(norm.split()) > 12:
        return False
    return bool(_PERSON_REQUEST.match(norm) or _PERSON_PHRASES.search(norm))


def understand(matcher: Matcher, text: str) -> Match:
    """The decision for one member message, as the dialogue engine takes it."""
    match = matcher.match(text)
    if asks_for_person(text):
        return Match(HANDOFF, None, match.confidence, match.candidates)
    return match
