"""Warnings that help a manager make a bot easier to match; never errors.

`botbuilder check` shows them next to the load errors: intents with too few
or too alike phrasings, and intents whose questions look more like another
intent's than their own (the pairs members will get confused answers for).
They need no model: character n-grams, as the matcher's spelling view uses.

Each warning is a `Message`: English where `check` prints it, its marked
template and values kept so the editor shows it in the page's language.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np

from botbuilder.content.languages import normalise
from botbuilder.content.lazy import TfidfVectorizer
from botbuilder.content.loader import display_path
from botbuilder.content.model import Bot, Intent
from botbuilder.content.tone import tone_advice
from botbuilder.errors import N_, FlowProblem, Message

__all__ = ["advise"]

MIN_PHRASINGS = 4
# Two phrasings this alike (cosine of character n-grams) teach the matcher nothing new.
NEAR_DUPLICATE = 0.9
# Share of an intent's questions whose nearest other question belongs to one other intent.
CONFUSED_SHARE = 0.4

ALIKE = N_(
    "the questions of '%(intent)s' are nearly the same sentence; vary words and sentence "
    "structure the way members would"
)
CONFUSED = N_(
    "%(count)s of the %(total)s questions of '%(intent)s' look most like questions of "
    "'%(other)s'; make them more distinct, or merge the two intents if they are one question"
)


def _warning(intent: Intent, message: Message) -> FlowProblem:
    return FlowProblem(display_path(_path(intent)), intent.line, 5, message, "warning")


def _path(intent: Intent):  # type: ignore[no-untyped-def]
    from pathlib import Path

    return Path(intent.source)


def advise(bot: Bot) -> list[FlowProblem]:
    """Warnings per intent and per confusable pair of intents, language by language,
    then about tone: the form of address, long answers, answers without a next step."""
    problems: list[FlowProblem] = tone_advice(bot)
    for language in bot.languages:
        intents = [i for i in bot.matchable() if i.language == language]
        for intent in intents:
            if len(intent.questions) < MIN_PHRASINGS:
                problems.append(_warning(intent, _too_few(intent)))
        texts = [q for i in intents for q in i.questions]
        owners = [i.id for i in intents for _ in i.questions]
        if len(set(owners)) < 2:
            continue
        vectors = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=normalise
        ).fit_transform(texts)
        sims = (vectors @ vectors.T).toarray()
        np.fill_diagonal(sims, -1.0)
        owner = np.array(owners)
        for intent in intents:
            rows = np.flatnonzero(owner == intent.id)
            own = sims[np.ix_(rows, rows)]
            near = sum(
                1 for a, b in combinations(range(len(rows)), 2) if own[a, b] >= NEAR_DUPLICATE
            )
            pairs = len(rows) * (len(rows) - 1) // 2
            if pairs >= 3 and near / pairs > 0.5:
                problems.append(_warning(intent, Message(ALIKE, intent=intent.id)))
            if len(rows) < 3:
                continue  # too few questions to tell confusion from chance; warned above
            nearest = Counter(owner[sims[r].argmax()] for r in rows)
            for other, count in nearest.most_common():
                if other != intent.id and count >= max(3, CONFUSED_SHARE * len(rows)):
                    confused = Message(
                        CONFUSED, count=count, total=len(rows), intent=intent.id, other=str(other)
                    )
                    problems.append(_warning(intent, confused))
    return problems


def _too_few(intent: Intent) -> Message:
    # English and Dutch both say "1 question", "0 questions", "3 questions".
    count = len(intent.questions)
    if count == 1:
        template = N_(
            "intent '%(intent)s' has 1 example question; %(minimum)s or more, phrased "
            "differently, make matching much better"
        )
    else:
        template = N_(
            "intent '%(intent)s' has %(count)s example questions; %(minimum)s or more, phrased "
            "differently, make matching much better"
        )
    return Message(template, intent=intent.id, count=count, minimum=MIN_PHRASINGS)
