"""Helpers shared by the actions: reading the latest message, sending replies."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from community.answers import Reply
from community.handoff_keeper import STORE_TIMEOUT_S  # the reply never waits longer on the store
from community.two_questions import LIKELIEST_INTENTS

T = TypeVar("T")


async def in_store(call: Callable[..., T], /, **kwargs: Any) -> T:
    """``call(**kwargs)`` on a worker thread, given up after :data:`STORE_TIMEOUT_S`."""
    return await asyncio.wait_for(asyncio.to_thread(call, **kwargs), STORE_TIMEOUT_S)


def latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def channel_of(tracker: Tracker) -> str:
    """The resident's channel: metadata ``channel`` if the front end set it, else Rasa's."""
    event = latest_user_event(tracker)
    metadata = event.get("metadata") or {}
    return str(metadata.get("channel") or event.get("input_channel") or "unknown")


def entity_values(tracker: Tracker) -> Dict[str, Any]:
    """The first value of each entity in the latest message."""
    values: Dict[str, Any] = {}
    for entity in tracker.latest_message.get("entities") or []:
        values.setdefault(entity.get("entity"), entity.get("value"))
    return values


def intent_ranking(tracker: Tracker, exclude: str | None = "nlu_fallback") -> List[Dict]:
    ranking = tracker.latest_message.get("intent_ranking") or []
    return [r for r in ranking if r.get("name") != exclude]


def likeliest_intents(tracker: Tracker) -> List[str]:
    """The classifier's likeliest intents for the latest message, best first: what an ask of a
    two-ask message that names no service is read against."""
    return [str(r.get("name") or "") for r in intent_ranking(tracker)[:LIKELIEST_INTENTS]]


def send(dispatcher: CollectingDispatcher, reply: Reply, **kwargs: Any) -> None:
    dispatcher.utter_message(
        text=reply.text, buttons=[b.as_dict() for b in reply.buttons], **kwargs
    )


def last_bot_messages(tracker: Tracker) -> List[Dict[str, Any]]:
    """The assistant's last answer (its messages before the latest resident message)."""
    events = list(tracker.events)
    latest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    messages: List[Dict[str, Any]] = []
    for event in reversed(events[:latest_user]):
        if event.get("event") == "user" and messages:
            break
        if event.get("event") == "bot" and (event.get("text") or (event.get("data") or {}).get("buttons")):
            messages.insert(0, event)
    return messages
