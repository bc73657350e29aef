"""Actions run with CollectingDispatcher and trackers built from dicts; assertions are on what
the resident reads and on what reaches the store."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (
    ActionAnswerCert,
    ActionAnswerChildcare,
    ActionAnswerElderly,
    ActionAnswerEmergency,
    ActionInterfaceHelp,
)
from actions.conversation import ActionRepeat, ActionSlower
from actions.handoff import ActionHumanHandoff
from actions.out_of_scope import ActionAnswerOutOfScope
from actions.unclear import ActionHandleUnclear


def tracker(text, intent, confidence=0.95, ranking=None, entities=None, events=(), slots=None):
    ranking = ranking or [{"name": intent, "confidence": confidence}]
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "intent_ranking": ranking, "entities": entities or []}
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest",
            "metadata": {"channel": "web"}}
    return Tracker("web-resident-1", slots or {}, latest, [*events, user], False, None, {}, "action_listen")


def run(action, trk):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, {}))
    return dispatcher.messages, events


def test_named_service_is_answered_in_three_lines(rt):
    messages, _ = run(ActionAnswerElderly(), tracker("我妈八十二了高龄津贴咋领", "elderly_allowance",
                      entities=[{"entity": "service", "value": "高龄津贴"}]))
    [message] = messages
    assert message["text"].startswith("【高龄津贴】")
    assert len(message["text"].splitlines()) <= 3
    assert any(b["title"] == "找人工" for b in message["buttons"])


def test_retired_certificate_gets_no_and_where_to_go(rt):
    messages, _ = run(ActionAnswerCert(), tracker("居委会能开无犯罪证明吗", "cert_apply"))
    assert messages[0]["text"].startswith("居委会现在不开「无犯罪记录证明」")
    assert "派出所" in messages[0]["text"]


def test_question_without_a_service_gets_a_menu(rt):
    messages, _ = run(ActionAnswerElderly(), tracker("我想问问养老方面的事", "elderly_daycare"))
    text = messages[0]["text"]
    assert text.startswith("关于") and "请点选" in text
    assert len(messages[0]["buttons"]) >= 3


def test_the_big_button_menu_reaches_every_service_and_starts_no_form_unannounced(rt, catalogue):
    """养老服务 (a big button) lists the most-asked kinds first, 高龄津贴 among them, with 更多…
    for the rest; no unexplained 在线办理 (it starts the 助餐 form) above the services."""
    seen, payload = set(), '/elderly_meal{"menu":"domain"}'
    while payload:
        value = payload.split('"menu":"')[1].rstrip('"}')
        messages, _ = run(ActionAnswerElderly(), tracker(
            payload, payload[1:].split("{")[0], entities=[{"entity": "menu", "value": value}]))
        titles = [b["title"] for b in messages[0]["buttons"]]
        assert "在线办理" not in titles and titles[-1] == "找人工"
        seen |= {b["payload"] for b in messages[0]["buttons"] if '"service"' in b["payload"]}
        if not seen - {b["payload"] for b in messages[0]["buttons"]}:  # the first page
            assert "高龄津贴" in titles
        payload = next((b["payload"] for b in messages[0]["buttons"] if b["title"] == "更多…"), "")
    assert len(seen) == len(catalogue.for_domain("elderly"))


def test_detail_button_answers_that_detail(rt, catalogue):
    service = catalogue.find("助餐")
    trk = tracker("/elderly_meal", "elderly_meal", entities=[
        {"entity": "service", "value": service.id}, {"entity": "aspect", "value": "online"}])
    messages, _ = run(ActionAnswerElderly(), trk)
    assert service.online in messages[0]["text"]


def test_emergency_first_line_and_staff_alert(rt):
    messages, _ = run(ActionAnswerEmergency(), tracker("我爸突然晕倒了叫不醒", "emergency_help"))
    assert messages[0]["text"].splitlines()[0].startswith("请马上拨打 120")
    [handoff] = rt.store.handoffs.list()
    assert handoff["emergency"] and handoff["reason"] == "emergency"
    assert handoff["channel"] == "web" and handoff["conversation_id"] == "web-resident-1"


def test_close_intents_get_one_clarifying_question(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45},
               {"name": "legal_aid", "confidence": 0.44}, {"name": "legal_mediation", "confidence": 0.40}]
    # 邻居 (mediation) and 打官司 (legal advice): no one service of either stands out
    text = "跟邻居闹矛盾 要不要打官司"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.45, ranking))
    assert messages[0]["text"].startswith("您是想问")
    assert [b["payload"] for b in messages[0]["buttons"]][:2] == ["/legal_aid", "/legal_mediation"]
    assert rt.store.review_queue.list() == []


@pytest.mark.parametrize(
    "text, ranking, first",
    [("楼道里电动车着伙了，烟好大，楼上还有人",  # a typo of 着火, split with a complaint
      [("complaint_report", 0.54), ("emergency_help", 0.45)], "请马上拨打 119"),
     ("我心口闷得慌，喘不上气来，家里就我一个人",  # names 喘不上气: an emergency's name
      [("emergency_help", 0.33), ("elderly_homecare", 0.28)], "请马上拨打 120")],
)
def test_an_unsure_classifier_gives_someone_in_danger_the_number_to_call_first(rt, text, ranking, first):
    ranking = [{"name": "nlu_fallback", "confidence": 0.25},
               *({"name": n, "confidence": c} for n, c in ranking)]
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.25, ranking))
    assert messages[0]["text"].startswith(first)
    [alert] = rt.store.handoffs.list()
    assert alert["emergency"] and alert["reason"] == "emergency"  # staff alerted too


def test_unknown_question_is_admitted_and_recorded(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45},
               {"name": "community_affairs", "confidence": 0.21},
               {"name": "complaint_report", "confidence": 0.12}]
    trk = tracker("小区能装个快递柜吗", "nlu_fallback", 0.45, ranking)
    messages, events = run(ActionHandleUnclear(), trk)
    assert "暂时答不上来" in messages[0]["text"]
    [row] = rt.store.review_queue.list()
    assert row["text"] == "小区能装个快递柜吗" and row["channel"] == "web"
    assert row["top_intents"][0]["name"] == "community_affairs"
    assert {"event": "slot", "name": "unclear_count", "value": 1.0, "timestamp": None} in events


def test_second_failure_in_a_row_goes_to_staff(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "greet", "confidence": 0.2}]
    trk = tracker("那个东西到底咋弄", "nlu_fallback", 0.45, ranking, slots={"unclear_count": 1.0})
    messages, _ = run(ActionHandleUnclear(), trk)
    assert "工作人员" in messages[0]["text"]
    [handoff] = rt.store.handoffs.list()
    assert handoff["reason"] == "failed_twice"


def test_second_failure_after_hours_says_when_someone_will_answer(rt):
    import dataclasses
    import datetime as dt
    from zoneinfo import ZoneInfo

    tomorrow = (dt.datetime.now(ZoneInfo("Asia/Shanghai")).weekday() + 1) % 7
    rt.settings = dataclasses.replace(rt.settings, staff_hours=f"周{'一二三四五六日'[tomorrow]} 8:30-17:30")
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "greet", "confidence": 0.2}]
    trk = tracker("那个东西到底咋弄", "nlu_fallback", 0.45, ranking, slots={"unclear_count": 1.0})
    messages, _ = run(ActionHandleUnclear(), trk)
    assert "下班时间" in messages[0]["text"] and "明天" in messages[0]["text"]
    assert rt.store.handoffs.list()[0]["reason"] == "failed_twice"


@pytest.mark.parametrize(
    "text, expected",
    [("", "还没有输入"), ("😀😀", "表情"), ("where is the office", "只能看懂中文"),
     ("<script>alert(1)</script>", "网页代码"), ("好" * 5000, "太长")],
)
def test_bad_input_gets_a_clear_chinese_reply(rt, text, expected):
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.45))
    assert expected in messages[0]["text"]


def test_human_handoff_is_recorded(rt):
    messages, _ = run(ActionHumanHandoff(), tracker("我要找真人", "human_handoff"))
    assert "工作人员" in messages[0]["text"]
    assert rt.store.handoffs.list()[0]["reason"] == "asked"


def test_repeat_and_slower_resend_the_last_answer(rt):
    earlier = [
        {"event": "user", "text": "助餐", "parse_data": {}},
        {"event": "bot", "text": "【老年餐桌】在驿站",
         "data": {"buttons": [{"title": "找人工", "payload": "/human_handoff"}]}},
    ]
    messages, _ = run(ActionRepeat(), tracker("再说一遍", "repeat", events=earlier))
    assert messages[0]["text"] == "【老年餐桌】在驿站" and messages[0]["buttons"]
    messages, events = run(ActionSlower(), tracker("说慢点", "slower", events=earlier))
    assert any(m["text"] == "【老年餐桌】在驿站" for m in messages)
    assert all(m["custom"] == {"speech_rate": "slow"} for m in messages)
    assert events[0]["name"] == "slow_speech" and events[0]["value"] is True


def test_an_answer_given_with_low_confidence_goes_to_review(rt):
    ranking = [{"name": "elderly_meal", "confidence": 0.38}, {"name": "elderly_daycare", "confidence": 0.2}]
    messages, _ = run(ActionAnswerElderly(), tracker("老人吃饭那个事儿咋整", "elderly_meal", 0.38, ranking))
    assert messages  # answered anyway
    [row] = rt.store.review_queue.list()
    assert row["reason"] == "low_confidence" and row["text"] == "老人吃饭那个事儿咋整"
    assert row["top_intents"][0] == {"name": "elderly_meal", "confidence": 0.38}
    run(ActionAnswerElderly(), tracker("助餐在哪里吃", "elderly_meal", 0.93))
    assert len(rt.store.review_queue.list()) == 1  # a sure answer is not queued


def test_close_intents_whose_words_point_to_one_service_get_that_service(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45},
               {"name": "legal_aid", "confidence": 0.34}, {"name": "legal_mediation", "confidence": 0.30}]
    text = "女儿不给赡养费 这事找谁"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.45, ranking))
    assert messages[0]["text"].startswith("【家庭矛盾调解】")


def test_a_split_with_an_emergency_is_always_asked_about(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45},
               {"name": "emergency_help", "confidence": 0.34},
               {"name": "complaint_report", "confidence": 0.30}]
    text = "家里停电了 什么时候来电"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.45, ranking))
    assert messages[0]["text"].startswith("您是想问")


def test_a_clarification_the_resident_ignored_goes_to_review(rt):
    ranking = [{"name": "elderly_allowance", "confidence": 0.41},
               {"name": "community_assistance", "confidence": 0.38}]
    parse = {"intent": {"name": "nlu_fallback", "confidence": 0.41}, "intent_ranking": ranking}
    asked = {"event": "user", "text": "老人补贴那个钱怎么弄", "parse_data": parse}
    clarifying = {"event": "bot", "text": "您是想问「高龄津贴、养老补贴」，还是「低保、困难救助」？"}
    trk = tracker("算了我问问体检", "health_checkup", 0.9, events=[asked, clarifying])
    run(ActionAnswerCert(), trk)
    [row] = rt.store.review_queue.list()
    assert row["reason"] == "clarification_abandoned" and row["text"] == "老人补贴那个钱怎么弄"
    assert row["top_intents"][0]["name"] == "elderly_allowance"
    tapped = tracker("/elderly_allowance", "elderly_allowance", 1.0, events=[asked, clarifying])
    run(ActionAnswerElderly(), tapped)
    assert len(rt.store.review_queue.list()) == 1  # choosing a button is not abandoning


def test_two_questions_in_one_message_get_both_answers(rt):
    messages, _ = run(ActionAnswerElderly(), tracker("高龄津贴和助餐怎么办", "elderly_allowance"))
    text = messages[0]["text"]
    assert "【高龄津贴】" in text and "【老年餐桌（社区助餐点）】" in text
    assert len(text.splitlines()) <= 3
    assert [b["title"] for b in messages[0]["buttons"]][:2] == ["高龄津贴", "老年餐桌（社区助餐点）"]


def test_the_question_at_the_end_of_a_story_is_answered(rt):
    story = "上个月刚给我爸办完高龄津贴，挺顺利的，谢谢你们，这个月他又说想白天去驿站待着，日间照料要自己交钱吗"
    messages, _ = run(ActionAnswerElderly(), tracker(story, "elderly_daycare"))
    assert messages[0]["text"].startswith("【老年人日间照料】")


def test_a_service_heard_wrong_by_speech_recognition_is_answered(rt):
    messages, _ = run(ActionAnswerElderly(), tracker("高领津贴怎么领", "elderly_allowance"))
    assert messages[0]["text"].startswith("【高龄津贴】")


def test_a_service_another_office_handles_says_where_to_go(rt):
    messages, _ = run(ActionAnswerChildcare(), tracker("幼儿园入园报名什么时候开始", "childcare_nursery"))
    text = messages[0]["text"]
    assert text.startswith("【幼儿园入园报名】") and "教育局" in text
    assert messages[0]["buttons"][0]["title"] != "在线办理"  # the community does not enrol


def test_applying_for_a_service_here_offers_online_application_first(rt):
    messages, _ = run(ActionAnswerChildcare(), tracker("暑假看护班怎么报名", "childcare_afterschool"))
    assert messages[0]["buttons"][0]["title"] == "在线办理"


def test_clear_domain_without_a_service_says_who_handles_it(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "health_family_doctor", "confidence": 0.24},
               {"name": "health_checkup", "confidence": 0.2}, {"name": "out_of_scope", "confidence": 0.1}]
    messages, _ = run(ActionHandleUnclear(), tracker("社区医院能做胃镜吗", "nlu_fallback", 0.4, ranking))
    text = messages[0]["text"]
    assert "健康服务" in text and "电话" in text and "答不上来" in text
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert any(p.startswith("/health_") for p in payloads) and payloads[-1] == "/human_handoff"
    [row] = rt.store.review_queue.list()
    assert row["domain"] == "health" and row["text"] == "社区医院能做胃镜吗"


def test_an_unknown_question_of_no_domain_has_no_domain_in_the_queue(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "out_of_scope", "confidence": 0.3},
               {"name": "greet", "confidence": 0.1}]
    messages, _ = run(ActionHandleUnclear(), tracker("那个东西到底咋弄", "nlu_fallback", 0.45, ranking))
    assert "暂时答不上来" in messages[0]["text"]
    assert rt.store.review_queue.list()[0]["domain"] is None


@pytest.mark.parametrize(
    "text, kind, words",
    [("字太小了看不清", "large", "大字模式"), ("怎么用语音", "voice", "按住说话"), ("你念得太快了", "slow", "慢"),
     ("我眼睛不好 能用说的吗", "voice", "按住说话"), ("怎么用语音跟你说话，打字太慢", "voice", "按住说话"),
     ("能不能用Voice输入，打字太慢了", "voice", "按住说话"), ("这玩意儿按哪个键说话", "voice", "按住说话")],
)
def test_questions_about_the_assistant_itself_get_a_useful_answer(rt, text, kind, words):
    messages, events = run(ActionInterfaceHelp(), tracker(text, "interface_help"))
    assert words in messages[0]["text"]
    assert messages[0]["custom"]["interface"] == kind
    assert (kind == "slow") == any(e.get("name") == "slow_speech" for e in events)


@pytest.mark.parametrize("channel", ["phone", "kiosk"])
@pytest.mark.parametrize(
    "text, kind, words",
    [("字太小了看不清", "large", "念给您听"), ("怎么用语音", "voice", "直接说"),
     ("你说的我听不清", "slow", "慢一点")],
)
def test_on_a_voice_channel_the_answer_is_short_and_names_the_keys_there(rt, channel, text, kind, words):
    latest = {"text": text, "intent": {"name": "interface_help", "confidence": 0.95}, "entities": []}
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest",
            "metadata": {"channel": channel}}
    trk = Tracker(f"{channel}-1", {}, latest, [user], False, None, {}, "action_listen")
    messages, events = run(ActionInterfaceHelp(), trk)
    said = messages[0]["text"]
    assert words in said and "按" in said  # the keypad way to do it
    assert "网页" not in said and "Telegram" not in said and "按钮" not in said
    assert len(said) <= 40  # a few seconds of speech, not a web-chat manual
    assert messages[0]["custom"]["interface"] == kind
    assert (kind == "slow") == (messages[0]["custom"].get("speech_rate") == "slow")


def test_an_unsure_classifier_with_a_clear_domain_still_answers_the_service_its_words_point_to(rt):
    ranking = [{"name": "nlu_fallback", "confidence": 0.25}, {"name": "legal_aid", "confidence": 0.4},
               {"name": "legal_mediation", "confidence": 0.1},
               {"name": "elderly_homecare", "confidence": 0.05}]
    messages, events = run(ActionHandleUnclear(), tracker("家里婆媳天天吵", "nlu_fallback", 0.25, ranking))
    assert "家庭矛盾调解" in messages[0]["text"] and "答不上来" not in messages[0]["text"]
    assert {"event": "slot", "name": "unclear_count", "value": 0.0, "timestamp": None} in events
    assert rt.store.review_queue.list() == []  # answered: nothing for staff to review


def test_an_emergency_naming_another_domains_service_is_still_an_emergency(rt):
    # 老人走丢 is an alias of the elderly 防走失 service; here someone is missing now
    entities = [{"entity": "service", "value": "elderly_homecare_anti_wander"}]
    messages, _ = run(ActionAnswerEmergency(), tracker("家里老人走丢了 快帮忙", "emergency_help", 0.6,
                                                       entities=entities))
    assert messages[0]["text"].startswith("请马上拨打 110！说清走失的人")  # what to tell the police
    assert "防走失" not in messages[0]["text"]


def test_an_unsure_story_that_names_one_service_gets_that_service(rt):
    text = "这阵子心里憋得慌 老想哭 社区有人能开导开导不"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.3))
    assert messages[0]["text"].startswith("【心理咨询】")


def test_an_unsure_story_that_names_two_services_stays_unclear(rt):
    text = "我办过高龄津贴 也去过老年食堂 今天就是想随便聊聊天气"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.3))
    assert not messages[0]["text"].startswith("【")


def test_two_asks_the_second_unnamed_are_both_answered_briefly(rt):
    ranking = [{"name": "employment_training", "confidence": 0.6},
               {"name": "employment_unemployment", "confidence": 0.3}]
    from actions.answers import ActionAnswerEmployment

    messages, _ = run(ActionAnswerEmployment(), tracker(
        "失业了怎么登记？顺便问下有没有免费的技能培训", "employment_training", 0.6, ranking))
    text = messages[0]["text"]
    assert "【失业登记】" in text and "【职业技能培训】" in text, text
    assert {"失业登记", "职业技能培训"} <= {b["title"] for b in messages[0]["buttons"]}


def test_two_asks_the_classifier_could_not_place_are_both_answered(rt):
    ranking = [{"name": "complaint_report", "confidence": 0.2},
               {"name": "community_assistance", "confidence": 0.18}]
    messages, events = run(ActionHandleUnclear(), tracker(
        "下午突然停水停电了咋回事？还有我想申请公租房", "nlu_fallback", 0.25, ranking))
    text = messages[0]["text"]
    assert "停水停电" in text and "公租房" in text and "答不上来" not in text, text


def test_asking_what_a_domain_offers_gets_the_whole_domains_menu(rt):
    """托育 is the toddler nursery's alias, but 托育方面都有啥服务 asks about all of 托育服务;
    an unsure classifier gets the same menu when the question names its domain."""
    messages, _ = run(ActionAnswerChildcare(), tracker("托育方面社区都有啥服务", "childcare_nursery"))
    assert messages[0]["text"].startswith("关于「托育服务」")
    assert {b["payload"].split("{")[0] for b in messages[0]["buttons"][:4]} != {"/childcare_nursery"}
    ranking = [{"name": "nlu_fallback", "confidence": 0.25}, {"name": "out_of_scope", "confidence": 0.2},
               {"name": "elderly_meal", "confidence": 0.1}]
    text = "社区能给我们老年人干点啥"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.25, ranking))
    assert messages[0]["text"].startswith("关于「养老服务」")
    assert "答不上来" not in messages[0]["text"]


def test_an_unclear_question_whose_words_point_to_one_service_of_its_likeliest_kinds_gets_it(rt):
    """No kind of question and no domain is clear, but 房子留给小儿子 is a will (一祝: 遗嘱
    misheard); a TV programme's 几点播 is out of scope first, not the office's hours."""
    ranking = [{"name": "nlu_fallback", "confidence": 0.25}, {"name": "legal_aid", "confidence": 0.17},
               {"name": "out_of_scope", "confidence": 0.15}]
    text = "想立个一祝 房子留给小儿子 需要啥手续"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.25, ranking))
    assert messages[0]["text"].startswith("【遗嘱和继承咨询】")
    ranking = [{"name": "nlu_fallback", "confidence": 0.25}, {"name": "health_checkup", "confidence": 0.22},
               {"name": "out_of_scope", "confidence": 0.15},
               {"name": "community_affairs", "confidence": 0.13}]
    text = "俺想看那个打鬼子的电视剧，几点播"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.25, ranking))
    assert "暂时答不上来" in messages[0]["text"]


def unclear_reply(text: str, *likeliest: tuple[str, float]) -> str:
    """What the unclear action answers when the classifier falls back with these runners-up."""
    ranking = [{"name": "nlu_fallback", "confidence": 0.25}]
    ranking += [{"name": name, "confidence": confidence} for name, confidence in likeliest]
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.25, ranking))
    return messages[0]["text"]


def test_an_unclear_question_whose_likeliest_kinds_point_apart_gets_the_one_its_words_weigh_most(rt):
    """Volunteering, the community's affairs and training are all likely; 老年学校 and 毛笔字
    weigh far more for the 老年学校 than anything does for the others."""
    text = "我这把年纪了还想学点东西，社区是不是有个老年学校，教写毛笔字、唱粤曲那种"
    answer = unclear_reply(text, ("volunteer_signup", 0.20), ("community_affairs", 0.19),
                           ("employment_training", 0.13))
    assert answer.startswith("【社区课程和老年学校】")


def test_an_unclear_story_whose_question_says_nothing_is_answered_by_what_the_story_says_by_far(rt):
    """找谁 says nothing; 党员…回社区报到 is the 在职党员社区报到 by far. A story that points only a
    little (回老家过年, 坐大巴) is still not answered."""
    text = "俺儿子在单位是党员，他说要回社区报到，俺也不懂是个啥，让俺先来问问找谁"
    answer = unclear_reply(text, ("cert_apply", 0.18), ("volunteer_signup", 0.15), ("legal_aid", 0.10))
    assert answer.startswith("【在职党员社区报到】")
    text = "我下个月想回老家过年，带着两个孩子。坐大巴便宜但要十几个钟，高铁贵一倍。你说哪个划算？"
    answer = unclear_reply(text, ("childcare_afterschool", 0.10), ("elderly_allowance", 0.10),
                           ("childcare_nursery", 0.09))
    assert "暂时答不上来" in answer


@pytest.mark.parametrize("text", [
    "昨晚下大暴雨，我们楼地下室全淹了，水到现在也没下去，车库门口积水到膝盖。找谁来抽水？",
    # 找谁 says nothing of what: the flooded street before it does
    "一下大雨楼下那条路就淹到小腿肚，骑车都过不去，这种事找谁",
])
def test_an_emergency_question_pointing_to_an_information_service_gets_it_after_the_numbers(rt, text):
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help"))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith("如有危险，请马上拨打")  # the numbers first, always
    assert lines[1].startswith("【暴雨内涝和积水】")
    assert rt.store.handoffs.list() == []  # no danger told: staff are not alerted


def test_two_emergency_questions_and_no_danger_get_both_after_the_numbers(rt):
    text = "避难场所在哪个位置？另外灾害信息员怎么报名"
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help"))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith("如有危险，请马上拨打")
    assert lines[1].startswith("【应急避难场所】") and lines[2].startswith("【灾害信息员")
    assert rt.store.handoffs.list() == []


def test_violence_told_with_a_protection_order_asked_gets_110_the_order_and_staff_told(rt):
    text = "他又动手打我了 人身安全保护令到底怎么申请"
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help"))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith("请马上拨打 110")
    assert lines[1].startswith("【人身安全保护令")
    assert [b["title"] for b in messages[0]["buttons"]][-1] == "找人工"
    assert len(rt.store.handoffs.list()) == 1  # staff are told, as for any violence


def test_a_past_fire_told_around_a_shelter_question_gets_the_shelter_but_a_fire_now_the_119_line(rt):
    text = "上周隔壁楼着火了，吓死人了。社区的应急避难场所在哪儿？"
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help"))
    assert messages[0]["text"].splitlines()[1].startswith("【应急避难场所】")
    assert rt.store.handoffs.list() == []
    messages, _ = run(ActionAnswerEmergency(), tracker("厨房着火了，社区的应急避难场所在哪儿？", "emergency_help"))
    assert messages[0]["text"].startswith("请马上拨打 119")


@pytest.mark.parametrize(
    "action, text, intent",
    [
        (ActionAnswerOutOfScope(), "这个机器咋跟它说话呀 按哪个键说", "out_of_scope"),
        (ActionSlower(), "voice input 在哪 我打字太慢了", "slower"),
    ],
)
def test_a_question_about_voice_input_gets_how_to_talk_whatever_it_was_taken_for(rt, action, text, intent):
    messages, _ = run(action, tracker(text, intent, 0.5))
    assert messages[0]["text"].startswith("可以直接说话") and messages[0]["custom"] == {"interface": "voice"}
    assert rt.store.review_queue.list() == []  # answered: nothing for staff to review


def test_asking_to_speak_slower_in_english_is_not_a_voice_input_question(rt):
    messages, _ = run(ActionSlower(), tracker("can you speak slower 太快了", "slower"))
    assert messages[0]["response"] == "utter_slower"


@pytest.mark.parametrize(
    "action, text, intent, first",
    [
        (ActionHandleUnclear(), "阿公胸坎痛甲欲死，喘袂过气，紧咧！", "nlu_fallback", "请马上拨打 120"),
        (ActionAnswerElderly(), "俺老头子在卫生间滑倒了，躺地上起不来，喊他也不大应声", "elderly_homecare",
         "请马上拨打 120"),
        (ActionAnswerOutOfScope(), "我这胸口闷得慌，一阵一阵地疼，左胳膊也发麻，是不是天太热", "out_of_scope",
         "请马上拨打 120"),
        (ActionAnswerElderly(), "我爸有认知障碍，早上出门到现在都没回来", "elderly_homecare",
         "请马上拨打 110！说清走失的人"),
    ],
)
def test_danger_now_gets_its_number_first_whatever_it_was_taken_for(rt, action, text, intent, first):
    messages, _ = run(action, tracker(text, intent, 0.5))
    assert messages[0]["text"].startswith(first)
    [handoff] = rt.store.handoffs.list()  # staff are told at once
    assert handoff["emergency"]


def test_a_worry_about_falling_is_answered_not_treated_as_an_emergency(rt):
    text = "怕我妈在卫生间滑倒了起不来，想装个扶手"
    messages, _ = run(ActionAnswerElderly(), tracker(text, "elderly_homecare"))
    assert "请马上拨打" not in messages[0]["text"]
    assert rt.store.handoffs.list() == []


def test_asking_what_the_assistant_does_gets_what_it_helps_with(rt):
    messages, events = run(ActionHandleUnclear(), tracker("恁能干啥？都能帮俺办啥事？", "nlu_fallback", 0.3))
    assert messages[0]["response"] == "utter_what_i_do"
    assert {"event": "slot", "name": "unclear_count", "value": 0.0, "timestamp": None} in events
    assert rt.store.review_queue.list() == []  # answered: nothing for staff to review


def test_typing_trouble_taken_for_an_emergency_gets_how_to_talk(rt):
    messages, _ = run(ActionAnswerEmergency(), tracker("有冇voice input？我打唔到字", "emergency_help", 0.5))
    assert messages[0]["text"].startswith("可以直接说话") and messages[0]["custom"] == {"interface": "voice"}
    assert rt.store.handoffs.list() == []  # no alarm raised for staff


def test_a_fall_told_as_a_worry_gets_the_device_asked_about_and_no_alarm(rt):
    text = "我怕我妈摔倒了起不来没人知道，有没有一键呼叫的东西"
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help", 0.6))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith("如有危险") and "120" in lines[0]  # the numbers, in case
    assert lines[1].startswith("【紧急呼叫设备（一键呼叫）】")
    assert rt.store.handoffs.list() == []
    now = "我老伴摔倒了起不来，我怕他骨折了，怎么办"
    messages, _ = run(ActionAnswerEmergency(), tracker(now, "emergency_help"))
    assert messages[0]["text"].startswith("请马上拨打 120")  # a fall now, whatever is feared next


@pytest.mark.parametrize("text, first", [
    ("我要办个委托公正 人在外地回不来 让家里人替我卖房", "【公证办理】"),  # 公正 heard for 公证
    ("你们社区有哪些服务，给我列一下", None),
])
def test_a_question_taken_for_a_handoff_with_no_person_asked_for_is_answered(rt, text, first):
    messages, _ = run(ActionHumanHandoff(), tracker(text, "human_handoff", 0.6))
    if first:
        assert messages[0]["text"].startswith(first)
    else:
        assert messages[0]["response"] == "utter_what_i_do"
    assert rt.store.handoffs.list() == []  # nobody's inbox filled with a question it can answer


@pytest.mark.parametrize(
    "text", ["帮我转个人攻服务", "能不能找个real person跟我聊", "俺要找个活人说话，给接个人工嘛"]
)
def test_asking_for_a_person_in_any_words_is_handed_over(rt, text):
    run(ActionHumanHandoff(), tracker(text, "human_handoff"))
    assert rt.store.handoffs.list()[0]["reason"] == "asked"


def test_offering_to_visit_someone_living_alone_gets_how_to_volunteer_not_the_visits(rt):
    text = "我们楼下住着个孤老太太，儿女都在沿海。我下班顺路，想定期去看看她。社区有这种结对的志愿活动吗？"
    messages, _ = run(ActionAnswerElderly(), tracker(text, "elderly_homecare"))
    assert messages[0]["text"].startswith("【结对帮扶助老志愿】")


def test_preparing_against_a_fire_is_a_question_not_a_fire(rt):
    text = "家里应该准备些什么东西防地震防火灾"
    messages, _ = run(ActionAnswerEmergency(), tracker(text, "emergency_help"))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith("如有危险") and lines[1].startswith("【家庭应急物资和演练】")
    assert rt.store.handoffs.list() == []


def test_text_too_small_said_in_any_words_turns_on_large_text(rt):
    text = "闺女，俺眼神儿不中了，这屏上的字跟蚂蚁似的，能弄大点不？"
    messages, _ = run(ActionHandleUnclear(), tracker(text, "nlu_fallback", 0.3))
    assert messages[0]["custom"]["interface"] == "large"
    assert rt.store.review_queue.list() == []


def test_asking_what_the_assistant_does_taken_for_out_of_scope_gets_what_it_helps_with(rt):
    messages, _ = run(ActionAnswerOutOfScope(), tracker("恁能干啥？都能帮俺办啥事？", "out_of_scope", 0.31))
    assert messages[0]["response"] == "utter_what_i_do"
    assert rt.store.review_queue.list() == []  # answered: not an out-of-scope question for staff
