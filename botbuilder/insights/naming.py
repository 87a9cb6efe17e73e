"""A proposed id and title for a group of questions, from its distinctive words.

Distinctive means c-TF-IDF (class-based TF-IDF, as in BERTopic): a word's
share of the group's words, weighted by how rare it is across all open
questions of that language, so "gpx" beats "rit" in a cycling club's inbox.
Function words of Dutch and English never count. Words stay as members wrote
them (normalised), so the title is in the questions' language.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from botbuilder.content.languages import normalise

__all__ = ["STOP_WORDS", "content_words", "distinctive_words", "proposed_id", "proposed_title"]

# Function words and question words of Dutch and English, plus the words every
# question to a club's bot shares ("graag", "please"). Lower case, no accents.
STOP_WORDS = frozenset(
    """
    aan al alle alles als alsjeblieft altijd ander andere anders at ben bent bij binnen
    daar daarom dan dat de deze die dit doe doen doet dus echt een eens eigen elke en er
    even fijn ga gaan gaat geen geweest graag had hadden heb hebben hebt heeft hem hen het
    hier hij hoe hoeveel hoi hallo hun iemand iets ik in is ja jaar je jij jou jouw jullie
    kan kon kun kunnen kunt laat maar mag me meer men met mij mijn misschien moet moeten
    mogen n na naar niet niets nog nou nu of om omdat ons onze ook op over per s t te tegen
    toch toe tot u uit uw van veel voor waar waarom wanneer want was wat we wel welk welke
    werd wie wij wil wilde wilt word worden wordt zal ze zelf zich zij zijn zo zoals zou
    zonder zullen zou dag dank bedankt goed goedemorgen goedemiddag hey hee oke ok
    a about after all also am an and any are as be been but by can could did do does
    doing for from get got had has have having he her here hi hello hey his how i if in
    into is it its just let like may me might more most much must my need no not now of
    on one or our out please should so some than thank thanks that the their them then
    there these they this to too up us very was way we were what when where which who
    why will with would yes you your
    """.split()
)

_SLUG = re.compile(r"[^a-z0-9]+")


def content_words(normalised: str) -> list[str]:
    """The words of a normalised text that are not function words, in order."""
    return [w for w in normalised.split() if w not in STOP_WORDS and len(w) > 1]


def distinctive_words(
    group: Sequence[str], background: Counter[str], groups: int, limit: int = 3
) -> list[str]:
    """The group's most distinctive words, ordered as they first appear in `group`.

    `group`: its questions, most typical first. `background`: word counts of all
    open questions of the language; `groups`: how many groups share them (the
    c-TF-IDF average class size is their total over this number).
    """
    words = [w for text in group for w in content_words(normalise(text))]
    if not words:
        return []
    counts = Counter(words)
    average = sum(background.values()) / max(groups, 1)
    scores = {
        w: (c / len(words)) * math.log(1 + average / max(background.get(w, 0), c))
        for w, c in counts.items()
    }
    # A word one member used once is no topic: prefer words several questions share.
    shared = {w: s for w, s in scores.items() if counts[w] > 1} or scores
    best = sorted(shared, key=lambda w: (-shared[w], w))[:limit]
    first = {w: n for n, w in reversed(list(enumerate(words)))}
    return sorted(best, key=lambda w: first[w])


def proposed_id(words: Sequence[str], taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A new intent id from the words: `route_gpx_download`; numbered if `taken`."""
    base = "_".join(p for p in (_SLUG.sub("_", w).strip("_") for w in words) if p)[:60].strip("_")
    base = base or "new_intent"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def proposed_title(words: Sequence[str]) -> str:
    """A title from the words: "Gpx route downloaden"."""
    title = " ".join(words)
    return title[:1].upper() + title[1:]
