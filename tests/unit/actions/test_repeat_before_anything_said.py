"""听不清 before the assistant has said anything is about the speech itself: the resident is
told how to get slower, louder speech; 再说一遍 then still gets "nothing to repeat"."""

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionRepeat


def run_repeat(text):
    latest = {"text": text, "intent": {"name": "repeat", "confidence": 0.9}, "entities": []}
    user = {"event": "user", "text": text, "parse_data": latest}
    tracker = Tracker("web-resident-1", {}, latest, [user], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRepeat().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_cannot_hear_at_the_start_gets_the_slow_speech_answer():
    messages, events = run_repeat("声音太小了 听不见")
    assert messages[0]["custom"]["interface"] == "slow"
    assert {"event": "slot", "name": "slow_speech", "value": True, "timestamp": None} in events


def test_say_again_at_the_start_still_has_nothing_to_repeat():
    messages, events = run_repeat("再说一遍")
    assert [m.get("response") for m in messages] == ["utter_nothing_to_repeat"]
    assert events == []
