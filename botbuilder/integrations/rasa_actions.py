"""botbuilder's FAQ answers inside an existing Rasa assistant (rasa-sdk actions).

`botbuilder actions FLOWS_DIR` runs rasa-sdk's own action server with
`action_botbuilder_faq` registered. Rasa calls it (for example from a rule on
`nlu_fallback`); it reads the latest user message, runs botbuilder's matcher
and decision, and answers through the dispatcher:

- answer: the intent's answer and its buttons;
- clarify: "Bedoelde je…?" with the options as buttons;
- handoff: the handoff message, `SlotSet` events for the team and the
  question, and `ConversationPaused`, so a human can take over in Rasa X /
  the channel.

Buttons carry Rasa's `/intent{"entity": "value"}` payloads: the domain adds
the intents `botbuilder_goto` and `botbuilder_handoff`, routed by rules back to
this action (see the README's "Using botbuilder with Rasa").

What to reply is decided by `botbuilder.conversations.turns.reply`, the same
policy the widget's dialogue uses; this module only speaks it in Rasa's terms.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from botbuilder.config import instance_path
from botbuilder.content.languages import guess_language
from botbuilder.content.model import Bot, Button
from botbuilder.content.texts import system_text
from botbuilder.conversations.turns import PERSON_REQUEST, Outcome, Reply, chosen, reply
from botbuilder.matching.runtime import BotRuntime
from botbuilder.matching.understanding import understand

__all__ = ["ActionBotbuilderFaq", "configure", "GOTO_INTENT", "HANDOFF_INTENT", "ENTITY"]

GOTO_INTENT = "botbuilder_goto"
HANDOFF_INTENT = "botbuilder_handoff"
ENTITY = "botbuilder_intent"
FLOWS_VARIABLE = "BOTBUILDER_FLOWS_DIR"

_runtime: BotRuntime | None = None
_lock = threading.Lock()


def configure(flows_dir: str | os.PathLike[str]) -> None:
    """Name the bot the action answers with; worker processes read it from the environment."""
    os.environ[FLOWS_VARIABLE] = str(Path(flows_dir).resolve())


def _current() -> BotRuntime:
    global _runtime
    with _lock:
        if _runtime is None:
            flows = os.environ.get(FLOWS_VARIABLE, "flows")
            _runtime = BotRuntime(flows, cache_path=instance_path() / "embeddings.sqlite")
        return _runtime


def goto_payload(intent_id: str) -> str:
    return f"/{GOTO_INTENT}{json.dumps({ENTITY: intent_id})}"


class ActionBotbuilderFaq(Action):
    """Answer the latest user message from botbuilder's flows."""

    def name(self) -> str:
        return "action_botbuilder_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        loaded = _current().current()
        bot = loaded.bot
        latest = tracker.latest_message or {}
        text = str(latest.get("text") or "").strip()
        rasa_intent = (latest.get("intent") or {}).get("name")
        language = self._language(tracker, bot, text)

        match = None
        if rasa_intent == HANDOFF_INTENT:
            match = PERSON_REQUEST
        elif rasa_intent == GOTO_INTENT:
            target = next(
                (e.get("value") for e in latest.get("entities") or [] if e.get("entity") == ENTITY),
                None,
            )
            if target and bot.intent(str(target), language) is not None:
                match = chosen(str(target))
        if match is None:
            if not text:
                dispatcher.utter_message(text=system_text("greeting", language))
                return []
            match = understand(loaded.matcher, text)
        return _say(dispatcher, reply(bot, match, language, datetime.now(UTC)), text)

    @staticmethod
    def _language(tracker: Tracker, bot: Bot, text: str) -> str:
        slot = tracker.slots.get("language") if isinstance(tracker.slots, dict) else None
        if isinstance(slot, str) and slot in bot.languages:
            return slot
        return guess_language(text, bot.languages) or bot.settings.language


def _say(dispatcher: CollectingDispatcher, answer: Reply, question: str) -> list[EventType]:
    """Utter the reply through Rasa; a handoff pauses the conversation for a human."""
    events: list[EventType] = []
    if answer.outcome == Outcome.CLARIFY:
        dispatcher.utter_message(text=answer.text, buttons=_buttons(answer.buttons))
        events.append(SlotSet("botbuilder_intent", None))
    elif answer.text:
        # Rasa buttons carry a payload only; links go into the text as Markdown.
        links = [f"[{b.label}]({b.url})" for b in answer.buttons if b.url]
        text = answer.text.strip()
        if links:
            text += "\n\n" + "\n".join(links)
        dispatcher.utter_message(text=text, buttons=_buttons(answer.buttons) or None)
        events.append(SlotSet("botbuilder_intent", answer.intent))
    if answer.handoff is not None:
        if answer.handoff.text:
            dispatcher.utter_message(text=answer.handoff.text)
        events += [
            SlotSet("botbuilder_handoff_team", answer.handoff.team),
            SlotSet("botbuilder_question", question),
            ConversationPaused(),
        ]
    return events


def _buttons(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    """Quick replies as Rasa payloads that route back to this action; links are left out."""
    payloads = []
    for button in buttons:
        if button.goto:
            payloads.append({"title": button.label, "payload": goto_payload(button.goto)})
        elif button.handoff:
            payloads.append({"title": button.label, "payload": f"/{HANDOFF_INTENT}"})
    return payloads
