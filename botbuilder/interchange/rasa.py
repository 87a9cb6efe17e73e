"""Rasa training data: our intents as nlu.yml + domain.yml, and back.

Export writes, for one language, `nlu.yml` (intents with their examples),
`domain.yml` (intents and `utter_<intent>` responses, with goto buttons as
`/<intent>` payloads) and `rules.yml` (each intent answered by its response),
which together make a working FAQ in Rasa 3. Import reads `nlu.yml` and, for
the answers, `domain.yml`.

Lost in translation: a Rasa project has one language, so one is exported at
a time; `handoff` (buttons and teams) has no Rasa equivalent and becomes a
plain `/botbuilder_handoff` payload; `context_only` intents are exported
without examples. On import, entity annotations (`[Amsterdam](city)`) keep
their text only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from botbuilder.content.files import atomic_write, dump_yaml
from botbuilder.content.model import Bot
from botbuilder.errors import N_, ImportFileError
from botbuilder.interchange.entries import Entry
from botbuilder.interchange.limits import load_yaml
from botbuilder.interchange.problems import at

__all__ = ["export_rasa", "import_rasa"]

_ENTITY = re.compile(r"\[([^\]]+)\]\s*(?:\([^)]*\)|\{[^}]*\})")


def export_rasa(bot: Bot, out_dir: Path, language: str | None = None) -> list[Path]:
    """Write nlu.yml, domain.yml and rules.yml for one language; return the paths."""
    language = language or bot.settings.language
    intents = sorted(
        (i for (lang, _), i in bot.intents.items() if lang == language), key=lambda i: i.id
    )
    nlu = CommentedSeq()
    domain_intents = CommentedSeq()
    responses = CommentedMap()
    rules = CommentedSeq()
    for intent in intents:
        domain_intents.append(intent.id)
        if intent.questions and not intent.context_only:
            examples = "".join(f"- {q}\n" for q in intent.questions)
            nlu.append(CommentedMap(intent=intent.id, examples=LiteralScalarString(examples)))
        response = CommentedMap(text=LiteralScalarString(intent.answer.strip() + "\n"))
        buttons = CommentedSeq()
        for b in intent.buttons:
            if b.goto:
                buttons.append(CommentedMap(title=b.label, payload=f"/{b.goto}"))
            elif b.handoff:
                buttons.append(CommentedMap(title=b.label, payload="/botbuilder_handoff"))
            else:
                buttons.append(CommentedMap(title=b.label, url=b.url, payload=b.url))
        if buttons:
            response["buttons"] = buttons
        responses[f"utter_{intent.id}"] = CommentedSeq([response])
        rules.append(
            CommentedMap(
                rule=f"answer {intent.id}",
                steps=CommentedSeq(
                    [CommentedMap(intent=intent.id), CommentedMap(action=f"utter_{intent.id}")]
                ),
            )
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        out_dir / "nlu.yml": CommentedMap(version="3.1", nlu=nlu),
        out_dir / "domain.yml": CommentedMap(
            version="3.1", intents=domain_intents, responses=responses
        ),
        out_dir / "rules.yml": CommentedMap(version="3.1", rules=rules),
    }
    for path, data in files.items():
        atomic_write(
            path,
            f"# Exported by botbuilder from '{bot.settings.name}' ({language})\n" + dump_yaml(data),
        )
    return list(files)


def _answers(domain_path: Path) -> tuple[dict[str, str], list[str]]:
    """The first text of each `utter_<intent>` response, and the intents, of a domain.yml."""
    domain = load_yaml(domain_path) or {}
    responses = (domain.get("responses") or {}) if isinstance(domain, dict) else None
    intents = (domain.get("intents") or []) if isinstance(domain, dict) else None
    if not isinstance(responses, dict) or not isinstance(intents, list):
        not_domain = N_("not a Rasa domain (expected 'intents:' a list, 'responses:' a mapping)")
        raise ImportFileError([at(domain_path, not_domain)])
    answers: dict[str, str] = {}
    for name, variants in responses.items():
        variants = variants if isinstance(variants, list) else []
        texts = [v.get("text") for v in variants if isinstance(v, dict) and v.get("text")]
        if str(name).startswith("utter_") and texts:
            answers[str(name)[len("utter_") :]] = str(texts[0]).strip()
    return answers, [i for i in intents if isinstance(i, str)]


def _examples(raw: Any) -> list[str]:
    """The questions of one nlu item's `examples`: the "- question" lines of a block (or list)."""
    if isinstance(raw, str):
        lines = raw.splitlines()
    elif isinstance(raw, list):
        lines = [str(x) for x in raw if isinstance(x, str | int | float)]
    else:
        lines = []
    questions = (line.strip()[1:].strip() for line in lines if line.strip().startswith("-"))
    return [q for q in (_ENTITY.sub(r"\1", q) for q in questions) if q]


def import_rasa(nlu_path: Path, domain_path: Path | None, language: str) -> list[Entry]:
    """Entries from Rasa's nlu.yml and (for answers) domain.yml."""
    problems: list[str] = []
    nlu = load_yaml(nlu_path)
    if not isinstance(nlu, dict) or not isinstance(nlu.get("nlu"), list):
        not_nlu = N_("not Rasa NLU data (expected a top-level 'nlu:' list)")
        raise ImportFileError([at(nlu_path, not_nlu)])
    answers, domain_intents = _answers(domain_path) if domain_path is not None else ({}, [])
    entries: dict[str, Entry] = {}
    for n, item in enumerate(nlu["nlu"], start=1):
        if not isinstance(item, dict) or "intent" not in item:
            continue  # synonyms, regexes and lookup tables have no place in a FAQ bot
        intent = str(item["intent"])
        questions = _examples(item.get("examples"))
        if not questions:
            no_examples = N_("intent '%(intent)s' (item %(item)s) has no examples")
            problems.append(at(nlu_path, no_examples, intent=intent, item=n))
            continue
        entry = entries.setdefault(intent, Entry(intent, language))
        entry.questions.extend(questions)
    for intent, entry in entries.items():
        entry.answer = answers.get(intent, "")
        if not entry.answer:
            no_answer = N_(
                "intent '%(intent)s' has no response 'utter_%(intent)s' with a text; "
                "give domain.yml with the answers"
            )
            problems.append(at(domain_path or nlu_path, no_answer, intent=intent))
    # Intents reached only through buttons exist in the domain without examples:
    # they come back as context_only intents.
    for intent in domain_intents:
        if intent not in entries and intent in answers:
            entries[intent] = Entry(intent, language, [], answers[intent])
    if problems:
        raise ImportFileError(problems)
    return list(entries.values())
