"""A message written only in English (a foreign spouse, a carer from abroad): danger, a person
asked for, the assistant's voice or text, or a service named in English is answered as its
Chinese would be, with one line in English; anything else still hears "only Chinese"."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.unclear import ActionHandleUnclear
from community.english_reading import EnglishAsk, english_ask


def reply(text):
    latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.25},
              "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.25}], "entities": []}
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest",
            "metadata": {"channel": "web"}}
    tracker = Tracker("web-resident-1", {}, latest, [user], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionHandleUnclear().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_danger_in_english_gets_the_numbers_first_and_alerts_staff(rt):
    messages = reply("Help! My husband hit me, I am scared, he is outside the door now")
    assert "请马上拨打 110" in messages[0]["text"].splitlines()[0]
    assert "call 110 (police)" in messages[-1]["text"]
    [alert] = rt.store.handoffs.list()
    assert alert["emergency"] and alert["reason"] == "emergency"


def test_a_person_asked_for_in_english_is_handed_over(rt):
    messages = reply("Can I talk to a real person please")
    assert "转接社区工作人员" in messages[0]["text"]
    assert "staff member will answer" in messages[-1]["text"]
    assert rt.store.handoffs.list()[0]["reason"] == "asked"


def test_voice_asked_about_in_english_gets_how_to_speak(rt):
    messages = reply("How to use voice? I can not type Chinese well")
    assert "按住说话" in messages[0]["text"] and "microphone" in messages[-1]["text"]
    assert not rt.store.handoffs.list()


def test_a_service_named_in_english_is_answered(rt):
    messages = reply("where can I get a wheelchair")
    assert messages[0]["text"].startswith("【辅助器具适配】")


def test_english_that_names_nothing_still_hears_only_chinese(rt):
    messages = reply("What's the best bubble tea shop around here?")
    assert "只能看懂中文" in messages[0]["text"] and len(messages) == 1
    assert not rt.store.handoffs.list()


@pytest.mark.parametrize(
    "text, ask",
    [
        ("Please help me! There is a fire in the kitchen", EnglishAsk.DANGER),
        ("my dad fell down and can't get up", EnglishAsk.DANGER),
        ("I smell gas in the corridor", EnglishAsk.DANGER),
        ("I want to speak to a staff member", EnglishAsk.PERSON),
        ("the text is too small, I can't read it", EnglishAsk.LARGE),
        ("please speak slower", EnglishAsk.SLOW),
        ("can you help me find a job", None),  # help, but no danger
        ("is there fire safety training", None),
        ("my son is a human resources manager", None),
    ],
)
def test_what_an_english_message_asks_for(text, ask):
    assert english_ask(text) is ask
