"""SIPp, the real SIP peer of the phone line's tests and bench: scenarios written for each test
(a caller that listens, presses keys by RFC 4733 or SIP INFO, hangs up or is hung up on, takes a
REFER; a called phone that answers and presses keys, or never answers), and an RTP tap that
watches the assistant's audio arrive at SIPp's media port on the loopback interface and
measures it (SIPp itself does not record audio).

The keys are SIPp's own RFC 2833/4733 recordings (``/usr/share/sip-tester/dtmf_2833_*.pcap``),
played from SIPp's media port, the one its SDP offers, as a phone would.
"""

from __future__ import annotations

import audioop
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")
SIPP = shutil.which("sipp")
PCAP_NAMES = {
    **{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
    "*": "dtmf_2833_star.pcap",
    "#": "dtmf_2833_pound.pcap",
}
ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4
SOUND_RMS = 300  # 16-bit RMS of a 20 ms packet above which it carries speech, not silence


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_media_port() -> int:
    """An even port for SIPp's ``-mp`` with the three after it free too: SIPp binds the audio
    port, its RTCP port and two for video (a busy video port made a call fail at start)."""
    for _ in range(100):
        base = free_udp_port() & ~1
        probes = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        try:
            for offset, probe in enumerate(probes):
                probe.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no four free UDP ports in a row for SIPp's media")


# --- scenario steps ---------------------------------------------------------------------------


def pause(ms: int) -> str:
    return f'  <pause milliseconds="{int(ms)}"/>\n'


def key(digit: str) -> str:
    """An RFC 4733 key press (SIPp plays its recording of the event)."""
    return f'  <nop><action><exec play_pcap_audio="{PCAP_DIR / PCAP_NAMES[digit]}"/></action></nop>\n'


_HEAD = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      Call-ID: [call_id]
"""


def info_key(digit: str, cseq: int) -> str:
    """A key press by SIP INFO (application/dtmf-relay), the fallback for phones without RFC 4733."""
    return f"""  <send retrans="500">
    <![CDATA[
      INFO sip:assistant@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:assistant@[remote_ip]:[remote_port]>[peer_tag_param]
      CSeq: {cseq} INFO
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
"""


def phone_info_key(digit: str, cseq: int) -> str:
    """A called phone's key press by SIP INFO (PJSIP offers telephone-event at its own payload
    type, which SIPp's recorded RFC 4733 events do not use, so a called SIPp presses keys this way)."""
    return f"""  <send retrans="500">
    <![CDATA[
      INFO [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      Call-ID: [call_id]
      From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To:[$remote]
      CSeq: {cseq} INFO
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
"""


def bye(cseq: int = 9) -> str:
    return f"""  <send retrans="500">
    <![CDATA[
      BYE sip:assistant@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:assistant@[remote_ip]:[remote_port]>[peer_tag_param]
      CSeq: {cseq} BYE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""


def expect_bye(timeout_ms: int = 30000) -> str:
    """The assistant hangs up: its BYE is answered 200."""
    return f"""  <recv request="BYE" timeout="{timeout_ms}"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
"""


def take_refer(timeout_ms: int = 20000) -> str:
    """A transfer: REFER is accepted (202), and the NOTIFY says the target answered (200)."""
    return f"""  <recv request="REFER" timeout="{timeout_ms}">
    <action><ereg regexp="Refer-To: *.?(sip:[-a-zA-Z0-9_.@:]*)" search_in="msg" check_it="true"
                  assign_to="whole,target"/></action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 202 Accepted
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <nop><action><log message="REFERRED-TO [$target] [$whole]"/></action></nop>
  <send retrans="500">
    <![CDATA[
      NOTIFY sip:assistant@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:assistant@[remote_ip]:[remote_port]>[peer_tag_param]
      CSeq: 3 NOTIFY
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Event: refer
      Subscription-State: terminated;reason=noresource
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

      SIP/2.0 200 OK
    ]]>
  </send>
  <recv response="200"/>
"""


def uac(steps: list[str]) -> str:
    """A caller: INVITE with G.711 and telephone-event (audio to ``[media_port]``), ACK, then ``steps``."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:assistant@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:assistant@[remote_ip]:[remote_port]>
      CSeq: 1 INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:assistant@[remote_ip]:[remote_port] SIP/2.0
{_HEAD}      From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:assistant@[remote_ip]:[remote_port]>[peer_tag_param]
      CSeq: 1 ACK
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
{"".join(steps)}</scenario>
"""


def uas(steps: list[str], *, answer: bool = True) -> str:
    """A called phone: rings, answers with G.711 (audio to ``[media_port]``) and runs ``steps``;
    with ``answer=False`` it rings until the caller gives up (CANCEL → 487)."""
    if not answer:
        return """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone that is not answered">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [cseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone that answers">
  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>
      <ereg regexp="sip:[-a-zA-Z0-9_.@:]*" search_in="hdr" header="Contact:" assign_to="contact"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
    ]]>
  </send>
  <recv request="ACK"/>
{"".join(steps)}</scenario>
"""


# --- receiving what the assistant says --------------------------------------------------------


@dataclass
class Packet:
    at: float
    ssrc: int
    payload_type: int
    rms: int


class RtpTap:
    """Watches UDP packets to ``port`` on the loopback interface (a packet socket: needs root)
    and measures each RTP packet's loudness. Nothing is sent or answered."""

    def __init__(self, port: int, sip_port: int = 0) -> None:
        self.port = port
        self.sip_port = sip_port
        self.packets: list[Packet] = []
        self.sip: list[tuple[float, str, str]] = []  # (time, "in"/"out" seen from SIPp, first line)
        self.keys_sent: list[float] = []  # when SIPp's RFC 4733 key events began
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        # The kernel's receive time of each packet, not when this (GIL-sharing) thread read it.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._offset = time.time() - time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                frame, ancillary, _, address = self.sock.recvmsg(65535, 256)
            except (TimeoutError, OSError):
                if self._stop.is_set():
                    return  # stopped, and nothing left to read
                continue
            now = time.monotonic()
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    now = seconds + nanoseconds / 1e9 - self._offset
            if address[2] == PACKET_OUTGOING or len(frame) < 14 + 20 + 8 + 12:
                continue  # loopback shows each packet twice
            ip = frame[14:]
            if ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            udp = ip[(ip[0] & 0x0F) * 4 :]
            source, target = int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big")
            if self.sip_port and self.sip_port in (source, target):
                line = udp[8:].split(b"\r\n", 1)[0].decode("latin-1")
                self.sip.append((now, "in" if target == self.sip_port else "out", line))
            elif target == self.port:
                self._measure(udp[8:], now)
            elif source == self.port and len(udp) > 20 and udp[8 + 1] & 0x80 and udp[8 + 1] & 0x7F == 101:
                self.keys_sent.append(now)  # the marker bit: a new key event

    def _measure(self, data: bytes, now: float) -> None:
        payload_type = data[1] & 0x7F
        ssrc = int.from_bytes(data[8:12], "big")
        audio = data[12:]
        if payload_type == 0:
            rms = audioop.rms(audioop.ulaw2lin(audio, 2), 2)
        elif payload_type == 8:
            rms = audioop.rms(audioop.alaw2lin(audio, 2), 2)
        else:
            rms = 0
        self.packets.append(Packet(now, ssrc, payload_type, rms))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.sock.close()

    def sound_times(self, ssrc: int | None = None) -> list[float]:
        return [p.at for p in self.packets if p.rms > SOUND_RMS and (ssrc is None or p.ssrc == ssrc)]

    def first_sound_after(self, moment: float, ssrc: int | None = None) -> float | None:
        return next((t for t in self.sound_times(ssrc) if t >= moment), None)

    def ssrcs(self) -> list[int]:
        return list(dict.fromkeys(p.ssrc for p in self.packets))

    def sip_at(self, direction: str, starts: str, after: float = 0.0) -> float | None:
        """When SIPp sent (``out``) or received (``in``) the first message starting ``starts``."""
        return next(
            (t for t, d, line in self.sip if d == direction and line.startswith(starts) and t >= after), None
        )


def can_tap() -> bool:
    return hasattr(socket, "AF_PACKET") and os.geteuid() == 0


# --- running SIPp -------------------------------------------------------------------------------


@dataclass
class SippResult:
    returncode: int
    output: str
    started_at: float
    ended_at: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Sipp:
    """One SIPp run of a scenario (written to ``workdir``)."""

    def __init__(self, workdir: Path, scenario: str, *, name: str = "scenario") -> None:
        self.workdir = workdir
        self.path = workdir / f"{name}.xml"
        self.path.write_text(scenario, encoding="ascii")
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(
        self,
        target: str | None,
        *,
        keys: dict[str, str],
        local_port: int = 0,
        media_port: int = 0,
        calls: int = 1,
        rate: float | None = None,
        timeout_s: int = 60,
        extra: list[str] | None = None,
    ) -> Sipp:
        assert SIPP, "SIPp is not installed (apt-get install sip-tester)"
        args = [
            SIPP,
            "-sf",
            str(self.path),
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-p",
            str(local_port or free_udp_port()),
            "-mp",
            str(media_port or free_media_port()),
            "-m",
            str(calls),
            "-l",
            str(calls),
            "-nostdin",
            "-timeout",
            f"{timeout_s}s",
            "-trace_logs",
            "-log_file",
            str(self.workdir / f"{self.name}.log"),
            "-trace_msg",
            "-message_file",
            str(self.workdir / f"{self.name}.messages"),
            "-trace_err",
            "-error_file",
            str(self.workdir / f"{self.name}.errors"),
        ]
        if rate is not None:
            args += ["-r", str(rate)]
        for name, value in keys.items():
            args += ["-key", name, value]
        args += extra or []
        if target:
            args.append(target)
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        return self

    def wait(self, timeout: float = 90) -> SippResult:
        assert self.process is not None
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return SippResult(
            self.process.returncode, out.decode(errors="replace"), self.started_at, time.monotonic()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        path = self.workdir / f"{self.name}.log"
        errors = self.workdir / f"{self.name}.errors"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text + (errors.read_text(errors="replace") if errors.exists() else "")
