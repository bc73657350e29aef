"""Questions about what a whole domain offers (community/offer_questions.py)."""

import pytest

from community.offer_questions import offer_domain


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
