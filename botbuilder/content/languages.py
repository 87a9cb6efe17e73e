"""Language codes, a small language guesser and text normalisation.

The bundled embedding model is English-first, so Dutch leans on character
n-grams; normalisation (case, diacritics, punctuation, spacing) makes those
n-grams line up between how a manager writes and how a member types.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ISO_639_1", "guess_language", "normalise"]

ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)

# Frequent function words: enough to tell the languages of one community apart
# in a sentence or two. Unknown languages simply never win.
_STOPWORDS: dict[str, frozenset[str]] = {
    "nl": frozenset(
        """de het een en van ik je jij u uw mijn is zijn wat hoe waar wanneer waarom wie welke
        kan kun kunt wil wilt moet mag niet geen ook nog al maar of dat die dit deze er
        hier daar met voor naar bij op aan uit over om te tot zich we wij jullie hun ze zij
        hoeveel graag even iets iemand krijg krijgen betalen doe doen heb hebt heeft hoi
        hallo dag bedankt dank kosten lid word worden werkt inloggen""".split()
    ),
    "en": frozenset(
        """the a an and of i you your my is are was what how where when why who which can
        could would should will want need not no also but or that this these there here
        with for to from at on in out about do does did have has get got me we they it
        its much many please hi hello thanks thank cost member become work login""".split()
    ),
    "de": frozenset(
        """der die das und ist ich du sie wie was wo wann warum nicht ein eine mein
        dein kann ich möchte bitte danke""".split()
    ),
    "fr": frozenset(
        """le la les et est je tu vous comment quoi où quand pourquoi pas un une mon
        peux veux merci bonjour""".split()
    ),
}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lowercase, strip diacritics and punctuation, fold white space.

    "Hoe zeg ik m'n lidmaatschap óp?!" -> "hoe zeg ik m n lidmaatschap op"
    """
    text = text.casefold()
    if not text.isascii():  # most questions are ASCII: nothing to decompose (5x faster)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(text))


def guess_language(text: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    """The candidate language whose function words the text uses most, or None.

    None when no candidate has evidence or two tie: the caller keeps the
    conversation's language then, which is right for "contributie?".
    """
    words = normalise(text).split()
    if not words:
        return None
    scores = {
        lang: sum(1 for w in words if w in _STOPWORDS.get(lang, frozenset())) for lang in candidates
    }
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] == 0:
        return None
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]
