import datetime as dt

import pytest

from community.entities import extract_entities, parse_date, parse_time
from community.numerals import parse_number

SUNDAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    "text, value",
    [("八十二", 82), ("一百零五", 105), ("十五", 15), ("两", 2), ("二〇二六", 2026), ("三千五", 3500),
     ("82", 82), ("一百五", 150), ("两万三", 23000), ("abc", None), ("", None)],
)
def test_chinese_numerals(text, value):
    assert parse_number(text) == value


def values(text, today=SUNDAY):
    return {e.entity: e.value for e in extract_entities(text, today)}


def test_age_and_address_together():
    found = values("我想给我妈报个助餐她82了住3栋2单元501")
    assert found == {"age": 82, "building": 3, "unit": 2, "room": 501}


def test_entity_offsets_point_into_the_original_text():
    text = "我爸八十五歲了，住５号楼３单元６０２室"
    for entity in extract_entities(text, SUNDAY):
        assert entity.end > entity.start
        assert text[entity.start : entity.end]
    assert values(text)["age"] == 85
    assert values(text)["room"] == 602


@pytest.mark.parametrize(
    "text, date",
    [("明天上午", "2026-11-30"), ("后天下午两点", "2026-12-01"), ("下周三", "2026-12-02"),
     ("这周五", "2026-12-04"), ("3月5号", "2027-03-05"), ("12月3日去", "2026-12-03")],
)
def test_dates(text, date):
    found = parse_date(text, SUNDAY)
    assert found is not None and found[0].isoformat() == date


@pytest.mark.parametrize(
    "text, time",
    [("后天下午两点", "14:00"), ("明天上午", "上午"), ("星期五下午3点半", "15:30"), ("早上9点", "09:00")],
)
def test_times(text, time):
    found = parse_time(text)
    assert found is not None and found[0] == time


def test_no_false_ages_or_dates_in_plain_questions():
    assert values("我了解一下高龄津贴") == {}
    assert "age" not in values("住3栋501")
