"""A resident offering to visit people who live alone (community/offers_to_help.py)."""

import pytest

from community.offers_to_help import offers_to_help


@pytest.mark.parametrize("text", [
    "我们楼下住着个孤老太太，儿女都在沿海。我下班顺路，想定期去看看她。社区有这种结对的志愿活动吗？",
    "额闲得很，想隔三岔五克陪那些一个人住的老汉老婆婆谝谝，社区能给额安排上不",
    "阿拉退休了，想去陪陪独居老人，侬社区有结对个伐",
])
def test_an_offer_to_keep_someone_company_is_told_apart(text):
    assert offers_to_help(text)


@pytest.mark.parametrize("text", [
    "我父親一個人住，我在外地工作，社區能定期去看看他嗎？",  # the community asked to visit
    "我想照顾我妈，社区有护理培训吗",  # one's own family
    "我下班也只能陪她一会儿，社区儿童之家平时开门吗",
    "健康档案怎么查 我想看看去年的体检结果",
])
def test_asking_for_visits_or_looking_after_ones_own_is_not_an_offer(text):
    assert not offers_to_help(text)
