"""Every miss reaches the review queue with its reason (issue 17): the actions run with
CollectingDispatcher and trackers built from dicts; what is asserted is what reaches the store."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerElderly
from actions.handoff import ActionHumanHandoff
from actions.out_of_scope import ActionAnswerOutOfScope
from actions.unclear import ActionHandleUnclear
from community.question_groups import group_questions, same_question

T0 = 1_760_000_000.0


def user(text, intent, confidence=0.95, at=T0, ranking=None):
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    return {
        "event": "user",
        "text": text,
        "parse_data": parse,
        "timestamp": at,
        "input_channel": "rest",
        "metadata": {"channel": "web"},
    }


def bot(text, buttons=()):
    return {
        "event": "bot",
        "text": text,
        "data": {"buttons": [{"title": b, "payload": "/x"} for b in buttons]},
    }


def tracker(*events, sender="web-capture"):
    latest = [e for e in events if e["event"] == "user"][-1]
    return Tracker(sender, {}, latest["parse_data"], list(events), False, None, {}, "action_listen")


def run(action, trk):
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, trk, {}))
    return dispatcher.messages


def queued(rt):
    return {(r["text"], r["reason"]) for r in rt.store.review_queue.pending()}


def test_out_of_scope_is_answered_and_recorded_under_its_own_reason(rt):
    messages = run(ActionAnswerOutOfScope(), tracker(user("小区快递柜在哪里", "out_of_scope", 0.7)))
    assert messages[0]["response"] == "utter_out_of_scope"
    [row] = rt.store.review_queue.pending()
    assert (row["text"], row["reason"]) == ("小区快递柜在哪里", "out_of_scope")
    assert row["top_intents"][0]["name"] == "out_of_scope"


def test_a_rephrase_within_a_minute_records_the_confident_answer_that_missed(rt):
    trk = tracker(
        user("上门剃头", "elderly_homecare", 0.97),
        bot("关于「上门养老服务」，您想问哪一项？请点选：", ["上门助浴", "上门助洁"]),
        user("我是说上门理发", "elderly_homecare", 0.9, at=T0 + 20),
    )
    run(ActionAnswerElderly(), trk)
    assert ("上门剃头", "rephrased") in queued(rt)
    [row] = [r for r in rt.store.review_queue.pending() if r["text"] == "上门剃头"]
    assert row["top_intents"][0] == {"name": "elderly_homecare", "confidence": 0.97}


def test_the_same_words_again_a_minute_later_are_not_a_rephrase_but_a_new_question_is_fine(rt):
    trk = tracker(
        user("高龄津贴怎么申请", "elderly_allowance"),
        bot("【高龄津贴】社区服务中心一楼，周一至周五"),
        user("要带什么材料", "elderly_allowance", at=T0 + 20),
    )
    run(ActionAnswerElderly(), trk)
    assert queued(rt) == set()  # a follow-up question is not a miss


def test_a_menu_left_for_another_question_is_recorded(rt):
    trk = tracker(
        user("老人能不能在家剪头发", "elderly_homecare", 0.67),
        bot("关于「上门养老服务」，您想问哪一项？请点选：", ["上门助浴", "上门助洁"]),
        user("物业费一年多少钱", "out_of_scope", 0.45, at=T0 + 300),
    )
    run(ActionAnswerOutOfScope(), trk)
    assert ("老人能不能在家剪头发", "menu_abandoned") in queued(rt)
    assert ("物业费一年多少钱", "out_of_scope") in queued(rt)


def test_a_person_asked_for_right_after_an_answer_records_the_question(rt):
    trk = tracker(
        user("楼上漏水找谁", "complaint_report", 0.97),
        bot("【漏水反映】请打物业电话"),
        user("转人工", "human_handoff", 0.99, at=T0 + 15),
    )
    run(ActionHumanHandoff(), trk)
    assert ("楼上漏水找谁", "asked_person") in queued(rt)


def test_a_clarification_ignored_is_recorded_with_the_original_ranking(rt):
    ranking = [{"name": "legal_aid", "confidence": 0.4}, {"name": "legal_mediation", "confidence": 0.35}]
    trk = tracker(
        user("邻居吵架了怎么办", "nlu_fallback", 0.4, ranking=ranking),
        bot("您是想问「法律援助」，还是「调解纠纷」？", ["法律援助", "调解纠纷", "都不是"]),
        user("算了你说不清楚", "out_of_scope", 0.6, at=T0 + 10),
    )
    run(ActionAnswerOutOfScope(), trk)
    assert ("邻居吵架了怎么办", "clarification_abandoned") in queued(rt)


def test_a_fallback_is_recorded_and_one_resident_asking_again_counts_once(rt):
    first = tracker(user("社区有没有共享充电宝", "nlu_fallback", 0.25))
    run(ActionHandleUnclear(), first)
    again = tracker(user("请问社区有没有共享充电宝？", "nlu_fallback", 0.25))
    run(ActionHandleUnclear(), again)
    other = tracker(user("社区有没有共享充电宝", "nlu_fallback", 0.25), sender="web-other")
    run(ActionHandleUnclear(), other)
    rows = rt.store.review_queue.pending()
    assert sorted(r["conversation_id"] for r in rows) == ["web-capture", "web-other"]
    assert {r["reason"] for r in rows} == {"fallback"}


def test_a_thumbs_down_from_a_kiosk_key_counts_once_with_a_button_thumbs_down(rt):
    ratings = rt.store.ratings
    ratings.record(
        conversation_id="kiosk-1",
        channel="kiosk",
        question="助餐有没有糖尿病餐",
        answer="【老年助餐】…",
        rating="down",
    )
    ratings.record(
        conversation_id="kiosk-1",
        channel="kiosk",
        question="助餐有没有糖尿病餐？",
        answer="【老年助餐】…",
        rating="down",
    )
    rows = rt.store.review_queue.pending()
    assert [(r["text"], r["reason"], r["channel"]) for r in rows] == [
        ("助餐有没有糖尿病餐", "rated_down", "kiosk")
    ]


def test_three_paraphrases_of_one_question_form_one_group():
    rows = [
        {"id": i, "text": t, "created_at": None, "channel": "web", "top_intents": [], "reason": "fallback"}
        for i, t in enumerate(
            [
                "有没有上门理发",
                "想约个理发师上门",
                "老人能不能在家剪头发",
                "快递柜在哪里",
                "小区快递柜在什么地方",
                "丰巢快递柜在哪",
                "字太小了",
                "字太小了看不清",
                "高龄津贴什么时候发",
            ],
            start=1,
        )
    ]
    groups = {tuple(g.ids) for g in group_questions(rows)}
    assert groups == {(1, 2, 3), (4, 5, 6), (7, 8), (9,)}
    assert same_question("上门剃头", "我要上门理发")
