"""Conversation helpers: repeat the last answer, or say it more slowly."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_interface_question
from actions.common import last_bot_messages
from community.answers import asks_for_voice_input, interface_kind
from community.textnorm import clean_text


def _resend(dispatcher: CollectingDispatcher, tracker: Tracker, **extra: Any) -> bool:
    messages = last_bot_messages(tracker)
    for event in messages:
        data = event.get("data") or {}
        dispatcher.utter_message(text=event.get("text"), buttons=data.get("buttons") or [], **extra)
    return bool(messages)


class ActionRepeat(Action):
    def name(self) -> str:
        return "action_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if _resend(dispatcher, tracker):
            return []
        text = clean_text(tracker.latest_message.get("text") or "")
        if interface_kind(text) == "slow":  # 听不清 before anything was said: the speech itself
            return answer_interface_question(dispatcher, tracker)
        dispatcher.utter_message(response="utter_nothing_to_repeat")
        return []


class ActionSlower(Action):
    """Slower speech for the rest of the conversation; the voice channels read the slot and
    the ``speech_rate`` hint, and the last answer is said again."""

    def name(self) -> str:
        return "action_slower"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if asks_for_voice_input(clean_text(tracker.latest_message.get("text") or "")):
            return answer_interface_question(dispatcher, tracker)  # how do I use voice? 我打字慢
        dispatcher.utter_message(response="utter_slower", json_message={"speech_rate": "slow"})
        if not _resend(dispatcher, tracker, json_message={"speech_rate": "slow"}):
            dispatcher.utter_message(response="utter_ask_what")
        return [SlotSet("slow_speech", True)]
