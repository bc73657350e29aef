"""The phone line's process: PJSIP's endpoint, a :class:`~bot.phone.call.CallSession` for each
incoming call, and the monthly check-in calls (:class:`~bot.phone.outreach.OutreachRunner`).

Everything is opened in :func:`serve` (nothing at import): the store, the one Rasa client
inside the resident service, the speech engines (Vosk when its Chinese model is there;
espeak-ng), then the SIP stack, which answers ``sip:assistant@SIP_HOST:SIP_PORT`` (and
registers to ``SIP_REGISTRAR`` when set).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from bot.phone.call import PROMPTS, CallSession
from bot.phone.outreach import PROMPTS as OUTREACH_PROMPTS
from bot.phone.outreach import OutreachRunner
from bot.phone.settings import PhoneSettings
from bot.phone.sip import Leg, SipStack
from bot.phone.speech import PhoneVoice
from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from community.settings import Settings
from community.store import Store
from voice.asr import Recognizer, load_recognizer
from voice.settings import VoiceSettings
from voice.tts import load_synthesizer

log = logging.getLogger(__name__)


class PhoneLine:
    """The running line: the stack, the sessions of the calls in progress, the outreach runner."""

    def __init__(
        self,
        settings: PhoneSettings,
        service: ResidentService,
        *,
        recognizer: Recognizer | None = None,
        session_factory: Callable[..., CallSession] = CallSession,
    ) -> None:
        self.settings = settings
        self.service = service
        self.recognizer = recognizer
        self.voice = PhoneVoice(service)
        self.session_factory = session_factory
        self.sessions: set[asyncio.Task[object]] = set()
        self.finished: list[object] = []  # call records, for tests and the bench
        self.stack: SipStack | None = None
        self.outreach: OutreachRunner | None = None

    async def start(self, *, warm: bool = True) -> None:
        if warm and self.service.synthesizer is not None:
            await self.voice.warm(PROMPTS + OUTREACH_PROMPTS)
        loop = asyncio.get_running_loop()
        self.stack = SipStack(self.settings, loop, self._incoming)
        await asyncio.to_thread(self.stack.start)
        self.outreach = OutreachRunner(
            self.stack,
            self.service.store,
            self.service.keeper(),
            self.voice,
            self.settings,
            recognizer=self.recognizer,
        )

    def _incoming(self, leg: Leg) -> None:
        session = self.session_factory(
            leg, self.service, self.voice, self.settings, recognizer=self.recognizer
        )
        task = asyncio.ensure_future(session.run())
        self.sessions.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self.sessions.discard(task)
        if not task.cancelled() and task.exception() is None:
            self.finished.append(task.result())

    async def stop(self) -> None:
        for task in list(self.sessions):
            task.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)
        if self.stack is not None:
            await asyncio.to_thread(self.stack.stop)


async def serve(settings: Settings, phone: PhoneSettings, voice_settings: VoiceSettings) -> None:
    store = Store.from_url(settings.store_url)
    recognizer = await asyncio.to_thread(load_recognizer, voice_settings.vosk_model_path)
    synthesizer = await asyncio.to_thread(load_synthesizer, voice_settings)
    async with RasaClient.from_settings(settings, timeout=20.0) as rasa:
        service = ResidentService(settings, rasa, store, recognizer=recognizer, synthesizer=synthesizer)
        line = PhoneLine(phone, service, recognizer=recognizer)
        await line.start()
        assert line.stack is not None and line.outreach is not None
        log.info(
            "Phone line: sip:%s (udp %s), voice input %s, transfers to %s",
            phone.local_uri,
            line.stack.bound_port,
            "on" if recognizer else "off (keys only)",
            phone.staff_uri or "nobody (callbacks only)",
        )
        tasks = []
        if phone.outreach_calls:
            tasks.append(asyncio.ensure_future(line.outreach.forever()))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await line.stop()
            if synthesizer is not None:
                synthesizer.close()
            store.engine.dispose()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings, phone, voice = Settings.from_env(), PhoneSettings.from_env(), VoiceSettings.from_env()
    except ValueError as err:
        print(f"ERROR: {err}")
        return 2
    asyncio.run(serve(settings, phone, voice))
    return 0
