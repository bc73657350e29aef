"""What else goes to the staff review queue besides fallbacks and 👎: answers given with low
confidence, and clarifications the resident abandoned (asked "您是想问…还是…？", then said
something else instead of choosing)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Tracker

from actions import runtime
from actions.common import channel_of, in_store, intent_ranking
from community.intents import SERVICE_INTENTS
from community.records.review_queue import IntentScore
from community.textnorm import MAX_MESSAGE_CHARS

log = logging.getLogger(__name__)

# Answered, but the classifier was less than this sure (the fallback threshold is 0.25).
LOW_CONFIDENCE = 0.5
CLARIFICATION_PREFIX = "您是想问「"


def _scores(ranking: List[Dict[str, Any]]) -> List[IntentScore]:
    return [IntentScore(r["name"], float(r.get("confidence", 0.0))) for r in ranking[:3] if r.get("name")]


def abandoned_clarification(tracker: Tracker) -> Tuple[str, List[Dict[str, Any]]] | None:
    """The question the assistant asked to clarify, if the resident's latest message ignored
    the clarification buttons: (the original question, its intent ranking)."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2 or (tracker.latest_message.get("text") or "").startswith("/"):
        return None
    latest, previous = users[-1], users[-2]
    bots = [e for e in events[previous:latest] if e.get("event") == "bot"]
    if not bots or not str(bots[-1].get("text") or "").startswith(CLARIFICATION_PREFIX):
        return None
    original = events[previous]
    ranking = (original.get("parse_data") or {}).get("intent_ranking") or []
    return str(original.get("text") or ""), [r for r in ranking if r.get("name") != "nlu_fallback"]


def review_signals(tracker: Tracker, *, answered: bool) -> List[Tuple[str, str, List[IntentScore]]]:
    found = []
    abandoned = abandoned_clarification(tracker)
    if abandoned and abandoned[0]:
        found.append((abandoned[0], "clarification_abandoned", _scores(abandoned[1])))
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    confidence = float(intent.get("confidence") or 0.0)
    if answered and intent.get("name") in SERVICE_INTENTS and confidence < LOW_CONFIDENCE and text:
        found.append((text, "low_confidence", _scores(intent_ranking(tracker))))
    return found


async def record_review_signals(tracker: Tracker, *, answered: bool) -> None:
    """Put them in the review queue; a store that is away never stops an answer."""
    signals = review_signals(tracker, answered=answered)
    if not signals:
        return
    store = runtime.get().store
    for text, reason, scores in signals:
        try:
            await in_store(
                store.review_queue.record, text=text[:MAX_MESSAGE_CHARS], channel=channel_of(tracker),
                conversation_id=tracker.sender_id, reason=reason, top_intents=scores,
            )
        except Exception as err:
            log.warning("Review queue not reachable (%s); %s not recorded", type(err).__name__, reason)
