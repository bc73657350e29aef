"""`make bench` phone-line figures, against SIPp on loopback (the phone line runs in this process
with its real SIP stack, call sessions and espeak-ng; Rasa's REST channel is a local stand-in
answering the menu keys, so the figures are the line's own):

* INVITE → 200 OK, as the caller sees it;
* 200 OK → first audio (the greeting's first RTP packet with sound);
* key → first audio of the answer (SIPp's RFC 4733 key 2 → the first packet with sound after it);
* concurrent calls per core before audio breaks up: N callers at once (each presses 2 and
  listens), N raised until more than 0.5 % of the assistant's audio packets arrive over 60 ms
  after the one before (a gap a caller hears), or packets are missing, up to the 4 calls one
  PJSIP endpoint of this wheel takes (the figure says when it stopped there, not at break-up).

Timings come from the loopback interface (SIP messages and RTP to SIPp's media port), so this
needs root (a packet socket) and Debian's sip-tester.

    .venv/bin/python -m tools.bench_phone [--runs 5] [--max-calls 24]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.phone.settings import PhoneSettings  # noqa: E402
from bot.phone.sip import PJSUA_MAX_CALLS  # noqa: E402
from tests.support.phone import Harness  # noqa: E402
from tests.support.sipp import (  # noqa: E402
    SIPP,
    RtpTap,
    Sipp,
    bye,
    can_tap,
    free_media_port,
    free_udp_port,
    key,
    pause,
    uac,
)

GAP_S = 0.060
BREAK_RATE = 0.005


def one_call(harness: Harness, workdir: Path, n: int) -> dict[str, float | None]:
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    run = Sipp(workdir, uac([pause(1500), key("2"), pause(3500), bye()]), name=f"call{n}").start(
        f"127.0.0.1:{harness.phone.sip_port}",
        keys={"caller": f"1380000{n:04d}"},
        local_port=sip_port,
        media_port=media_port,
    )
    result = run.wait()
    time.sleep(0.2)
    tap.close()
    if not result.ok:
        raise SystemExit(f"SIPp call failed:\n{result.output[-1500:]}")
    invite, ok = tap.sip_at("out", "INVITE"), tap.sip_at("in", "SIP/2.0 200")
    greeting = tap.first_sound_after(ok) if ok else None
    pressed = tap.keys_sent[0] if tap.keys_sent else None
    answer = tap.first_sound_after(pressed) if pressed else None
    return {
        "invite_to_200_ms": (ok - invite) * 1000 if ok and invite else None,
        "answer_to_audio_ms": (greeting - ok) * 1000 if greeting and ok else None,
        "key_to_audio_ms": (answer - pressed) * 1000 if answer and pressed else None,
    }


def concurrent(harness: Harness, workdir: Path, calls: int) -> dict[str, float]:
    sip_port, media_port = free_udp_port(), free_media_port()
    tap = RtpTap(media_port, sip_port)
    scenario = uac([pause(2000), key("2"), pause(6000), bye()]).replace("[caller]@", "[caller][call_number]@")
    run = Sipp(workdir, scenario, name=f"load{calls}").start(
        f"127.0.0.1:{harness.phone.sip_port}",
        keys={"caller": "139000"},
        local_port=sip_port,
        media_port=media_port,
        calls=calls,
        rate=50,
        timeout_s=60,
    )
    result = run.wait(120)
    time.sleep(0.3)
    tap.close()
    by_stream: dict[int, list[float]] = {}
    for packet in tap.packets:
        by_stream.setdefault(packet.ssrc, []).append(packet.at)
    gaps = packets = 0
    for times in by_stream.values():
        times = times[10:-5]  # steady state
        packets += len(times)
        gaps += sum(1 for a, b in zip(times, times[1:], strict=False) if b - a > GAP_S)
    expected = calls * 7.0 / 0.02 * 0.7  # about 7 s of 20 ms packets each, allowing for set-up
    if not result.ok:
        print(f"  SIPp with {calls} calls: {result.output[-600:]}")
    return {
        "calls": calls,
        "sipp_ok": result.ok,
        "streams": len(by_stream),
        "packets": packets,
        "gap_rate": gaps / packets if packets else 1.0,
        "complete": float(result.ok and len(by_stream) >= calls and packets >= expected),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-calls", type=int, default=PJSUA_MAX_CALLS)
    args = parser.parse_args()
    if SIPP is None or not can_tap():
        print("phone bench skipped: needs SIPp (apt-get install sip-tester) and root for the loopback tap")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    settings = PhoneSettings(
        sip_port=free_udp_port(), rtp_port=30000, max_calls=min(args.max_calls, PJSUA_MAX_CALLS)
    )
    harness = Harness(workdir, settings).start()
    try:
        single = [one_call(harness, workdir, n) for n in range(args.runs)]
        figures: dict[str, object] = {}
        for name in ("invite_to_200_ms", "answer_to_audio_ms", "key_to_audio_ms"):
            values = [r[name] for r in single if r[name] is not None]
            figures[name] = {
                "median": round(statistics.median(values), 1) if values else None,
                "max": round(max(values), 1) if values else None,
                "n": len(values),
            }
        load = []
        sustained = 0
        calls = 2
        while calls <= args.max_calls:
            step = concurrent(harness, workdir, calls)
            load.append(step)
            print(
                f"  {calls:2d} calls at once: gaps {step['gap_rate'] * 100:.2f} %, "
                f"{step['streams']} streams, "
                f"{step['packets']} packets, SIPp ok {step['sipp_ok']}"
            )
            if step["gap_rate"] > BREAK_RATE or not step["complete"]:
                break
            sustained = calls
            calls += 1
        cores = os.cpu_count() or 1
        figures["concurrent_calls"] = {
            "sustained": sustained,
            "cores": cores,
            "per_core": round(sustained / cores, 1),
            "steps": load,
        }
    finally:
        harness.stop()
    print("Phone line (SIPp on loopback, G.711 PCMU, RFC 4733):")
    for name, label in (
        ("invite_to_200_ms", "INVITE → 200 OK"),
        ("answer_to_audio_ms", "200 OK → first audio"),
        ("key_to_audio_ms", "key 2 → first audio of the answer"),
    ):
        f = figures[name]
        print(f"  {label}: median {f['median']} ms, max {f['max']} ms ({f['n']} calls)")  # type: ignore[index]
    c = figures["concurrent_calls"]
    print(
        f"  concurrent calls before audio breaks up: {c['sustained']} on {c['cores']} cores "  # type: ignore[index]
        f"({c['per_core']} per core; capped at --max-calls {args.max_calls})"
    )  # type: ignore[index]
    out = ROOT / "results" / "bench_phone.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
