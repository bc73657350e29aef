"""The keypad: key actions, scripts, callback-number entry."""

from __future__ import annotations

import pytest

from voice.keypad import MENU, Action, CallbackEntry, EntryState, action_for, parse_keys


def test_phone_style_actions():
    assert [action_for(k) for k in "1234"] == [Action.MENU] * 4
    assert action_for("*") is Action.REPEAT
    assert action_for("0") is Action.SLOWER
    assert action_for("9") is Action.LOUDER
    assert action_for("#") is Action.HANDOFF
    assert action_for("5") is Action.NONE
    with pytest.raises(ValueError):
        action_for("a")


def test_menu_payloads_are_the_domain_quick_replies():
    assert {k: (m.label, m.payload) for k, m in MENU.items()} == {
        "1": ("证明", '/cert_apply{"menu":"domain"}'),
        "2": ("养老", '/elderly_meal{"menu":"domain"}'),
        "3": ("托育", '/childcare_nursery{"menu":"domain"}'),
        "4": ("就业", '/employment_jobs{"menu":"domain"}'),
    }


def test_parse_keys():
    assert parse_keys("2*0#") == ["2", "*", "0", "#"]
    assert parse_keys("1, 2 3") == ["1", "2", "3"]
    assert parse_keys("") == []
    with pytest.raises(ValueError, match="0-9"):
        parse_keys("12a")


def test_callback_number_is_read_back_and_confirmed():
    entry = CallbackEntry()
    assert [entry.press(k) for k in "13812345678"] == [None] * 11
    read_back = entry.press("#")
    assert entry.state is EntryState.CONFIRM
    assert "幺三八 幺二三四 五六七八" in read_back and "按一" in read_back
    assert entry.press("5") == read_back  # anything else: read it again
    entry.press("1")
    assert entry.state is EntryState.DONE and entry.finished and entry.digits == "13812345678"


def test_callback_number_can_be_retyped_corrected_and_cancelled():
    entry = CallbackEntry()
    for key in "1399*8#":
        entry.press(key)
    assert entry.digits == "1398"
    assert entry.press("*") == CallbackEntry.PROMPT and entry.digits == ""
    for key in "#":
        assert "没有留号码" in entry.press(key)
    entry.press("#")
    assert entry.state is EntryState.CANCELLED and entry.finished


def test_callback_number_is_bounded():
    entry = CallbackEntry(max_digits=4)
    for key in "123456":
        entry.press(key)
    assert entry.digits == "1234"
