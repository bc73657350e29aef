"""A resident asks for a person: the conversation goes to the staff handoff inbox.

Outside staff hours (``STAFF_HOURS``) the resident is told when someone will answer; the
conversation waits in the inbox either way."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.common import channel_of, send
from actions.review_signals import record_review_signals
from actions.what_i_do import answer_what_i_do
from community.answers import Reply, service_answer
from community.catalogue import named_in_full
from community.db import utcnow
from community.handoff_keeper import HandoffKeeper
from community.offer_questions import offers_everything
from community.staff_hours import after_hours_notice
from community.textnorm import clean_text


async def hand_over(tracker: Tracker, *, reason: str, text: str, emergency: bool = False) -> None:
    """Put the conversation in the staff inbox; never raises (the outbox keeps it if the store
    can't, and delivers it when the store is back)."""
    rt = runtime.get()
    await HandoffKeeper(rt.store.handoffs, rt.outbox).keep(
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        reason=reason,
        text=text,
        emergency=emergency,
    )


# How residents ask for a person, misheard too (转人公, 工作人原); a message with none of these
# that the classifier took for a handoff may be a question after all.
_PERSON_WORDS = re.compile(
    r"(?i)人工|人公|人攻|人宫|真人|活人|工作人|工做人|客服|接线|当面|real person|human|staff|operator"
)


# How the reply to a resident who asked for a person begins, whichever path handed over.
HANDED_OVER = "好的，已为您转接社区工作人员"


class ActionHumanHandoff(Action):
    def name(self) -> str:
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        text = clean_text(tracker.latest_message.get("text") or "")
        if text and not text.startswith("/") and not _PERSON_WORDS.search(text):
            # 我要办个委托公正 人在外地回不来: a service named, no person asked for
            named = named_in_full(rt.catalogue.asked(text))
            if named:
                send(dispatcher, service_answer(named[0]))
                await record_review_signals(tracker, answered=True)
                return [SlotSet("unclear_count", 0.0)]
            if offers_everything(rt.catalogue, text):  # 你们社区有哪些服务，给我列一下
                return await answer_what_i_do(dispatcher, tracker)
        await hand_over(tracker, reason="asked", text=tracker.latest_message.get("text") or "")
        await record_review_signals(tracker, answered=False)  # a person asked for right after an answer
        later = after_hours_notice(rt.settings.staff_hours, utcnow())
        if later:
            reply = Reply(
                (
                    f"{HANDED_OVER}。",
                    later,
                    "紧急情况请直接拨打 110/120/119；"
                    f"其他事也可以在工作时间打 {rt.settings.community_phone}。",
                )
            )
        else:
            reply = Reply(
                (
                    f"{HANDED_OVER}，他们会在这里回复您，请稍等。",
                    f"也可以直接打 {rt.settings.community_phone}（{rt.settings.staff_hours}）。",
                )
            )
        send(dispatcher, reply)
        return [SlotSet("unclear_count", 0.0)]
