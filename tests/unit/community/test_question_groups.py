"""The review queue groups near-duplicate questions: one item with a count per new question."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest

from community.question_groups import QuestionGroup, group_questions

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)

# 30 residents ask where to charge an e-bike, each in their own way.
CHARGING = [
    "小区电动车充电桩在哪里", "小区电动车充电桩在哪里？", "请问小区电动车充电桩在哪里",
    "您好，小区电动车充电桩在哪里啊", "小区的电动车充电桩在哪里呢", "小區電動車充電樁在哪裡",
    "小区电动车充电装在哪里", "小区电动车冲电桩在哪里", "小区电动车充电桩在那里",
    "小区电动车充电桩在哪里!!", "请问一下，小区电动车充电桩在哪里？谢谢", "小区 电动车 充电桩 在哪里",
    "小区电动车充电桩在哪里吗", "小区电动车充电桩在哪裡？", "麻烦问一下小区电动车充电桩在哪里",
    "您好 请问小区的电动车充电桩在哪里", "小区电动车充电桩在哪儿", "小区电动车的充电桩在哪里",
    "小区电动车充电桩在哪里呀", "小区电动车充电桩在哪里？？", "你好，小区电动车充电桩在哪里",
    "小区电动车充电桩在哪里了", "小区电动车充电桩在哪里哦", "小区电动车充电桩在哪里啊？",
    "小區電動車充電桩在哪里", "小区电动车充電桩在哪里", "请问：小区电动车充电桩在哪里",
    "小区电动车充电桩在哪里。", "在吗 小区电动车充电桩在哪里", "小区电动车充电桩在哪里~",
]
OTHERS = [
    "高龄津贴什么时候发", "高龄津贴怎么申请", "小区停车费怎么收", "快递柜坏了找谁",
    "居住证怎么办", "身份证怎么办", "老年食堂几点开门", "社区图书馆几点开门",
]


def row(i: int, text: str, minutes: int = 0, channel: str = "webchat", intents=None) -> dict:
    return {
        "id": i, "created_at": T0 + dt.timedelta(minutes=minutes), "channel": channel,
        "conversation_id": f"c{i}", "text": text, "reason": "fallback",
        "top_intents": intents if intents is not None else [], "status": "new",
    }


def test_thirty_residents_asking_the_same_new_thing_are_one_item_with_a_count():
    rows = [row(i, t, minutes=i, channel="telegram" if i % 3 == 0 else "webchat")
            for i, t in enumerate(CHARGING, start=1)]
    rows += [row(100 + i, t, minutes=5) for i, t in enumerate(OTHERS)]
    groups = group_questions(rows)
    top = groups[0]
    assert isinstance(top, QuestionGroup)
    assert top.count == 30 and sorted(top.ids) == list(range(1, 31))
    assert top.text == "小区电动车充电桩在哪里"  # the commonest wording represents the group
    assert top.channels == ["telegram", "webchat"]
    assert top.latest == T0 + dt.timedelta(minutes=30)
    # The other questions stay apart, each on its own.
    assert [g.count for g in groups[1:]] == [1] * len(OTHERS)
    assert {g.text for g in groups[1:]} == set(OTHERS)


@pytest.mark.parametrize(
    "a, b",
    [
        ("高龄津贴怎么申请", "高龄津贴什么时候发"),
        ("快递柜在哪", "快递柜坏了找谁"),
        ("居住证怎么办", "身份证怎么办"),
        ("社区有没有充电桩", "电动车充电桩在哪里"),
        ("助餐点周末开门吗", "助餐点在哪里"),
    ],
)
def test_different_questions_about_the_same_thing_stay_apart(a, b):
    assert len(group_questions([row(1, a), row(2, b)])) == 2


@pytest.mark.parametrize(
    "a, b",
    [
        ("请问，助餐点周末开门吗？", "助餐点周末開門嗎"),
        ("小区停车费怎么收", "小区停车废怎么收"),  # one typo in a short question
        ("孩子上小学了放学后没人接社区有托管吗", "孩纸上小学了放学后没人接社区有拖管吗"),  # two in a long one
        ("ＡＢＣ小区停车费怎么收", "abc小区停车费怎么收"),  # full-width and case
    ],
)
def test_small_differences_do_not_split_a_question(a, b):
    assert len(group_questions([row(1, a), row(2, b)])) == 1


def test_sorted_by_count_then_most_recent():
    rows = [row(1, "垃圾分类几点投放", minutes=1), row(2, "垃圾分类几点投放", minutes=2),
            row(3, "小区停车费怎么收", minutes=3), row(4, "快递柜坏了找谁", minutes=50)]
    texts = [g.text for g in group_questions(rows)]
    assert texts == ["垃圾分类几点投放", "快递柜坏了找谁", "小区停车费怎么收"]


def test_the_intents_considered_are_averaged_across_the_group():
    rows = [
        row(1, "社区食堂今天什么菜", intents=[{"name": "elderly_meal", "confidence": 0.4},
                                        {"name": "community_affairs", "confidence": 0.2}]),
        row(2, "社区食堂今天什么菜啊", intents=[{"name": "elderly_meal", "confidence": 0.2}]),
        row(3, "请问社区食堂今天有什么菜", intents=[]),  # a 👎 has no ranking: not counted
    ]
    (group,) = group_questions(rows)
    assert group.count == 3
    assert group.top_intents == [{"name": "elderly_meal", "confidence": 0.3},
                                 {"name": "community_affairs", "confidence": 0.1}]


def test_rows_as_sqlite_returns_them_naive_datetimes_and_empty_text():
    rows = [row(1, "小区停车费怎么收"), row(2, "小区停车费怎么收", minutes=9), row(3, "")]
    rows[0]["created_at"] = rows[0]["created_at"].replace(tzinfo=None)
    groups = group_questions(rows)
    assert [g.count for g in groups] == [2, 1]
    assert groups[0].latest == T0 + dt.timedelta(minutes=9)
    assert groups[0].key != groups[1].key
    assert group_questions([]) == []


def test_the_group_key_is_stable_when_more_residents_ask():
    first = group_questions([row(1, "小区停车费怎么收"), row(2, "小区停车费怎么收？")])[0]
    later = group_questions([row(1, "小区停车费怎么收"), row(2, "小区停车费怎么收？"),
                             row(3, "请问小区停车费怎么收", minutes=9)])[0]
    assert first.key == later.key and later.count == 3


def test_a_few_thousand_rows_take_well_under_a_second():
    rng = random.Random(4)
    base = CHARGING + OTHERS + [f"{place}的{thing}{ask}" for place in ("3号楼", "社区", "小区东门", "幼儿园")
                                for thing in ("路灯", "电梯", "垃圾桶", "井盖", "长椅", "公告栏")
                                for ask in ("坏了找谁修", "什么时候装", "归谁管")]
    rows = [row(i, rng.choice(base) + rng.choice(["", "？", "啊", "，谢谢"]), minutes=rng.randrange(10_000),
                intents=[{"name": "complaint_report", "confidence": rng.random()}]) for i in range(3000)]
    start = time.perf_counter()
    groups = group_questions(rows)
    seconds = time.perf_counter() - start
    assert sum(g.count for g in groups) == 3000
    assert len(groups) <= len(base)
    assert seconds < 1.5, f"grouping 3000 rows took {seconds:.2f}s"
