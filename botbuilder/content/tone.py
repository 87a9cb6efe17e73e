"""Tone of voice: a Dutch bot says *je* or *u* to members, and keeps to it.

Dutch communities choose one form of address and a member notices when an
answer slips into the other. The form is told by its pronouns: *je, jij,
jou, jouw, jezelf, jullie* against *u, uw, uzelf*. Two look-alikes are not
pronouns and are skipped: *u* right after a number is an hour ("om 9 u"),
and a single letter in quotes, before a hyphen or after "letter" is a letter
("de U-bocht", "de letter u"); "U2" is a name.

`check` (through `advise`) also warns about answers far longer than the
bot's usual ones, and about answers to how-to questions that give the
member no next step: no link, no button, no e-mail address, no instruction.
Each warning is a `Message` (errors.py), so the editor can show it in Dutch.
"""

from __future__ import annotations

import re
from pathlib import Path
from statistics import median

from botbuilder.content.loader import display_path
from botbuilder.content.model import Bot, Intent
from botbuilder.errors import N_, FlowProblem, Message, Phrase

__all__ = ["INFORMAL", "FORMAL", "address_forms", "classify", "tone_advice"]

INFORMAL = frozenset({"je", "jij", "jou", "jouw", "jouwe", "jezelf", "jijzelf", "jullie"})
FORMAL = frozenset({"u", "uw", "uwe", "uzelf"})
# An answer this many times longer than the bot's median answer is a wall of text in a chat.
LONG_FACTOR = 3
LONG_MINIMUM = 400  # characters; short bots may have short medians, don't nag about 120

# Whole words only: "U2" and "A4" are names, not a word followed by a number.
_WORD = re.compile(r"(?<![\w])[^\W\d_]+(?:'[^\W\d_]+)?(?![\w])", re.UNICODE)
_HOUR = re.compile(r"\d\s*$")  # "om 9 u": an hour, not "you"
_LETTER_AFTER = re.compile(r"^(?:-|['\"’”])")  # "U-bocht", "de letter 'u'"
_LETTER_BEFORE = re.compile(r"(?:['\"‘“]|\bletter\s)$", re.IGNORECASE)
# Questions that ask how to do something: their answer should say what to do next.
# "Hoeveel kost het?" and "How much is it?" ask for a fact, not for what to do.
_TASK_QUESTION = re.compile(
    r"^\s*(hoe(?!\s*(veel|duur|laat|lang|groot|oud|vaak)\b)|waar kan|waar moet|kan ik|mag ik|"
    r"wat moet ik|how(?!\s+(much|many|long|old|late|often)\b)|where can|can i|what do i)\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"https?://|\]\(|www\.|@[\w-]+\.", re.IGNORECASE)
# Instruction verbs a next step starts with, as imperative (je) or with u ("gaat u naar").
_INSTRUCTION = re.compile(
    r"\b(ga|gaat|klik|klikt|kies|kiest|stuur|stuurt|mail|mailt|bel|belt|vul|vult|log|logt|"
    r"open|opent|download|downloadt|meld|meldt|schrijf|schrijft|betaal|betaalt|kijk|kijkt|"
    r"neem|neemt|lees|leest|vraag|vraagt|maak|maakt|zet|pas|past|voeg|voegt|wijzig|wijzigt|"
    r"zoek|zoekt|go|click|choose|send|call|fill|open|visit|sign|write|pay|contact)\b",
    re.IGNORECASE,
)


def address_forms(text: str) -> tuple[int, int]:
    """How often `text` says *je* (informal) and *u* (formal) to the reader."""
    informal = formal = 0
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word in INFORMAL:
            informal += 1
        elif word in FORMAL and not _not_a_pronoun(text, match.start(), match.end()):
            formal += 1
    return informal, formal


def _not_a_pronoun(text: str, start: int, end: int) -> bool:
    if len(text[start:end]) != 1:
        return False
    before, after = text[:start], text[end:]
    return bool(_HOUR.search(before) or _LETTER_AFTER.match(after) or _LETTER_BEFORE.search(before))


def classify(sentence: str) -> str:
    """ "je", "u", "mixed" or "neutral": the form of address a sentence uses."""
    informal, formal = address_forms(sentence)
    if informal and formal:
        return "mixed"
    return "je" if informal else "u" if formal else "neutral"


def tone_advice(bot: Bot) -> list[FlowProblem]:
    """Warnings about Dutch answers off the bot's tone, too long, or without a next step."""
    problems: list[FlowProblem] = []
    address = bot.settings.tone_address
    answers = [i for i in bot.intents.values() if i.answer.strip()]
    typical = median(len(i.answer) for i in answers) if answers else 0
    for intent in answers:
        if intent.language == "nl" and address:
            problems.extend(_address_problems(intent, address))
        if len(intent.answer) > max(LONG_FACTOR * typical, LONG_MINIMUM):
            problems.append(
                _warning(
                    intent,
                    Message(
                        N_(
                            "the answer of '%(intent)s' is %(length)s characters, over "
                            "%(factor)s× the bot's usual %(typical)s; members read chats on a "
                            "phone: keep the core in a few lines and link to the rest"
                        ),
                        intent=intent.id,
                        length=len(intent.answer),
                        factor=LONG_FACTOR,
                        typical=int(typical),
                    ),
                )
            )
        if _is_task(intent) and not _has_next_step(intent):
            problems.append(
                _warning(
                    intent,
                    Message(
                        N_(
                            "'%(intent)s' answers a how-to question without a next step; add a "
                            "link, a button or an instruction such as 'Ga naar …' or 'Stuur een "
                            "mail naar …'"
                        ),
                        intent=intent.id,
                    ),
                )
            )
    return problems


def _address_problems(intent: Intent, address: str) -> list[FlowProblem]:
    informal, formal = address_forms(intent.answer)
    if informal and formal:
        return [
            _warning(
                intent,
                Message(
                    N_(
                        "the answer of '%(intent)s' mixes 'je' and 'u'; this bot says "
                        "'%(address)s' (tone.address in bot.yml)"
                    ),
                    intent=intent.id,
                    address=address,
                ),
            )
        ]
    wrong = formal if address == "je" else informal
    if not wrong:
        return []
    if address == "je":
        other, example = "u", Phrase(N_("'u' and 'uw'"))
    else:
        other, example = "je", Phrase(N_("'je', 'jij' and 'jouw'"))
    return [
        _warning(
            intent,
            Message(
                N_(
                    "the answer of '%(intent)s' says '%(other)s' but this bot says "
                    "'%(address)s' (tone.address in bot.yml); rewrite %(example)s"
                ),
                intent=intent.id,
                other=other,
                address=address,
                example=example,
            ),
        )
    ]


def _is_task(intent: Intent) -> bool:
    questions = intent.questions
    return bool(questions) and sum(bool(_TASK_QUESTION.match(q)) for q in questions) * 2 >= len(
        questions
    )


def _has_next_step(intent: Intent) -> bool:
    return bool(intent.buttons or _LINK.search(intent.answer) or _INSTRUCTION.search(intent.answer))


def _warning(intent: Intent, message: Message) -> FlowProblem:
    return FlowProblem(display_path(Path(intent.source)), intent.line, 5, message, "warning")
