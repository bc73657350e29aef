"""Someone in danger now, told in a resident's own words (community/danger.py)."""

import pytest

from community.answers import emergency_kind
from community.danger import in_danger_now


@pytest.mark.parametrize("text, kind", [
    ("阿公胸坎痛甲欲死，喘袂过气，紧咧！", "medical"),
    ("我这胸口闷得慌，一阵一阵地疼，左胳膊也发麻，是不是天太热闹的呀", "medical"),
    ("俺老头子在卫生间滑倒了，躺地上起不来，喊他也不大应声", "medical"),
    ("我儿子是聋的，在公园跟丢了，喊他也听不见，已经找了半个钟头", "missing"),
    ("我阿妈有认知障碍，今朝出咗门到而家都未返，要唔要报police？", "missing"),
    ("孩子不见了！", "missing"),
    ("我爸之前有心脏病，现在胸口痛得喘不上气", "medical"),  # a history told, the danger now
    ("电梯卡在七楼了 里面关着人 按紧急按钮没反映", "trapped"),  # 119, not the 一键呼叫 device
    ("俺们楼电梯里困着个小孩，在里头哇哇哭", "trapped"),
    ("今天风大，小区门口的广告牌被吹倒砸到一个路过的人，那人躺地上不动", "general"),  # 110/119/120
])
def test_danger_now_in_a_residents_words_gets_its_number(text, kind):
    assert in_danger_now(text)
    assert emergency_kind(text)[0] == kind  # 120 for the body, 110 for someone missing


@pytest.mark.parametrize("text", [
    "孩子的书包不见了",  # a thing lost, not a person
    "我儿子在外地打工过年没回来",
    "我爸有老年痴呆，老是走丢，社区有手环吗",  # a habit, and a question about prevention
    "怕老人在卫生间滑倒起不来，想装扶手",  # a worry
    "经常胸口闷气短想去体检",
    "上次我妈走丢了，后来派出所找回来的，社区有防走失的服务吗",  # past
    "我妈喘不上气的老毛病了，慢性病门诊能报销吗",  # an illness she lives with
    "电梯卡在七楼不动了，好几天没人修",  # a lift that stopped, nobody inside
    "咱楼电梯老是困人，能不能换个新的",  # a habit: a complaint, not danger now
    "俺们单元那电梯又不动了，里头没关着人，就是坏了",  # no one inside, said outright
    "电梯又坏了，我们住九楼，没人被关在里面，就是用不了",
    "小区门口的广告牌歪了，怕砸到人，找谁修",  # a worry
    "俺跟老伴是八几年结的婚，结婚证早寻不着了，现在银行让证明俺俩是两口子",  # a paper lost
])
def test_a_worry_a_habit_or_a_past_event_is_not_danger_now(text):
    assert not in_danger_now(text)


def test_a_walking_stick_is_not_violence():
    assert emergency_kind("额腿脚不利索，拄着拐，想寻个懂残疾人政策的人")[0] == "general"
    assert emergency_kind("有人想拐走我家孩子")[0] == "violence"


@pytest.mark.parametrize("text, kind", [
    ("孩子放学没回家，找了一个多小时了，学校说早就走了", "missing"),
    ("她躺在床上迷迷糊糊的，说头疼想吐，屋里闷得很。这是不是煤气中毒？", "poisoned"),
    ("刚才从凳子上跌下来了，腿动不了，痛得很，爬不起来", "medical"),
    ("我孙子放学该五点到家，现在七点了还没见人。学校说早走了，同学家也问遍了。他才八岁，咋办？", "missing"),
    ("俺孙女在集上跟俺走散了，转了两圈也寻不见，才五岁", "missing"),
])
def test_more_ways_of_telling_danger_now(text, kind):
    assert in_danger_now(text) and emergency_kind(text)[0] == kind


def test_preventing_poisoning_is_not_danger_now():
    assert not in_danger_now("冬天烧煤怎么预防煤气中毒")
