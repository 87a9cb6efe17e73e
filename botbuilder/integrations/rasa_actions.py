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
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from botbuilder.content.languages import guess_language
from botbuilder.content.model import Bot, Intent
from botbuilder.content.texts import system_text
from botbuilder.conversations.office_hours import handoff_text
from botbuilder.conversations.store import utcnow
from botbuilder.matching.matcher import ANSWER, CLARIFY
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
            instance = Path(os.environ.get("BOTBUILDER_INSTANCE_PATH", "instance"))
            _runtime = BotRuntime(flows, cache_path=instance / "embeddings.sqlite")
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

        if rasa_intent == HANDOFF_INTENT:
            return self._handoff(dispatcher, bot, language, "member_request", text, None)
        if rasa_intent == GOTO_INTENT:
            target = next(
                (e.get("value") for e in latest.get("entities") or [] if e.get("entity") == ENTITY),
                None,
            )
            intent = bot.intent(str(target), language) if target else None
            if intent is not None:
                return self._answer(dispatcher, bot, intent, language, text)
        if not text:
            dispatcher.utter_message(text=system_text("greeting", language))
            return []

        match = understand(loaded.matcher, text)
        if match.decision == ANSWER and match.intent:
            intent = bot.intent(match.intent, language)
            assert intent is not None
            return self._answer(dispatcher, bot, intent, language, text)
        if match.decision == CLARIFY:
            buttons = []
            for option in match.options:
                intent = bot.intent(option, language)
                if intent is not None:
                    title = intent.questions[0] if intent.questions else intent.id
                    buttons.append({"title": title, "payload": goto_payload(option)})
            buttons.append(
                {"title": system_text("something_else", language), "payload": f"/{HANDOFF_INTENT}"}
            )
            dispatcher.utter_message(text=system_text("clarify", language), buttons=buttons)
            return [SlotSet("botbuilder_intent", None)]
        reason = "member_request" if match.intent is None else "low_confidence"
        return self._handoff(dispatcher, bot, language, reason, text, None)

    @staticmethod
    def _language(tracker: Tracker, bot: Bot, text: str) -> str:
        slot = tracker.slots.get("language") if isinstance(tracker.slots, dict) else None
        if isinstance(slot, str) and slot in bot.languages:
            return slot
        return guess_language(text, bot.languages) or bot.settings.language

    def _answer(
        self, dispatcher: CollectingDispatcher, bot: Bot, intent: Intent, language: str, text: str
    ) -> list[EventType]:
        answer = intent.answer.strip()
        # Rasa buttons carry a payload only; links go into the text as Markdown.
        links = [f"[{b.label}]({b.url})" for b in intent.buttons if b.url]
        if links:
            answer += "\n\n" + "\n".join(links)
        buttons = []
        for button in intent.buttons:
            if button.goto:
                buttons.append({"title": button.label, "payload": goto_payload(button.goto)})
            elif button.handoff:
                buttons.append({"title": button.label, "payload": f"/{HANDOFF_INTENT}"})
        dispatcher.utter_message(text=answer, buttons=buttons or None)
        events: list[EventType] = [SlotSet("botbuilder_intent", intent.id)]
        if intent.handoff_team is not None:
            events += self._handoff(
                dispatcher, bot, language, "intent", text, intent.handoff_team, acknowledged=True
            )
        return events

    @staticmethod
    def _handoff(
        dispatcher: CollectingDispatcher,
        bot: Bot,
        language: str,
        reason: str,
        question: str,
        team: str | None,
        acknowledged: bool = False,
    ) -> list[EventType]:
        team = team or bot.settings.handoff.default_team
        message = handoff_text(bot, team, language, reason, utcnow())
        if not acknowledged or message != system_text("handoff", language):
            dispatcher.utter_message(text=message)
        return [
            SlotSet("botbuilder_handoff_team", team),
            SlotSet("botbuilder_question", question),
            ConversationPaused(),
        ]
