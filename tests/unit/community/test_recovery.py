"""What a resident hears while the assistant is being restarted (community/recovery.py)."""

import pytest

from community.recovery import recovery_reply

PHONE = "010-8765-4300"


@pytest.mark.parametrize("text, number", [
    ("喘袂过气，胸坎痛甲欲死", "120"),
    ("我儿子在公园跟丢了，已经找了半个钟头", "110"),
    ("楼道里电动车着火了", "119"),
])
def test_danger_told_in_a_residents_words_gets_its_number_while_the_assistant_is_down(text, number):
    first = recovery_reply(text, PHONE).lines[0]
    assert first.startswith(f"请马上拨打 {number}")


def test_an_ordinary_question_is_told_the_system_is_recovering_with_the_phone_number():
    lines = recovery_reply("高龄津贴怎么领", PHONE).lines
    assert "系统正在恢复" in lines[0] and PHONE in lines[0]
    assert "110" in lines[1]  # the numbers are still said, in case
