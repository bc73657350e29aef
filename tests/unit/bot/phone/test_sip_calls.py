"""The phone line against SIPp on loopback: G.711 calls with RFC 4733 and SIP INFO keys, timed
from the caller's side (SIP messages and the assistant's RTP seen on the loopback interface)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.phone import Harness, needs_sipp
from tests.support.sipp import (
    RtpTap,
    Sipp,
    bye,
    expect_bye,
    free_media_port,
    free_udp_port,
    info_key,
    key,
    pause,
    uac,
)

pytestmark = [needs_sipp, pytest.mark.slow]


def call(
    harness: Harness, tmp_path: Path, steps: list[str], *, caller: str = "13800001111", name: str = "call"
):
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    run = Sipp(tmp_path, uac(steps), name=name).start(
        f"127.0.0.1:{harness.phone.sip_port}",
        keys={"caller": caller},
        local_port=sip_port,
        media_port=media_port,
    )
    result = run.wait()
    tap.close()
    return result, tap, run


def test_answered_greeting_heard_key_2_answered_bye_acknowledged(harness: Harness, tmp_path: Path) -> None:
    result, tap, run = call(
        harness, tmp_path, [pause(2500), key("2"), pause(4000), key("*"), pause(2000), bye()]
    )
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    invite = tap.sip_at("out", "INVITE")
    ok = tap.sip_at("in", "SIP/2.0 200")
    assert invite is not None and ok is not None
    assert ok - invite < 3.0  # answered within 3 s
    greeting = tap.first_sound_after(ok)
    assert greeting is not None and greeting - ok < 3.0  # the greeting is heard (sound, not silence)
    assert {p.payload_type for p in tap.packets} <= {0, 8}  # G.711
    loud = len(tap.sound_times())
    assert loud > 50, f"only {loud} packets with sound"
    # Key 2 (养老) → the answer's first audio within 3 s.
    record = harness.line.finished[-1]
    assert record.keys[:2] == ["2", "*"]
    assert any(message.startswith("/elderly_meal") for _, message in harness.rasa.asked)
    pressed = record.key_at[0]
    assert min(t for t in tap.sound_times() if t >= pressed) - pressed < 3.0
    # * repeats: sound again after the second key.
    assert tap.first_sound_after(record.key_at[1]) is not None
    # BYE acknowledged (200 to SIPp's BYE).
    bye_sent = tap.sip_at("out", "BYE")
    assert bye_sent is not None and tap.sip_at("in", "SIP/2.0 200", after=bye_sent) is not None
    assert record.sender == "phone-13800001111"


def test_sip_info_keys_are_understood(harness: Harness, tmp_path: Path) -> None:
    result, tap, run = call(
        harness, tmp_path, [pause(1000), info_key("1", 2), pause(2500), bye(3)], caller="13900002222"
    )
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    record = harness.line.finished[-1]
    assert record.keys == ["1"]
    assert any(
        message.startswith("/cert_apply")
        for sender, message in harness.rasa.asked
        if sender == "phone-13900002222"
    )


def test_caller_hangs_up_mid_sentence_and_the_line_takes_the_next_call(
    harness: Harness, tmp_path: Path
) -> None:
    result, tap, run = call(harness, tmp_path, [pause(700), bye()], name="short")
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    assert harness.line.stack.active_calls == 0
    result, tap, run = call(harness, tmp_path, [pause(1500), bye()], name="next")
    assert result.ok
    assert tap.sound_times(), "the next caller hears the greeting"
    assert len(harness.line.finished) == 2


def test_the_assistant_hangs_up_after_a_transfer_is_refused_nobody_called_back(
    harness: Harness, tmp_path: Path
) -> None:
    """Idle callers are said goodbye to and hung up on (the assistant's BYE is acknowledged)."""
    harness.line.settings = harness.phone  # unchanged; idle time comes from the sessions' settings
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    from dataclasses import replace

    short = replace(harness.phone, idle_seconds=2.0)
    harness.line.settings = short
    run = Sipp(tmp_path, uac([expect_bye(30000)]), name="idle").start(
        f"127.0.0.1:{harness.phone.sip_port}",
        keys={"caller": "13700003333"},
        local_port=sip_port,
        media_port=media_port,
    )
    result = run.wait()
    tap.close()
    assert result.ok, result.output[-2000:] + run.log()[-3000:]
    assert tap.sip_at("in", "BYE") is not None
