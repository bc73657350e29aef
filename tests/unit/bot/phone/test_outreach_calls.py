"""月探访 against real called phones (SIPp on loopback): a month run reaches each enrolled
phone, stores the answers given by key, and turns "不太好", "需要助餐" and "no answer on three
days" into tasks in the staff inbox; a resident who chose Telegram gets a message instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support.phone import Harness, needs_sipp
from tests.support.sipp import (
    RtpTap,
    Sipp,
    expect_bye,
    free_media_port,
    free_udp_port,
    pause,
    phone_info_key,
    uas,
)

pytestmark = [needs_sipp, pytest.mark.slow]

TZ = dt.timezone(dt.timedelta(hours=8))


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 12, n, 10, 0, tzinfo=TZ)


def phone(
    tmp_path: Path, name: str, steps: list[str] | None, calls: int = 1
) -> tuple[Sipp, int, RtpTap | None]:
    port, media = free_udp_port(), free_media_port()
    tap = RtpTap(media, port) if steps is not None else None
    scenario = uas(steps or [], answer=steps is not None)
    run = Sipp(tmp_path, scenario, name=name).start(
        None, keys={"caller": name}, local_port=port, media_port=media, calls=calls, timeout_s=120
    )
    return run, port, tap


def test_month_run_reaches_stores_and_makes_tasks(harness: Harness, tmp_path: Path) -> None:
    store = harness.store
    assert store is not None and harness.line is not None
    unwell = store.outreach.enrol(
        name="王奶奶",
        phone="13800000001",
        preferred_time="9:00",
        consent=True,
        staff="li",
        alert_contact="女儿 13900000009",
    )
    fine = store.outreach.enrol(
        name="赵大爷", phone="13800000002", preferred_time="9:30", consent=True, staff="li"
    )
    away = store.outreach.enrol(
        name="钱大爷", phone="13800000003", preferred_time="8:00", consent=True, staff="li"
    )
    texted = store.outreach.enrol(
        name="孙阿姨",
        phone="13800000004",
        preferred_time="9:00",
        consent=True,
        staff="li",
        channel="telegram",
        telegram_conversation="tg-4242",
    )
    store.outreach.enrol(name="周大爷", phone="13800000005", preferred_time="18:00", consent=True, staff="li")

    # 王奶奶: 2 不太好, needs 1 助餐 (0 ends the list), 2 no visit. 赵大爷: 1 好, 0, 2.
    def keys(*digits: str) -> list[str]:
        steps = []
        for cseq, digit in enumerate(digits, start=1):
            steps += [pause(1500), phone_info_key(digit, cseq)]
        return [*steps, expect_bye(40000)]

    a, a_port, a_tap = phone(tmp_path, "unwell", keys("2", "1", "0", "2"))
    b, b_port, _ = phone(tmp_path, "fine", keys("1", "0", "2"))
    c, c_port, _ = phone(tmp_path, "away", None, calls=3)
    ports = {"13800000001": a_port, "13800000002": b_port, "13800000003": c_port, "13800000005": c_port}

    runner = harness.line.outreach
    assert runner is not None
    runner.dial = lambda number: f"sip:{number}@127.0.0.1:{ports[number]}"
    runner.settings = type(runner.settings)(**{**runner.settings.__dict__, "outreach_ring_seconds": 5.0})

    first = {o.resident_id: o for o in harness.call(runner.run_once(day(1)), timeout=120)}
    assert set(first) == {unwell, fine, away, texted}  # 周大爷's time (18:00) has not come
    assert first[unwell].result == "reached" and first[unwell].task
    assert first[fine].result == "reached" and not first[fine].task
    assert first[away].result == "no_answer" and not first[away].task
    assert first[texted].result == "messaged"
    assert a.wait().ok and b.wait().ok
    assert a_tap is not None and a_tap.sound_times(), "the resident heard the questions"
    a_tap.close()

    # Tried again on other days only; never twice on one day.
    assert harness.call(runner.run_once(day(1) + dt.timedelta(hours=2))) == []
    assert [o.result for o in harness.call(runner.run_once(day(2)), timeout=60)] == ["no_answer"]
    third = harness.call(runner.run_once(day(3)), timeout=60)
    assert [(o.resident_id, o.result, o.task) for o in third] == [(away, "unreached", True)]
    assert c.wait().ok

    report = store.outreach.month_report("2026-12")
    rows = {r["resident_id"]: r for r in report["reached"]}
    assert rows[unwell]["wellbeing"] == "not_good" and rows[unwell]["needs"] == "meal"
    assert rows[unwell]["wants_visit"] is False
    assert rows[fine]["wellbeing"] == "good" and not rows[fine]["followup"]
    assert [r["resident_id"] for r in report["unreached"]] == [away]
    assert [r["resident_id"] for r in report["followup"]] == [unwell, away]
    assert report["coverage"] == pytest.approx(2 / 5)

    inbox = store.handoffs.inbox()
    texts = {h["conversation_id"]: h["text"] for h in inbox}
    assert "不太好" in texts[f"outreach-{unwell}-2026-12"] and "助餐" in texts[f"outreach-{unwell}-2026-12"]
    assert "女儿 13900000009" in texts[f"outreach-{unwell}-2026-12"]
    assert "没有接通" in texts[f"outreach-{away}-2026-12"]
    assert all(h["reason"] == "outreach" and h["channel"] == "outreach" for h in inbox)
    sent = store.notifications.pending("telegram", "tg-4242")
    assert len(sent) == 1 and "孙阿姨" in sent[0]["text"]
