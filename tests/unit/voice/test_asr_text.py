"""Recogniser output to clean text."""

from __future__ import annotations

import pytest

from voice.asr_text import digit_run_to_arabic, join_words, normalize_asr_text


@pytest.mark.parametrize(
    "raw, joined",
    [
        ("我 想 办 居住 证明", "我想办居住证明"),
        ("我 想 用 wi fi 上网", "我想用wi fi上网"),
        ("app 怎么 下载", "app怎么下载"),
        ("  老年 餐桌  在 哪  ", "老年餐桌在哪"),
        ("hello world", "hello world"),
        ("", ""),
    ],
)
def test_spaces_between_chinese_words_are_removed_latin_spaces_kept(raw, joined):
    assert join_words(raw) == joined


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("我 的 电话 是 幺 三 八 幺 二 三 四 五 六 七 八", "我的电话是13812345678"),
        ("社区 电话 零 幺 零 八 七 六 五 四 三 零 零", "社区电话01087654300"),
        ("幺 幺 零", "110"),
        ("打 一 一 九", "打119"),
        ("拨打 幺 二 三 四 五", "拨打12345"),
        ("我 妈 八十二 岁", "我妈八十二岁"),  # said with units: left to community.numerals
        ("一百 零 五 号", "一百零五号"),
        ("我 想 问 一下", "我想问一下"),
        ("三 四 个 人", "三四个人"),
        ("二零二六 年", "二零二六年"),
    ],
)
def test_phone_digits_become_arabic_digits_other_numbers_stay(raw, expected):
    assert normalize_asr_text(raw) == expected


def test_unknown_markers_are_dropped_and_text_is_cleaned():
    assert normalize_asr_text("[unk] 老年 [unk] 餐桌") == "老年餐桌"
    assert normalize_asr_text("<unk>") == ""
    assert normalize_asr_text("養老 證明") == "养老证明"
    assert normalize_asr_text("ＡＢＣ 高龄 津贴") == "ABC高龄津贴"
    assert normalize_asr_text("") == ""


def test_digit_runs():
    assert digit_run_to_arabic("幺三八") == "138"
    assert digit_run_to_arabic("一二零") == "120"
    assert digit_run_to_arabic("一二") is None
    assert digit_run_to_arabic("三四五") is None
    assert digit_run_to_arabic("一二三四五六七") == "1234567"
