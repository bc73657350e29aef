"""The phone line's SIP stack: PJSIP through its own Python bindings (``pjsua2``).

PJSIP does all of SIP and RTP: the UDP transport, INVITE/ACK/BYE, registration to a PBX with
digest authentication, G.711 (PCMU/PCMA at 8 kHz) with its jitter buffer, RFC 4733 telephone
events and SIP INFO key presses, and REFER for transfers. Its conference bridge runs at 16 kHz,
so it also resamples each call's 8 kHz audio to the 16 kHz mono s16le the speech pipeline uses
(and the synthesiser's 16 kHz speech back down to G.711).

Threads: every pjsua2 call happens on one thread, :class:`SipStack`'s, which polls PJSIP
(``libHandleEvents``) and runs the jobs the event loop hands it; PJSIP's callbacks run there too
(``mainThreadOnly``), except the media callbacks, which run on PJSIP's media clock and only
move bytes. The event loop sees each call as a :class:`Leg`: events in an asyncio queue, caller
audio in another, and :meth:`Leg.play` / :meth:`Leg.clear` for what the caller hears.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pjsua2 as pj

from bot.phone.settings import PhoneSettings

log = logging.getLogger(__name__)
# Seconds an ended call and its media port are kept before they are destroyed.
GRAVEYARD_SECONDS = 5.0
# At shutdown: how long the last ended call's objects are kept before they are destroyed.
CLOSE_GRACE_SECONDS = 1.0
T = TypeVar("T")

SAMPLE_RATE = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2
# Calls one PJSIP endpoint takes at once in this wheel (its compile-time PJSUA_MAX_CALLS: a
# fifth simultaneous call is refused by pjsua itself, "too many calls", whatever maxCalls says).
PJSUA_MAX_CALLS = 4

# --- events the event loop sees ---------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """The call is up (an incoming call answered, or an outgoing call picked up)."""


@dataclass(frozen=True)
class MediaReady:
    """Audio flows both ways."""


@dataclass(frozen=True)
class Key:
    digit: str
    method: str  # "rfc4733" or "info"

    def __post_init__(self) -> None:
        if self.digit not in tuple("0123456789*#ABCD"):
            raise ValueError(f"not a DTMF digit: {self.digit!r}")


@dataclass(frozen=True)
class TransferStatus:
    code: int
    final: bool


@dataclass(frozen=True)
class Ended:
    code: int  # the last SIP status (200 after a normal call, 408/480/486/487/603 unanswered)
    reason: str
    answered: bool


LegEvent = Connected | MediaReady | Key | TransferStatus | Ended


class SipError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- bytes out of a pjsua2 ByteVector, fast ---------------------------------------------------


def _slow_bytes(vector: Any) -> bytes:
    return bytes(vector[i] for i in range(vector.size()))


def _fast_bytes(vector: Any) -> bytes:
    """A ``std::vector<unsigned char>``'s bytes, read where it keeps them (its first pointer):
    SWIG copies byte by byte otherwise, 1 ms a frame."""
    start = ctypes.c_void_p.from_address(int(vector.this)).value
    return ctypes.string_at(start, vector.size()) if start else b""


def _pick_vector_reader() -> Callable[[Any], bytes]:
    probe = bytes(range(256)) * 3
    try:
        if _fast_bytes(pj.ByteVector(probe)) == probe:
            return _fast_bytes
    except (ValueError, TypeError, OSError):  # pragma: no cover - another C++ library layout
        pass
    log.warning("reading audio frames the slow way (unexpected std::vector layout)")
    return _slow_bytes


# --- one call, as the event loop sees it ------------------------------------------------------


_USER = re.compile(r"sips?:([^@;>]+)@")


def caller_number(remote_uri: str) -> str:
    """The caller id in ``"Name" <sip:13800001111@host>``: the user part, digits only (a
    leading +86 dropped); ``""`` when anonymous or not a number."""
    match = _USER.search(remote_uri or "")
    user = match.group(1) if match else ""
    digits = re.sub(r"[^\d+]", "", user)
    if digits.startswith("+86"):
        digits = digits[3:]
    digits = digits.lstrip("+")
    return digits if len(digits) >= 3 and user.lower() not in ("anonymous", "unknown") else ""


class Leg:
    """One call: events and caller audio come in on the event loop; :meth:`play` queues speech
    (16 kHz mono s16le) that PJSIP's media clock takes 20 ms at a time."""

    def __init__(
        self, stack: SipStack, loop: asyncio.AbstractEventLoop, *, direction: str, remote_uri: str
    ) -> None:
        self.stack = stack
        self.loop = loop
        self.direction = direction  # "in" or "out"
        self.remote_uri = remote_uri
        self.caller = caller_number(remote_uri)
        self.events: asyncio.Queue[LegEvent] = asyncio.Queue()
        self.audio: asyncio.Queue[bytes] = asyncio.Queue(maxsize=500)  # 10 s of caller audio
        self.call_id = -1
        self.created_at = time.monotonic()
        self.connected_at: float | None = None
        self.ended: Ended | None = None
        # What the caller hears.
        self._out = bytearray()
        self._lock = threading.Lock()
        self._silence = pj.ByteVector(b"\0" * FRAME_BYTES)
        self.sound_started_at: list[float] = []  # each time speech began leaving after a pause
        self.frames_sent = 0
        self.late_frames = 0  # media clock callbacks more than a frame late (audio breaking up)
        self._last_request: float | None = None
        self._was_idle = True

    # -- what the caller hears ---------------------------------------------------------------
    def play(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            pcm = pcm[:-1]
        with self._lock:
            self._out += pcm

    def clear(self) -> None:
        """Stop speaking now (barge-in)."""
        with self._lock:
            self._out.clear()

    @property
    def queued_seconds(self) -> float:
        with self._lock:
            return len(self._out) / (SAMPLE_RATE * 2)

    async def drained(self, poll: float = 0.02) -> None:
        """Until everything queued has been sent (or the call ended)."""
        while self.queued_seconds > 0 and self.ended is None:
            await asyncio.sleep(poll)

    def _next_frame(self) -> Any:
        """(media clock) The next 20 ms to send, as a ByteVector."""
        now = time.monotonic()
        if self._last_request is not None and now - self._last_request > 2.5 * FRAME_MS / 1000:
            self.late_frames += 1
        self._last_request = now
        with self._lock:
            if not self._out:
                self._was_idle = True
                return self._silence
            chunk = bytes(self._out[:FRAME_BYTES])
            del self._out[:FRAME_BYTES]
        if self._was_idle:
            self._was_idle = False
            self.sound_started_at.append(now)
        self.frames_sent += 1
        if len(chunk) < FRAME_BYTES:
            chunk += b"\0" * (FRAME_BYTES - len(chunk))
        return pj.ByteVector(chunk)

    # -- the caller's audio and events (from PJSIP's threads) ----------------------------------
    def _heard(self, pcm: bytes) -> None:
        self.loop.call_soon_threadsafe(self._put_audio, pcm)

    def _put_audio(self, pcm: bytes) -> None:
        if self.audio.full():  # nobody listens (no recogniser busy): keep the newest
            self.audio.get_nowait()
        self.audio.put_nowait(pcm)

    def _post(self, event: LegEvent) -> None:
        self.loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: LegEvent) -> None:
        if isinstance(event, Connected) and self.connected_at is None:
            self.connected_at = time.monotonic()
        if isinstance(event, Ended):
            self.ended = event
        self.events.put_nowait(event)

    # -- call control (runs on the SIP thread) -------------------------------------------------
    async def hangup(self) -> None:
        if self.ended is None:
            await self.stack.run(lambda: self.stack._hangup(self))

    async def transfer(self, uri: str) -> None:
        """Blind transfer (SIP REFER) to ``uri``; progress comes as :class:`TransferStatus`."""
        await self.stack.run(lambda: self.stack._transfer(self, uri))

    def __repr__(self) -> str:
        return f"<Leg {self.direction} #{self.call_id} {self.remote_uri}>"


# --- pjsua2 objects (live on the SIP thread) --------------------------------------------------


class _Port(pj.AudioMediaPort):
    def __init__(self, leg: Leg, read: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.leg = leg
        self.read = read

    def onFrameRequested(self, frame: Any) -> None:  # noqa: N802 - pjsua2's name
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = self.leg._next_frame()

    def onFrameReceived(self, frame: Any) -> None:  # noqa: N802
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.buf.size():
            self.leg._heard(self.read(frame.buf))


class _Call(pj.Call):
    def __init__(
        self, stack: SipStack, leg: Leg, account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID
    ) -> None:
        super().__init__(account, call_id)
        self.stack = stack
        self.leg = leg
        self.port: _Port | None = None
        self.answered = False

    def onCallState(self, prm: Any) -> None:  # noqa: N802
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.answered = True
            self.leg._post(Connected())
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.leg._post(Ended(int(info.lastStatusCode), str(info.lastReason), self.answered))
            self.stack._forget(self)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            remote = self.getAudioMedia(index)
            first = self.port is None
            if first:
                fmt = pj.MediaFormatAudio()
                fmt.init(pj.PJMEDIA_FORMAT_PCM, SAMPLE_RATE, 1, FRAME_MS * 1000, 16)
                self.port = _Port(self.leg, self.stack.read_vector)
                self.port.createPort(f"leg{info.id}", fmt)
            remote.startTransmit(self.port)
            self.port.startTransmit(remote)
            if first:
                self.leg._post(MediaReady())
            return

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc4733"
        for digit in str(prm.digit):
            try:
                self.leg._post(Key(digit.upper(), method))
            except ValueError:
                log.warning("ignored DTMF %r", digit)

    def onCallTransferStatus(self, prm: Any) -> None:  # noqa: N802
        self.leg._post(TransferStatus(int(prm.statusCode), bool(prm.finalNotify)))
        if prm.finalNotify:
            prm.cont = False


class _Account(pj.Account):
    def __init__(self, stack: SipStack) -> None:
        super().__init__()
        self.stack = stack

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        self.stack._incoming(self, prm.callId)

    def onRegState(self, prm: Any) -> None:  # noqa: N802
        log.info("registration: %s %s", prm.code, prm.reason)


# --- the stack ----------------------------------------------------------------------------------


class SipStack:
    """PJSIP on its own thread. ``on_call`` is called on the event loop with each answered
    incoming :class:`Leg`; :meth:`dial` places a call."""

    def __init__(
        self,
        settings: PhoneSettings,
        loop: asyncio.AbstractEventLoop,
        on_call: Callable[[Leg], None],
    ) -> None:
        self.settings = settings
        self.loop = loop
        self.on_call = on_call
        self.read_vector: Callable[[Any], bytes] = _slow_bytes
        self.legs: dict[int, Leg] = {}
        self.registered = False
        self._calls: dict[int, _Call] = {}
        # Ended calls and their media ports, destroyed only a few seconds after PJSIP let go of
        # them: destroying them in the next loop turn after the disconnect crashed the process
        # now and then (a media port freed while the bridge still had a frame for it).
        self._graveyard: list[tuple[float, Any]] = []
        self._jobs: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._endpoint: pj.Endpoint | None = None
        self._account: _Account | None = None
        self.bound_port = 0

    # -- life ------------------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        self._thread = threading.Thread(target=self._main, name="pjsip", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SipError("sip-start", "PJSIP did not start in time")
        if self._error is not None:
            raise SipError("sip-start", f"PJSIP could not start: {self._error}") from self._error

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, job: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._stop.is_set():
            future.set_exception(SipError("sip-stopped", "the SIP stack is stopped"))
        else:
            self._jobs.put((job, future))
        return future

    async def run(self, job: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    # -- placing calls -----------------------------------------------------------------------------
    async def dial(self, uri: str) -> Leg:
        """Call ``uri``; the returned leg reports Connected, MediaReady ... Ended."""
        leg = Leg(self, self.loop, direction="out", remote_uri=uri)
        await self.run(lambda: self._dial(leg, uri))
        return leg

    # -- the SIP thread ------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._open()
        except BaseException as err:  # noqa: BLE001 - reported to start()
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        endpoint = self._endpoint
        assert endpoint is not None
        try:
            while not self._stop.is_set():
                self._run_jobs()
                endpoint.libHandleEvents(10)
                self._bury()
        finally:
            self._close()

    def _bury(self, grace: float = GRAVEYARD_SECONDS) -> None:
        """Destroy the ended calls and ports PJSIP has been done with for ``grace`` seconds."""
        if self._graveyard and self._graveyard[0][0] < time.monotonic() - grace:
            cut = time.monotonic() - grace
            self._graveyard = [(at, obj) for at, obj in self._graveyard if at >= cut]

    def _run_jobs(self) -> None:
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as err:  # noqa: BLE001 - handed to the caller
                    future.set_exception(err)

    def _open(self) -> None:
        s = self.settings
        self.read_vector = _pick_vector_reader()
        endpoint = pj.Endpoint()
        endpoint.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0  # PJSIP is polled on this thread ...
        config.uaConfig.mainThreadOnly = True  # ... and calls back on it
        config.uaConfig.maxCalls = PJSUA_MAX_CALLS
        config.uaConfig.userAgent = "community-assistant-phone"
        config.logConfig.level = s.log_level
        config.logConfig.consoleLevel = s.log_level
        config.logConfig.msgLogging = s.log_level >= 4
        media = config.medConfig
        media.clockRate = SAMPLE_RATE  # the bridge runs at 16 kHz: G.711 is resampled for us
        media.sndClockRate = SAMPLE_RATE
        media.channelCount = 1
        media.audioFramePtime = FRAME_MS
        media.ptime = FRAME_MS
        media.noVad = True
        media.ecTailLen = 0  # no echo to cancel on a network call
        media.quality = 4
        media.threadCnt = 1
        endpoint.libInit(config)
        endpoint.audDevManager().setNullDev()  # no sound card: the bridge is clocked by PJSIP
        transport = pj.TransportConfig()
        transport.port = s.sip_port
        transport.boundAddress = s.sip_host
        transport_id = endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        endpoint.libStart()
        for codec in endpoint.codecEnum2():
            name = codec.codecId.lower()
            priority = 255 if name.startswith("pcmu/8000") else 254 if name.startswith("pcma/8000") else 0
            endpoint.codecSetPriority(codec.codecId, priority)
        self._endpoint = endpoint
        account_config = pj.AccountConfig()
        account_config.idUri = s.local_uri
        if s.sip_registrar:
            account_config.regConfig.registrarUri = "sip:" + s.sip_registrar.removeprefix("sip:")
            account_config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", s.sip_user, 0, s.sip_password)
            )
        else:
            account_config.regConfig.registerOnAdd = False
        rtp = account_config.mediaConfig.transportConfig
        rtp.port = s.rtp_port
        rtp.portRange = 2 * PJSUA_MAX_CALLS + 20
        rtp.boundAddress = s.sip_host
        self._account = _Account(self)
        self._account.create(account_config, True)
        self.bound_port = int(str(endpoint.transportGetInfo(transport_id).localName).rsplit(":", 1)[1])
        log.info("SIP endpoint on udp %s:%s (%s)", s.sip_host, self.bound_port, s.local_uri)

    def _close(self) -> None:
        endpoint = self._endpoint
        if endpoint is None:
            return
        try:
            endpoint.hangupAllCalls()
            deadline = time.monotonic() + 1.0
            while self._calls and time.monotonic() < deadline:
                endpoint.libHandleEvents(20)
        except pj.Error as err:  # pragma: no cover - shutting down anyway
            log.warning("hanging up at shutdown: %s", err.info())
        # Calls that just ended still have their ports on the bridge for a clock tick or two:
        # destroying them now crashed the process at shutdown now and then, as it did in the
        # loop before the graveyard. Let the newest be CLOSE_GRACE_SECONDS old first.
        newest = max((at for at, _ in self._graveyard), default=0.0)
        while time.monotonic() < newest + CLOSE_GRACE_SECONDS:
            endpoint.libHandleEvents(20)
        self._calls.clear()
        self._graveyard.clear()
        self._account = None
        try:
            endpoint.libDestroy()
        except pj.Error as err:  # pragma: no cover
            log.warning("PJSIP shutdown: %s", err.info())
        self._endpoint = None

    def _incoming(self, account: _Account, call_id: int) -> None:
        leg = Leg(self, self.loop, direction="in", remote_uri="")
        call = _Call(self, leg, account, call_id)
        info = call.getInfo()
        leg.remote_uri = str(info.remoteUri)
        leg.caller = caller_number(leg.remote_uri)
        leg.call_id = int(info.id)
        answer = pj.CallOpParam()
        busy = sum(1 for c in self._calls.values() if c.leg.direction == "in") >= self.settings.max_calls
        if busy:
            answer.statusCode = 486
            call.answer(answer)
            self._graveyard.append((time.monotonic(), call))
            log.warning("busy: call from %s refused", leg.caller or "anonymous")
            return
        self._calls[leg.call_id] = call
        self.legs[leg.call_id] = leg
        answer.statusCode = 200
        call.answer(answer)
        self.loop.call_soon_threadsafe(self.on_call, leg)

    def _dial(self, leg: Leg, uri: str) -> None:
        assert self._account is not None
        call = _Call(self, leg, self._account)
        prm = pj.CallOpParam(True)
        prm.opt.audioCount = 1
        prm.opt.videoCount = 0
        call.makeCall(uri, prm)
        leg.call_id = int(call.getId())
        self._calls[leg.call_id] = call
        self.legs[leg.call_id] = leg

    def _forget(self, call: _Call) -> None:
        """A call ended: its objects are dropped after this callback returns."""
        call_id = call.leg.call_id
        self._calls.pop(call_id, None)
        self.legs.pop(call_id, None)
        now = time.monotonic()
        self._graveyard.append((now, call))
        if call.port is not None:
            self._graveyard.append((now, call.port))

    def _call_of(self, leg: Leg) -> _Call | None:
        call = self._calls.get(leg.call_id)
        return call if call is not None and call.leg is leg else None

    def _hangup(self, leg: Leg) -> None:
        call = self._call_of(leg)
        if call is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = 603 if leg.direction == "in" and not call.answered else 200
        try:
            call.hangup(prm)
        except pj.Error as err:
            log.info("hangup: %s", err.info())

    def _transfer(self, leg: Leg, uri: str) -> None:
        call = self._call_of(leg)
        if call is None:
            raise SipError("no-call", "the call has ended")
        call.xfer(uri, pj.CallOpParam(True))
