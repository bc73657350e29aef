"""Replies rewritten for the ear: numbers, times, phones, clean-up and short sentences."""

from __future__ import annotations

import re

import pytest

from community.answers import Button, Reply
from voice.speech_text import (
    MAX_SENTENCE_CHARS,
    reply_sentences,
    speech_sentences,
    speech_text,
    split_sentences,
)
from voice.spoken_numbers import read_digits, read_integer, read_number, read_phone, read_time

# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, spoken",
    [
        (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (60, "六十"), (82, "八十二"),
        (100, "一百"), (105, "一百零五"), (110, "一百一十"), (120, "一百二十"), (1000, "一千"),
        (1005, "一千零五"), (1050, "一千零五十"), (2026, "二千零二十六"), (10000, "一万"),
        (10010, "一万零一十"), (12345, "一万二千三百四十五"), (100000, "十万"), (110000, "十一万"),
        (1000000, "一百万"), (100000000, "一亿"), (100010000, "一亿零一万"), (-3, "负三"),
    ],
)
def test_integers_are_read_as_quantities(n, spoken):
    assert read_integer(n) == spoken


def test_two_is_liang_only_when_asked():
    assert read_integer(2) == "二"
    assert read_integer(2, liang=True) == "两"
    assert read_integer(22, liang=True) == "二十二"


@pytest.mark.parametrize(
    "text, spoken",
    [("3.5", "三点五"), ("0.5", "零点五"), ("007", "零零七"), ("12", "十二"), ("10.05", "十点零五")],
)
def test_numbers_with_decimals_and_leading_zeros(text, spoken):
    assert read_number(text) == spoken


def test_digits_use_yao_for_one_in_phone_readings():
    assert read_digits("0108") == "零幺零八"
    assert read_digits("0108", yao=False) == "零一零八"
    with pytest.raises(ValueError):
        read_digits("12a")


@pytest.mark.parametrize(
    "hour, minute, spoken",
    [
        (8, 30, "八点半"), (8, 0, "八点"), (13, 30, "十三点半"), (17, 30, "十七点半"), (2, 0, "两点"),
        (12, 0, "十二点"), (13, 5, "十三点零五分"), (9, 15, "九点十五分"), (0, 0, "零点"),
        (20, 45, "二十点四十五分"),
    ],
)
def test_clock_times(hour, minute, spoken):
    assert read_time(hour, minute) == spoken


def test_impossible_times_are_rejected():
    with pytest.raises(ValueError):
        read_time(25, 0)
    with pytest.raises(ValueError):
        read_time(8, 60)


@pytest.mark.parametrize(
    "number, spoken",
    [
        ("010-8765-4300", "零幺零 八七六五 四三零零"),
        ("13812345678", "幺三八 幺二三四 五六七八"),
        ("87654300", "八七六五 四三零零"),
        ("110", "幺幺零"),
        ("119", "幺幺九"),
        ("120", "幺二零"),
        ("12345", "幺二三四五"),
    ],
)
def test_phone_numbers_digit_by_digit(number, spoken):
    assert read_phone(number) == spoken


# --- text for the ear ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("电话 010-8765-4300", "电话 零幺零，八七六五，四三零零。"),
        ("请马上拨打 119！", "请马上拨打 幺幺九！"),
        ("请马上拨打 110 和 120！", "请马上拨打 幺幺零 和 幺二零！"),
        ("夜间请拨12345", "夜间请拨幺二三四五。"),
        ("监督电话：12333", "监督电话：幺二三三三。"),
        ("我的手机是13812345678", "我的手机是幺三八，幺二三四，五六七八。"),
        ("登记人 138****5678", "登记人 尾号五六七八。"),
        ("分机 8765-4300", "分机 八七六五，四三零零。"),
    ],
)
def test_phone_numbers_are_read_digit_by_digit_with_yao(text, expected):
    assert speech_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("您的编号是 SQ-20261202-0002。", "您的编号是 SQ，二零二六，幺二零二，零零零二。"),
        ("编号SQ-20261202-0002，请记好", "编号SQ，二零二六，幺二零二，零零零二，请记好。"),
        ("查询进度 sq-20261129-0007", "查询进度 SQ，二零二六，幺幺二九，零零零七。"),
    ],
)
def test_reference_numbers_are_read_in_chunks_with_pauses(text, expected):
    spoken = speech_text(text)
    assert spoken == expected
    assert "到" not in spoken  # never "…幺二零二到零零零二", as if it were a range


def test_phone_number_groups_are_separated_by_a_pause():
    """A space gives espeak-ng no pause; a comma does, so each group is heard on its own."""
    assert speech_text("电话 010-8765-4300") == "电话 零幺零，八七六五，四三零零。"
    assert speech_text("拨打 13812345678") == "拨打 幺三八，幺二三四，五六七八。"
    assert speech_text("请拨打110、119、120") == "请拨打幺幺零、幺幺九、幺二零。"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8:30", "八点半。"),
        ("周一至周五 13:30-17:30", "周一至周五 十三点半到十七点半。"),
        ("周一至周五 8:30-12:00、13:30-17:30", "周一至周五 八点半到十二点、十三点半到十七点半。"),
        ("上学日 16:00-18:30", "上学日 十六点到十八点半。"),
        ("每周三 14:00至16:00", "每周三 十四点到十六点。"),
        ("体检日 7:30-10:00（需空腹）", "体检日 七点半到十点，需空腹。"),
        ("下午2:00开始", "下午两点开始。"),
        ("9:05集合", "九点零五分集合。"),
    ],
)
def test_times_are_read_naturally(text, expected):
    assert speech_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("每餐15元", "每餐十五元。"),
        ("每餐另收配送费2元", "每餐另收配送费两元。"),
        ("需提前3天预约", "需提前三天预约。"),
        ("1-3天办好", "一到三天办好。"),
        ("本社区60周岁及以上老年人", "本社区六十周岁及以上老年人。"),
        ("24小时值班", "二十四小时值班。"),
        ("一层101室", "一层幺零幺室。"),
        ("3号楼2单元", "三号楼二单元。"),
        ("2月", "二月。"),
        ("第2次", "第二次。"),
        ("2026年5月1日起", "二零二六年五月一日起。"),
        ("2026-05-01", "二零二六年五月一日。"),
        ("2025-2026年度", "二零二五到二零二六年度。"),
        ("报销50%", "报销百分之五十。"),
        ("3.5公里", "三点五公里。"),
        ("¥20", "二十元。"),
        ("15元/人", "十五元每人。"),
        ("120元", "一百二十元。"),
        ("共110人", "共一百一十人。"),
        ("今天30℃", "今天三十度。"),
        ("补贴10000元", "补贴一万元。"),
    ],
)
def test_quantities_dates_and_units(text, expected):
    assert speech_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("【老年餐桌】在一层", "老年餐桌，在一层。"),
        ("证明（如有）；收费：免费", "证明，如有；收费：免费。"),
        ("居委会现在不开「无犯罪记录证明」了", "居委会现在不开无犯罪记录证明了。"),
        ("详见 https://www.gov.cn/zhengce/2021.htm 办理", "详见 办理。"),
        ("关注 weixin.qq.com 或发邮件到 help@example.org", "关注 或发邮件到。"),
        ("**重要**：带上`身份证`", "重要：带上身份证。"),
        ("## 办理须知", "办理须知。"),
        ("- 带户口本\n- 带身份证", "带户口本。带身份证。"),
        ("1. 先登记\n2. 再审核", "一、先登记。二、再审核。"),
        ("[点这里](http://x.cn/a) 查看 ![图](a.png)", "点这里 查看。"),
        ("> 温馨提示：免费", "温馨提示：免费。"),
        ("您好😀👍，欢迎🙏🏻", "您好，欢迎。"),
        ("☎ 咨询 ✅ 已办结", "咨询 已办结。"),
        ("周二/周四/周六", "周二、周四、周六。"),
        ("<b>粗体</b>&nbsp;文字", "粗体 文字。"),
        ("養老證明", "养老证明。"),
        ("/greet", ""),
        ("---", ""),
        ("", ""),
        ("😀😀", ""),
    ],
)
def test_nothing_is_read_that_is_not_meant_for_the_ear(text, expected):
    assert speech_text(text) == expected


def test_no_digits_latin_punctuation_or_brackets_remain():
    text = (
        "【老年餐桌（社区助餐点）】幸福里社区养老服务驿站 一层101室，周一至周日 11:00-13:00、17:00-18:30\n"
        "带：本人身份证；收费：每餐15元\n电话 010-8765-4311，当场登记 👉 https://example.cn/a?b=1"
    )
    spoken = speech_text(text)
    assert not re.search(r"[0-9【】「」()（）\[\]<>*#/:;,!?]|http|\.cn", spoken), spoken
    assert "零幺零，八七六五，四三幺幺" in spoken
    assert "十一点到十三点、十七点到十八点半" in spoken
    assert "每餐十五元" in spoken


# --- short sentences -------------------------------------------------------------------------


def test_long_answers_are_cut_into_short_sentences():
    text = (
        "【老年餐桌（社区助餐点）】幸福里社区养老服务驿站 一层101室，周一至周日 11:00-13:00、17:00-18:30\n"
        "带：本人身份证；收费：每餐15元\n电话 010-8765-4311，当场登记"
    )
    sentences = speech_sentences(text)
    assert all(len(s) <= MAX_SENTENCE_CHARS for s in sentences), sentences
    def bare(spoken: str) -> str:
        return re.sub("[。，；]", "", spoken)

    assert bare("".join(sentences)) == bare(speech_text(text))
    assert sentences[-1] == "电话 零幺零，八七六五，四三幺幺，当场登记。"
    assert not any(s.endswith(("，", "、", "：", "；")) for s in sentences)


def test_short_sentences_are_kept_whole():
    assert speech_sentences("您好。请问有什么可以帮您？") == ["您好。", "请问有什么可以帮您？"]


def test_a_sentence_without_commas_is_cut_at_spaces_then_hard():
    long = "请带好 " + "材料" * 20 + " 再来"
    pieces = split_sentences(speech_text(long), 10)
    assert all(len(p) <= 10 for p in pieces)
    assert "".join(pieces).replace(" ", "") == speech_text(long).replace(" ", "").rstrip("。") + "。"


def test_phone_groups_are_not_split_inside_a_group():
    sentences = speech_sentences(
        "如有疑问，请在工作日的办公时间内拨打社区服务中心的咨询电话 010-8765-4300 联系工作人员"
    )
    assert all(len(s) <= MAX_SENTENCE_CHARS for s in sentences), sentences
    joined = " ".join(sentences)
    for group in ("零幺零", "八七六五", "四三零零"):
        assert group in joined


def test_max_chars_is_configurable_and_checked():
    assert all(len(s) <= 12 for s in speech_sentences("周一至周五 8:30-12:00、13:30-17:30，周六休息", 12))
    with pytest.raises(ValueError):
        split_sentences("你好。", 2)


# --- replies -----------------------------------------------------------------------------------


def test_reply_buttons_are_never_read():
    reply = Reply(
        ("关于「养老服务」，您想问哪一项？请点选：",),
        (Button("老年餐桌", "/elderly_meal"), Button("找人工", "/human_handoff")),
    )
    sentences = reply_sentences(reply)
    assert sentences == ["关于养老服务，您想问哪一项？", "请点选。"]
    assert not any("老年餐桌" in s or "找人工" in s for s in sentences)


def test_rasa_messages_are_read_without_their_buttons():
    message = {"text": "请马上拨打 119！", "buttons": [{"title": "找人工", "payload": "/human_handoff"}]}
    assert reply_sentences(message) == ["请马上拨打 幺幺九！"]
    assert reply_sentences({"image": "x.png"}) == []
    assert reply_sentences("您好") == ["您好。"]
    with pytest.raises(TypeError):
        reply_sentences(42)


def test_emergency_answer_reads_well(catalogue):
    from community.answers import emergency_answer, service_answer

    spoken = reply_sentences(emergency_answer("家里着火了", "010-8765-4300"))
    assert spoken[0] == "请马上拨打 幺幺九！"
    assert any("零幺零，八七六五，四三零零" in s for s in spoken)
    for service in catalogue.services:
        for sentence in reply_sentences(service_answer(service)):
            leftover = re.search(r"[0-9A-Za-z【】「」()（）]", re.sub(r"APP|App|app", "", sentence))
            assert not leftover, (service.id, sentence)
