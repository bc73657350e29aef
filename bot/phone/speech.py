"""Speech on the phone: sentences synthesised through the resident service (cached, since the
same prompts and menu answers are said on every call) and played into a call, with barge-in.

:class:`PhoneVoice` is shared by every call of the process; :class:`Speaker` is one call's
mouth: :meth:`Speaker.say` replaces whatever is playing (a key or speech stops it), louder by
the call's gain, slower at the call's rate.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Protocol

from bot.resident.service import ResidentService
from voice.audio import SAMPLE_RATE, read_wav
from voice.errors import VoiceError
from voice.pipeline import apply_gain, silence
from voice.tts import SpeechRate

log = logging.getLogger(__name__)

GAP_SECONDS = 0.2  # between sentences


class Line(Protocol):
    """What a speaker needs of a call (a :class:`bot.phone.sip.Leg`, or a fake in tests)."""

    def play(self, pcm: bytes) -> None: ...

    def clear(self) -> None: ...

    async def drained(self) -> None: ...


class PhoneVoice:
    """Sentences as 16 kHz PCM, through :meth:`ResidentService.speak`; the last ``size`` are
    kept (prompts, menu answers), so a repeated sentence is not synthesised again."""

    def __init__(self, service: ResidentService, size: int = 400) -> None:
        self.service = service
        self.size = size
        self._cache: OrderedDict[tuple[str, SpeechRate], bytes] = OrderedDict()
        self._pending: dict[tuple[str, SpeechRate], asyncio.Future[bytes]] = {}

    async def pcm(self, sentence: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        """The sentence spoken; ``b""`` if it cannot be (the call goes on with the next one)."""
        key = (sentence, rate)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key in self._pending:  # another call is synthesising it right now
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            audio = b""
            for attempt in (1, 2):
                try:
                    wav = read_wav(await self.service.speak(sentence, rate))
                except VoiceError as err:
                    log.warning("synthesis failed (attempt %d): %s", attempt, err.code)
                    continue
                if wav.sample_rate != SAMPLE_RATE or wav.channels != 1:
                    raise VoiceError("tts-failed", "the synthesiser must give 16 kHz mono audio")
                audio = wav.pcm
                break
            if audio:
                self._cache[key] = audio
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
            future.set_result(audio)
            return audio
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            self._pending.pop(key, None)

    async def warm(self, sentences: list[str]) -> None:
        """Synthesise the fixed prompts before the first call."""
        for rate in (SpeechRate.NORMAL, SpeechRate.SLOW):
            for sentence in sentences:
                await self.pcm(sentence, rate)


class Speaker:
    """One call's speech: one utterance at a time, interrupted by the next or by :meth:`stop`."""

    def __init__(self, line: Line, voice: PhoneVoice) -> None:
        self.line = line
        self.voice = voice
        self.rate = SpeechRate.NORMAL
        self.gain = 1.0
        self._task: asyncio.Task[None] | None = None

    @property
    def speaking(self) -> bool:
        return self._task is not None and not self._task.done()

    def say(self, sentences: list[str]) -> asyncio.Task[None]:
        """Start saying ``sentences`` (stopping whatever was being said)."""
        self.stop()
        self._task = asyncio.ensure_future(self._say([s for s in sentences if s.strip()]))
        return self._task

    async def say_and_wait(self, sentences: list[str]) -> bool:
        """Say ``sentences`` until the caller has heard them; False if interrupted."""
        task = self.say(sentences)
        await asyncio.wait({task})
        return not task.cancelled()

    def stop(self) -> None:
        """Barge-in: stop now, drop what was queued."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self.line.clear()

    async def wait(self) -> None:
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task})

    async def _say(self, sentences: list[str]) -> None:
        rate, gain = self.rate, self.gain
        upcoming: asyncio.Task[bytes] | None = None
        try:
            for index, sentence in enumerate(sentences):
                pcm = await (upcoming or asyncio.ensure_future(self.voice.pcm(sentence, rate)))
                upcoming = None
                if index + 1 < len(sentences):  # the next one is made while this one plays
                    upcoming = asyncio.ensure_future(self.voice.pcm(sentences[index + 1], rate))
                if pcm:
                    self.line.play(apply_gain(pcm, gain) + silence(GAP_SECONDS))
            await self.line.drained()
        finally:
            if upcoming is not None:
                upcoming.cancel()
