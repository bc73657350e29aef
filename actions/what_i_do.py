"""What the assistant helps with, for a resident who asks what it does at all ("恁能干啥？都能帮俺
办啥事", "你们社区有哪些服务，给我列一下"), whatever the message was taken for: unclear, out of
scope or a handoff."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.review_signals import record_review_signals


async def answer_what_i_do(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The domains the assistant helps with, as buttons: an answered question, nothing for
    staff to review."""
    dispatcher.utter_message(response="utter_what_i_do")
    await record_review_signals(tracker, answered=True)
    return [SlotSet("unclear_count", 0.0)]
