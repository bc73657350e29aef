"""A transfer to staff (SIP REFER), a callback request outside staff hours, and two calls at
once, against SIPp on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.phone.settings import PhoneSettings
from tests.support.phone import Harness, always_open, needs_sipp
from tests.support.sipp import (
    RtpTap,
    Sipp,
    bye,
    expect_bye,
    free_media_port,
    free_udp_port,
    key,
    pause,
    take_refer,
    uac,
)

pytestmark = [needs_sipp, pytest.mark.slow]


@pytest.fixture
def staffed(tmp_path: Path, phone_settings: PhoneSettings) -> Iterator[Harness]:
    settings = replace(phone_settings, staff_extension="sip:staff@127.0.0.1:5999")
    running = Harness(tmp_path, settings, clock=always_open).start()
    try:
        yield running
    finally:
        running.stop()


def test_hash_in_staff_hours_transfers_by_refer_then_hangs_up(staffed: Harness, tmp_path: Path) -> None:
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    run = Sipp(tmp_path, uac([pause(1500), key("#"), take_refer(), expect_bye()]), name="transfer").start(
        f"127.0.0.1:{staffed.phone.sip_port}",
        keys={"caller": "13600004444"},
        local_port=sip_port,
        media_port=media_port,
    )
    result = run.wait()
    tap.close()
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    assert "REFERRED-TO sip:staff@127.0.0.1:5999" in run.log()
    assert tap.sip_at("in", "REFER") is not None and tap.sip_at("in", "BYE") is not None
    record = staffed.line.finished[-1]
    assert record.transferred_to == "sip:staff@127.0.0.1:5999"
    assert record.handoffs == []


def test_hash_after_hours_leaves_a_callback_with_the_number(
    tmp_path: Path, phone_settings: PhoneSettings
) -> None:
    sunday_night = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.timezone.utc)  # 22:00 in Beijing
    settings = replace(phone_settings, staff_extension="sip:staff@127.0.0.1:5999")
    running = Harness(tmp_path, settings, clock=lambda: sunday_night).start()
    try:
        sip_port, media_port = free_udp_port(), free_media_port()
        tap = RtpTap(media_port, sip_port)
        run = Sipp(tmp_path, uac([pause(1500), key("#"), pause(6000), bye()]), name="callback").start(
            f"127.0.0.1:{settings.sip_port}",
            keys={"caller": "13500005555"},
            local_port=sip_port,
            media_port=media_port,
        )
        result = run.wait()
        tap.close()
        assert result.ok, result.output[-2000:] + run.log()[-3000:]
        assert tap.sip_at("in", "REFER") is None  # nobody to transfer to at night
        inbox = running.store.handoffs.inbox()
        assert [(h["reason"], h["channel"], h["conversation_id"]) for h in inbox] == [
            ("callback", "phone", "phone-13500005555")
        ]
        assert "13500005555" in inbox[0]["text"]
        said = " ".join(running.line.finished[-1].said)
        assert "回电" in said and "明天" in said  # when staff will call: Monday 8:30
        assert tap.first_sound_after(running.line.finished[-1].key_at[0]) is not None
    finally:
        running.stop()


def test_two_calls_at_once_each_its_own_conversation(staffed: Harness, tmp_path: Path) -> None:
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    scenario = uac([pause(2500), key("2"), pause(3000), bye()]).replace("[caller]@", "[caller][call_number]@")
    run = Sipp(tmp_path, scenario, name="two").start(
        f"127.0.0.1:{staffed.phone.sip_port}",
        keys={"caller": "1380000000"},
        local_port=sip_port,
        media_port=media_port,
        calls=2,
        rate=10,
    )
    result = run.wait()
    tap.close()
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    records = staffed.line.finished[-2:]
    assert len({r.sender for r in records}) == 2
    assert all(r.keys == ["2"] for r in records)
    streams = [ssrc for ssrc in tap.ssrcs() if len(tap.sound_times(ssrc)) > 50]
    assert len(streams) == 2, "each caller hears their own greeting and answer"
    senders = {sender for sender, message in staffed.rasa.asked if message.startswith("/elderly_meal")}
    assert senders == {r.sender for r in records}
