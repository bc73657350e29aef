"""A new session keeps the form in progress (bot/session_start.py), on Rasa's own action."""

from __future__ import annotations

import asyncio

from rasa.core.actions.action import ActionSessionStart
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.session_start import install_form_keeping_session_start

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  person_name: {type: text, mappings: [{type: custom}]}
  requested_slot: {type: text, mappings: [{type: custom}]}
forms:
  request_form: {required_slots: [person_name]}
session_config: {session_expiration_time: 60, carry_over_slots_to_new_session: true}
""")


def session_start(events) -> list:
    install_form_keeping_session_start()
    tracker = DialogueStateTracker.from_events("resident", events, slots=DOMAIN.slots)
    return asyncio.run(ActionSessionStart().run(None, None, tracker, DOMAIN))


def test_a_form_in_progress_is_active_again_in_the_new_session_with_its_slots():
    events = session_start([ActiveLoop("request_form"), SlotSet("requested_slot", "person_name")])
    assert isinstance(events[0], SessionStarted)
    assert SlotSet("requested_slot", "person_name") in events
    assert events[-2:] == [ActiveLoop("request_form"), ActionExecuted("action_listen")]


def test_without_a_form_the_new_session_is_rasas_own():
    events = session_start([SlotSet("person_name", "王秀英"), ActiveLoop(None)])
    assert not any(isinstance(e, ActiveLoop) for e in events)
    assert isinstance(events[0], SessionStarted) and events[-1] == ActionExecuted("action_listen")
