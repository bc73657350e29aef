"""Questions outside the assistant's services (快递柜, 充电宝, 股票…): the resident hears what
the assistant can help with, and the question goes to the review queue under its own reason
(``out_of_scope``), so staff decide whether it is a community matter after all."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.answers import ActionAnswerEmergency, answer_interface_question
from actions.common import intent_ranking
from actions.review_signals import _scores, record_question, record_review_signals
from actions.what_i_do import answer_what_i_do
from community.answers import asks_about_the_interface
from community.danger import in_danger_now
from community.offer_questions import offers_everything
from community.textnorm import clean_text


class ActionAnswerOutOfScope(Action):
    def name(self) -> str:
        return "action_answer_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        if in_danger_now(text):  # 胸口闷得慌…是不是天太热: a heart attack, not the weather
            return await ActionAnswerEmergency().run(dispatcher, tracker, domain)
        plain = clean_text(text)
        if asks_about_the_interface(plain):  # 这玩意儿咋跟它唠嗑 按哪个键说话
            return answer_interface_question(dispatcher, tracker)
        if offers_everything(runtime.get().catalogue, plain):  # 恁能干啥？都能帮俺办啥事
            await answer_what_i_do(dispatcher, tracker)
            return []
        dispatcher.utter_message(response="utter_out_of_scope")
        await record_review_signals(tracker, answered=False)
        if text and not text.startswith("/"):
            await record_question(tracker, text, "out_of_scope", _scores(intent_ranking(tracker)))
        return []
