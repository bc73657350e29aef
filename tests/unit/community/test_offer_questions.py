"""Questions about what a whole domain offers (community/offer_questions.py)."""

import pytest

from community.offer_questions import offer_domain, offers_everything


@pytest.mark.parametrize(
    "text, domain",
    [("养老方面社区都有些什么服务", "elderly"), ("托育方面社区都有啥服务", "childcare"),
     ("就业这块都有啥服务，给我说说", "employment"), ("法律方面社区能提供啥帮助", "legal"),
     ("社区能给我们老年人干点啥", "elderly"), ("志愿服务都有啥项目", "volunteer")],
)
def test_a_question_about_all_a_domain_offers_names_that_domain(catalogue, text, domain):
    assert offer_domain(catalogue, text) == domain


@pytest.mark.parametrize(
    "text",
    ["残疾人有哪些补贴",  # one service: the allowance
     "殘疾人坐公交車免費嗎？要辦什麼卡",  # a card, not a list of help
     "老年人助餐有哪些服务",  # names a service
     "你能干啥"],  # no domain: the assistant itself
)
def test_a_question_about_one_service_or_no_domain_is_not_a_domain_question(catalogue, text):
    assert offer_domain(catalogue, text) is None


def test_a_domain_word_a_speech_recogniser_misheard_still_names_the_domain(catalogue):
    assert offer_domain(catalogue, "社区就叶方面有哪些服务") == "employment"  # jiu4 ye4: 就业
    assert offer_domain(catalogue, "俺们老人都有啥好服务") == "elderly"


@pytest.mark.parametrize(
    "text", ["恁能干啥？都能帮俺办啥事？", "社区这边平常都管些么子事", "你们社区有哪些服务，给我列一下"]
)
def test_asking_what_the_assistant_does_at_all_is_told_apart(catalogue, text):
    assert offers_everything(catalogue, text)


@pytest.mark.parametrize("text", ["养老方面社区都有些什么服务", "老年人助餐有哪些服务", "高龄津贴在哪办"])
def test_a_domain_or_a_service_asked_about_is_not_everything(catalogue, text):
    assert not offers_everything(catalogue, text)


def test_a_question_pointing_back_to_the_story_is_not_about_the_whole_domain(catalogue):
    story = "大的这阵子老不爱说话，老师说留守的孩子得多关心。社区对这样的孩子有啥帮扶吗？"
    assert offer_domain(catalogue, story) is None  # the left-behind child told of decides
    assert offer_domain(catalogue, "社区对孩子有啥帮扶") == "childcare"
