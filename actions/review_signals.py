"""What else goes to the staff review queue besides fallbacks: every sign that an answer
missed, each with its reason (``community.records.review_queue.UNANSWERED_REASON_LABELS``).

Read from the conversation when the resident's next message arrives:

* ``low_confidence``: answered, but the classifier was less than :data:`LOW_CONFIDENCE` sure;
* ``clarification_abandoned``: asked "您是想问…还是…？", and the resident said something else;
* ``menu_abandoned``: offered a menu (请点选) and the resident typed another question instead;
* ``rephrased``: the resident asked again in other words within :data:`REPHRASE_WINDOW_S`
  (or said 我是说…/我问的是… right after the answer): the answer before missed, even if the
  assistant was sure of it (上门剃头 → the 上门养老服务 menu);
* ``asked_person``: the resident asked for a person right after an answer.

The question recorded is the one that was missed (the earlier one), with what the assistant
understood it as. A resident's repeats count once (the queue does that).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Tuple

from rasa_sdk import Tracker

from actions import runtime
from actions.common import channel_of, in_store, intent_ranking
from community.intents import SERVICE_INTENTS
from community.question_groups import features, question_key, similarity
from community.records.review_queue import IntentScore
from community.textnorm import MAX_MESSAGE_CHARS

log = logging.getLogger(__name__)

# Answered, but the classifier was less than this sure (the fallback threshold is 0.25).
LOW_CONFIDENCE = 0.5
CLARIFICATION_PREFIX = "您是想问「"
# A menu of options the resident is asked to tap (community.answers.domain_menu).
MENU_MARKERS = ("请点选", "您想问哪一项")
# The assistant's own "I could not answer" replies: already recorded when they were said.
NOT_ANSWERED_MARKERS = ("答不上来", "没能帮上", "帮不上忙", "看不懂", "请稍等")
# A new question this soon after an answer, and close in meaning, is the same one asked again.
REPHRASE_WINDOW_S = 60.0
REPHRASE_SIMILARITY = 0.5
# "I meant…": the resident corrects the assistant.
CORRECTION = re.compile(r"^(不是|不对|我是说|我说的是|我问的是|我是问|我要问的是|是问|我的意思是|我想问的是)")
# What a resident says after a good answer as well as a bad one: no sign of a miss.
CONTENT_FREE = ("thank", "affirm", "goodbye", "greet", "deny", "repeat", "slower", "interface_help")


def _scores(ranking: List[Dict[str, Any]]) -> List[IntentScore]:
    return [
        IntentScore(r["name"], min(1.0, max(0.0, float(r.get("confidence", 0.0)))))
        for r in ranking[:3]
        if r.get("name") and r.get("name") != "nlu_fallback"
    ]


def _turns(tracker: Tracker) -> Tuple[Dict[str, Any], List[Dict[str, Any]], Dict[str, Any]] | None:
    """(the resident's previous message, the assistant's replies to it, the latest message)."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return None
    latest, previous = users[-1], users[-2]
    bots = [e for e in events[previous:latest] if e.get("event") == "bot"]
    return events[previous], bots, events[latest]


def _ranking(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    ranking = (event.get("parse_data") or {}).get("intent_ranking") or []
    return [r for r in ranking if r.get("name") != "nlu_fallback"]


def _intent(event: Dict[str, Any]) -> str:
    return str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")


def abandoned_clarification(tracker: Tracker) -> Tuple[str, List[Dict[str, Any]]] | None:
    """The question the assistant asked to clarify, if the resident's latest message ignored
    the clarification buttons: (the original question, its intent ranking)."""
    turns = _turns(tracker)
    if turns is None or (tracker.latest_message.get("text") or "").startswith("/"):
        return None
    original, bots, _ = turns
    if not bots or not str(bots[-1].get("text") or "").startswith(CLARIFICATION_PREFIX):
        return None
    return str(original.get("text") or ""), _ranking(original)


def missed_answer(tracker: Tracker) -> Tuple[str, str, List[Dict[str, Any]]] | None:
    """The resident's latest message shows the answer before it missed: (that question, the
    reason, its ranking) — a menu left for another question, the question asked again in other
    words within a minute, or a person asked for right after the answer."""
    turns = _turns(tracker)
    if turns is None:
        return None
    previous, bots, latest = turns
    asked = str(previous.get("text") or "")
    text = str(latest.get("text") or "")
    replies = [str(b.get("text") or "") for b in bots]
    if not asked or asked.startswith("/") or not replies or not any(replies):
        return None  # a tapped button, or nothing was answered
    said = "\n".join(replies)
    if said.startswith(CLARIFICATION_PREFIX) or any(m in said for m in NOT_ANSWERED_MARKERS):
        return None  # a clarification (its own signal) or a miss recorded when it was said
    intent, before = _intent(latest), _intent(previous)
    if intent == "human_handoff" and before != "human_handoff":
        return asked, "asked_person", _ranking(previous)
    if text.startswith("/") or intent in CONTENT_FREE and not CORRECTION.match(text):
        return None
    try:
        seconds = float(latest.get("timestamp") or 0) - float(previous.get("timestamp") or 0)
    except (TypeError, ValueError):
        seconds = REPHRASE_WINDOW_S + 1
    close = similarity(features(question_key(asked)), features(question_key(text)))
    if seconds <= REPHRASE_WINDOW_S and (CORRECTION.match(text) or close >= REPHRASE_SIMILARITY):
        return asked, "rephrased", _ranking(previous)
    if any(m in said for m in MENU_MARKERS) and intent != before:
        return asked, "menu_abandoned", _ranking(previous)
    return None


def review_signals(tracker: Tracker, *, answered: bool) -> List[Tuple[str, str, List[IntentScore]]]:
    found = []
    abandoned = abandoned_clarification(tracker)
    if abandoned and abandoned[0]:
        found.append((abandoned[0], "clarification_abandoned", _scores(abandoned[1])))
    else:
        missed = missed_answer(tracker)
        if missed:
            found.append((missed[0], missed[1], _scores(missed[2])))
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    confidence = float(intent.get("confidence") or 0.0)
    if (
        answered
        and intent.get("name") in SERVICE_INTENTS
        and confidence < LOW_CONFIDENCE
        and text
        and not text.startswith("/")
    ):
        found.append((text, "low_confidence", _scores(intent_ranking(tracker))))
    return found


async def record_question(
    tracker: Tracker, text: str, reason: str, scores: List[IntentScore], domain: str | None = None
) -> None:
    """Put one question in the review queue; a store that is away never stops an answer."""
    try:
        await in_store(
            runtime.get().store.review_queue.record, text=text[:MAX_MESSAGE_CHARS],
            channel=channel_of(tracker), conversation_id=tracker.sender_id, reason=reason,
            top_intents=scores, domain=domain,
        )
    except Exception as err:  # noqa: BLE001 - the resident's answer matters more
        log.warning("Review queue not reachable (%s); %s not recorded", type(err).__name__, reason)


async def record_review_signals(tracker: Tracker, *, answered: bool) -> None:
    """Put them in the review queue; a store that is away never stops an answer."""
    for text, reason, scores in review_signals(tracker, answered=answered):
        await record_question(tracker, text, reason, scores)
