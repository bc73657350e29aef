"""Which service a domain's answer action answers: the one a question is closest to when it
names none, another domain's service when the question names it in full, and a menu for a
question in the domain's common words."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (
    ActionAnswerChildcare,
    ActionAnswerCommunity,
    ActionAnswerDisability,
    ActionAnswerElderly,
    ActionAnswerEmployment,
    ActionAnswerLegal,
    ActionAnswerVolunteer,
)


def reply(action, text, intent, runners_up=()):
    ranking = [{"name": intent, "confidence": 0.95}] + [{"name": r, "confidence": 0.02} for r in runners_up]
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95},
              "intent_ranking": ranking, "entities": []}
    user = {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest",
            "metadata": {"channel": "web"}}
    tracker = Tracker("web-resident-1", {}, latest, [user], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages[0]["text"]


def test_a_question_in_other_words_is_answered(rt):
    text = reply(ActionAnswerLegal(), "邻居装修太吵能调解吗", "legal_mediation")
    assert text.startswith("【邻里纠纷调解】")


def test_a_story_is_answered_by_its_question(rt):
    story = "我们家原来住城西，去年搬到这边，孩子明年要上学，现在想把户口迁过来，要办什么手续"
    assert reply(ActionAnswerCommunity(), story, "community_affairs").startswith("【户口迁入和落户】")


def test_common_words_still_get_the_menu(rt):
    text = reply(ActionAnswerLegal(), "调解纠纷找谁", "legal_mediation")
    assert text.startswith("关于") and "请点选" in text


def test_another_domains_service_named_in_full_is_answered(rt):
    text = reply(ActionAnswerCommunity(), "长者饭堂几点开饭", "community_affairs")
    assert text.startswith("【老年餐桌（社区助餐点）】")


def test_another_domains_short_alias_gets_this_domains_menu(rt):
    text = reply(ActionAnswerElderly(), "低保的事问一下", "elderly_daycare")
    assert text.startswith("关于") and "请点选" in text


def test_a_name_split_by_a_question_word_is_still_found(rt):
    text = reply(ActionAnswerVolunteer(), "义工怎么报名", "volunteer_signup")  # 义工报名
    assert text.startswith("【志愿者注册】")


def test_another_domains_short_alias_does_not_hide_the_closest_service(rt):
    # 停电 is an alias of a complaint (community domain); 物业费 decides within legal_mediation.
    text = reply(ActionAnswerLegal(), "物业费乱涨又停电 谁能出面协调", "legal_mediation")
    assert text.startswith("【物业纠纷调解】")


def test_an_unsure_classifier_still_answers_a_service_named_in_full(rt):
    from actions.unclear import ActionHandleUnclear

    text = reply(ActionHandleUnclear(), "社区的时间银行怎么存", "nlu_fallback")
    assert text.startswith("【志愿积分和时间银行】")


def test_a_name_heard_by_sound_is_read_as_the_name_for_its_sibling(rt):
    from actions.answers import ActionAnswerEmployment

    # 灵活就页 sounds like 灵活就业; with 交社保 the question is about 灵活就业人员参保
    text = reply(ActionAnswerEmployment(), "灵活就页的人员社保在哪交", "employment_jobs")
    assert text.startswith("【灵活就业人员参保】")


def test_a_story_whose_question_names_only_the_kind_of_help_is_answered_by_the_story(rt):
    story = "我们兄妹三个，母亲留下的房子一直没分，现在谁也不让谁，社区能帮着调解吗"
    text = reply(ActionAnswerLegal(), story, "legal_mediation")
    assert text.startswith("【家庭矛盾调解】")


def test_a_second_question_added_with_another_word_is_answered_too(catalogue):
    from community.two_questions import two_services

    found = two_services(catalogue, "工钱一直拖着不给怎么办？另外想问问法援怎么申请", None, ["legal_aid"])
    assert {s.id for s in found} == {"legal_aid_wage", "legal_aid_application"}
    # neither part alone is clear in the whole: each part is
    found = two_services(catalogue, "残疾人坐地铁能免费吗？还有残疾人能不能推荐个工作", None,
                         ["disability_support"])
    assert {s.id for s in found} == {"disability_support_transport", "disability_support_employment"}


def test_还有_inside_a_question_adds_none(catalogue):
    from actions.answers import resolve_services
    from community.two_questions import two_services

    found = resolve_services(catalogue, None, "残疾人补贴还有吗", "disability", "disability_support")
    assert [s.id for s in found] == ["disability_support_allowance"]
    assert two_services(catalogue, "残疾人补贴还有吗", found[0], ["disability_support"]) == []


def test_another_domains_name_that_this_domain_has_too_is_this_domains(catalogue):
    from actions.answers import resolve_services

    # 日间照料 is an elderly service's alias; 残疾人托养和日间照料 holds it
    found = resolve_services(catalogue, None, "智力残疾的儿子白天能去日间照料吗", "disability",
                             "disability_support")
    assert [s.id for s in found] == ["disability_support_daycare"]
    found = resolve_services(catalogue, None, "日间照料中心在哪", "elderly", "elderly_daycare")
    assert found[0].domain == "elderly"


def test_a_short_name_found_anywhere_in_a_short_message_yields_to_what_is_asked(catalogue):
    from actions.answers import resolve_services

    found = resolve_services(catalogue, None, "吃了十几年药 听说门诊开药也能报", "health",
                             "health_family_doctor")
    assert [s.id for s in found] == ["health_family_doctor_chronic_outpatient"]


def test_two_services_joined_by_和_are_both_answered(catalogue):
    from actions.answers import resolve_services

    found = resolve_services(catalogue, None, "残疾证和两项补贴能一块儿办吗", "disability",
                             "disability_support")
    assert {s.id for s in found} == {"disability_support_certificate", "disability_support_allowance"}
    # 和 between people, not services: one service
    found = resolve_services(catalogue, None, "我和老伴想问问残疾证怎么办", "disability",
                             "disability_support")
    assert [s.id for s in found] == ["disability_support_certificate"]


def test_a_certificate_the_resident_holds_is_who_they_are_not_what_they_ask(rt):
    held = "我腿有残疾，办过残疾证，想找个能坐着干的活，社区能帮忙吗"
    text = reply(ActionAnswerDisability(), held, "disability_support")
    assert text.startswith("【残疾人就业帮扶】")
    # a certificate not yet held is still what is asked
    text = reply(ActionAnswerDisability(), "我家老头中风了，还没办过残疾证，要去哪办", "disability_support")
    assert text.startswith("【残疾人证办理】")


@pytest.mark.parametrize(
    "action, text, intent, answer",
    [
        # a place named (温馨家园, where most disability services are given): what is asked there
        (ActionAnswerDisability(), "温馨家园能不能做康复训练", "disability_support", "【社区康复训练】"),
        # the place asked about as a place keeps its own answer
        (ActionAnswerLegal(), "人民调解委员会在哪", "legal_mediation", "【邻里纠纷调解】"),
        # a full name heard by its sound (普发: 普法) answers from another domain
        (ActionAnswerChildcare(), "普发讲座啥时候办，想带孩子去听", "childcare_nursery", "【普法讲座】"),
    ],
)
def test_a_name_is_read_in_its_context(rt, action, text, intent, answer):
    assert reply(action, text, intent).startswith(answer)


def test_two_asks_in_one_domain_are_each_read_on_their_own(rt):
    # 扶手 is also the elderly's 适老化改造: of a disabled resident's two asks, the disability one
    two = "残疾人护理补贴怎么领，另外家里能做无障碍改造装扶手吗"
    text = reply(ActionAnswerDisability(), two, "disability_support")
    assert text.startswith("【残疾人两项补贴】") and "【家庭无障碍改造】" in text


def test_nothing_clear_in_the_classified_domain_a_runner_up_kinds_service_is_answered(rt):
    text = "我家老爷子糊涂了 老往外跑 咋办"
    assert reply(ActionAnswerEmployment(), text, "employment_jobs").startswith("关于")  # its menu
    answer = reply(ActionAnswerEmployment(), text, "employment_jobs", ["elderly_homecare"])
    assert answer.startswith("【防走失服务（定位手环）】")


def test_a_runner_up_kinds_service_may_be_the_one_the_story_points_to(rt):
    # 能有人帮一把不 says no more than "help"; the story (爹妈离了, 跟着爷爷奶奶) says which
    text = "外孙女她爹妈都出去打工了，一年回不来一趟，就跟着俺和老伴过，这孩子社区能帮一把不"
    answer = reply(ActionAnswerCommunity(), text, "community_assistance", ["childcare_afterschool"])
    assert answer.startswith("【困境儿童和留守儿童关爱】")


@pytest.mark.parametrize(
    "story, intent, service",
    [
        ("去年发大水，家里一楼全淹了，地里的庄稼也没了。现在生活挺困难的，有什么救助吗？",
         "community_assistance", "【受灾人员救助】"),
        ("孩子满一岁了，体检在哪里做，免费吗", "health_checkup", "【儿童健康体检】"),
        ("无儿无女的孤寡老人，没收入也干不了活，社区有什么救助", "community_assistance",
         "【特困人员救助供养】"),
    ],
)
def test_a_question_of_one_kind_is_answered_by_what_the_story_says_by_far(rt, story, intent, service):
    """The question alone (有什么救助, 体检在哪里做) reads as another service of its kind; the story
    says which one, by far."""
    from actions.answers import ActionAnswerCommunity, ActionAnswerHealth

    action = ActionAnswerHealth() if intent.startswith("health") else ActionAnswerCommunity()
    assert reply(action, story, intent).startswith(service)


def test_a_service_named_only_in_the_story_still_yields_to_the_question(rt):
    story = "我妈在老年餐桌吃了好几年饭了，今年八十了，听说有高龄津贴，怎么申请"
    assert reply(ActionAnswerElderly(), story, "elderly_allowance").startswith("【高龄津贴】")


def test_the_sibling_asked_for_is_found_also_when_another_service_is_named(rt):
    """在助餐点吃饭 names the canteen, 有补贴吗 asks for its subsidy (助餐点补贴); 低保 named beside
    it changes nothing."""
    text = reply(ActionAnswerElderly(), "在助餐点吃饭老人有补贴吗，低保老人是不是更多", "elderly_meal")
    assert text.startswith("【老年助餐补贴】")


def test_a_name_another_domains_service_holds_goes_to_the_one_the_rest_points_to(rt):
    """优待证 is the elderly's 老年人优待证, and 退役军人优待证 holds it: a veteran asking gets the
    veterans' card; anyone else the elderly's."""
    text = reply(ActionAnswerElderly(), "我是退伍軍人，優待證在哪裡辦？", "elderly_allowance")
    assert text.startswith("【退役军人优待证】")
    text = reply(ActionAnswerElderly(), "我妈七十了，优待证在哪办", "elderly_allowance")
    assert text.startswith("【老年人优待证】")


@pytest.mark.parametrize(
    "action, text, intent, own, general",
    [
        (ActionAnswerEmployment(), "我 聋 想 找 工作 会 电脑 有 帮助 吗", "employment_jobs",
         "残疾人就业帮扶", "职业技能培训"),
        (ActionAnswerElderly(), "俺那个儿子四十了，脑子不灵光，俺老了看不住他了，"
         "有没有白天能送去照看的地方", "elderly_daycare", "残疾人托养和日间照料", "老年人日间照料"),
    ],
)
def test_a_disabled_resident_hears_their_own_service_beside_the_general_one(
    rt, action, text, intent, own, general
):
    answer = reply(action, text, intent)
    assert answer.startswith(f"【{own}】") and f"【{general}】" in answer


def test_without_a_disability_told_the_general_service_alone_is_answered(rt):
    text = "我妈七十多了白天一个人在家，有没有白天能送去照看的地方"
    answer = reply(ActionAnswerElderly(), text, "elderly_daycare")
    assert answer.startswith("【老年人日间照料】") and "残疾" not in answer


@pytest.mark.parametrize("text, name", [
    ("社区这周末有什么 volunteer 活动可以报名吗？", "志愿活动报名"),
    ("公司今年搞CSR，想组织员工来社区做volunteer，对接谁", "志愿服务队组建"),
    ("想当volunteer 找谁", "志愿者注册"),
])
def test_an_english_name_said_with_a_siblings_chinese_words_reaches_the_sibling(rt, text, name):
    """volunteer names 志愿者注册, but volunteer 活动 is 志愿活动报名 (whose English name, volunteer
    activity, holds it), as 志愿者 + 活动 would be."""
    assert reply(ActionAnswerVolunteer(), text, "volunteer_signup").startswith(f"【{name}】")


def test_a_disability_question_naming_a_general_service_gets_the_disableds_own(rt):
    text = reply(ActionAnswerDisability(), "聋哑人能不能在社区找个活干", "disability_support")
    assert text.startswith("【残疾人就业帮扶】")
