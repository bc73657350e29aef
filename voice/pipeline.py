"""The kiosk's speech pipeline as stages with typed events (in the spirit of Home Assistant's
assist pipeline and the Wyoming protocol).

    audio in ─> Endpointer (VAD) ─> ASR stream (partials, final) ─> normalize_asr_text
             ─> the resident service (bot.resident.service) ─> reply ─> sentences_for (for the ear)
             ─> Synthesizer ─> audio out

Events are frozen dataclasses. :class:`Listener` turns 16 kHz mono s16le chunks into
:class:`SpeechStarted`, :class:`Heard` (partial) and :class:`Utterance` (final) events; the
recogniser runs off the event loop. The kiosk asks the assistant through the resident service,
as every channel does; :class:`BotMessage` is one message of its answer, for the ear.
:func:`synthesize_sentences` speaks a reply sentence by sentence, so the first sentence plays
while the next is being synthesised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from voice.asr import AsrFinal, AsrPartial, Recognizer, combine_finals
from voice.asr_text import normalize_asr_text
from voice.audio import BYTES_PER_SECOND, SAMPLE_RATE, SAMPLE_WIDTH, pcm_rms, read_wav
from voice.errors import VoiceError
from voice.grammar import Grammar
from voice.speech_text import reply_sentences
from voice.tts import SpeechRate, Synthesizer

log = logging.getLogger(__name__)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechStarted:
    """The endpointer heard speech begin (``at``: seconds into the audio stream)."""

    at: float

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError("SpeechStarted.at must not be negative")


@dataclass(frozen=True)
class SpeechEnded:
    at: float

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError("SpeechEnded.at must not be negative")


@dataclass(frozen=True)
class Heard:
    """A partial transcript (normalised), shown on screen while the resident speaks."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("Heard.text must be a string")


@dataclass(frozen=True)
class Utterance:
    """What the resident said: normalised ``text``, the raw recogniser text and its confidence.
    ``ended_at`` is the monotonic clock time the endpointer declared the end of speech."""

    text: str
    confidence: float
    raw: str = ""
    ended_at: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("Utterance.text must be a string")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


@dataclass(frozen=True)
class KeyPressed:
    key: str

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key not in "0123456789*#":
            raise ValueError(f"not a keypad key: {self.key!r}")


@dataclass(frozen=True)
class BotMessage:
    """One message of the assistant's reply: its text and button titles/payloads; ``slower``
    when the assistant asks the voice channels to speak slowly from now on (its ``speech_rate``
    hint, sent when a resident says 听不清 or 说慢点)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    slower: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("BotMessage.text must be a string")

    @classmethod
    def from_rasa(cls, message: dict[str, Any]) -> BotMessage:
        buttons = tuple(
            (str(b.get("title", "")), str(b.get("payload", "")))
            for b in message.get("buttons") or []
            if isinstance(b, dict)
        )
        custom = message.get("custom")
        slower = isinstance(custom, dict) and custom.get("speech_rate") == "slow"
        return cls(str(message.get("text") or ""), buttons, slower)


InputEvent = SpeechStarted | SpeechEnded | Heard | Utterance | KeyPressed


# --- endpointing ----------------------------------------------------------------------------


# Home Assistant's end-of-speech pauses (its VAD sensitivity): "relaxed" suits speakers who
# pause mid-sentence, as many elderly people do.
END_OF_SPEECH_PAUSES = {"aggressive": 0.25, "default": 0.7, "relaxed": 1.25}


def end_of_speech_pause(raw: str) -> float:
    """A setting's end-of-speech pause: ``relaxed``/``default``/``aggressive`` or seconds."""
    named = END_OF_SPEECH_PAUSES.get(raw.strip().lower())
    if named is not None:
        return named
    try:
        return float(raw)
    except ValueError:
        names = "/".join(END_OF_SPEECH_PAUSES)
        raise ValueError(f"give seconds (e.g. 1.25) or one of {names}") from None


@dataclass(frozen=True)
class EndpointerSettings:
    """Energy VAD: speech starts after ``start_ms`` above ``threshold`` (RMS, fraction of full
    scale) and ends after ``end_silence_ms`` below it."""

    threshold: float = 0.01
    frame_ms: int = 20
    start_ms: int = 60
    end_silence_ms: int = 500
    preroll_ms: int = 300

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError("threshold must be in (0, 1)")
        if self.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30")
        for name in ("start_ms", "end_silence_ms", "preroll_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


class Endpointer:
    """Frame-by-frame speech/silence decisions. ``feed`` returns (events, in_speech frames)."""

    def __init__(self, settings: EndpointerSettings | None = None) -> None:
        self.settings = settings or EndpointerSettings()
        self.frame_bytes = SAMPLE_RATE * self.settings.frame_ms // 1000 * SAMPLE_WIDTH
        self._buffer = b""
        self._position = 0  # frames seen
        self._voiced_run = 0
        self._silent_run = 0
        self.in_speech = False
        self._preroll: list[bytes] = []

    def _seconds(self, frames: int) -> float:
        return frames * self.settings.frame_ms / 1000

    def feed(self, pcm: bytes) -> list[tuple[SpeechStarted | SpeechEnded | None, bytes]]:
        """Split ``pcm`` into frames; for each, an optional event and the audio to recognise
        (the pre-roll comes with SpeechStarted; nothing outside speech)."""
        self._buffer += pcm
        out: list[tuple[SpeechStarted | SpeechEnded | None, bytes]] = []
        s = self.settings
        preroll_frames = max(s.preroll_ms // s.frame_ms, 1)
        while len(self._buffer) >= self.frame_bytes:
            frame, self._buffer = self._buffer[: self.frame_bytes], self._buffer[self.frame_bytes :]
            self._position += 1
            voiced = pcm_rms(frame) >= s.threshold
            if not self.in_speech:
                self._preroll = [*self._preroll[-preroll_frames + 1 :], frame]
                self._voiced_run = self._voiced_run + 1 if voiced else 0
                if self._voiced_run * s.frame_ms >= s.start_ms:
                    self.in_speech = True
                    self._silent_run = 0
                    start = max(self._position - len(self._preroll), 0)
                    out.append((SpeechStarted(self._seconds(start)), b"".join(self._preroll)))
                    self._preroll = []
                continue
            self._silent_run = 0 if voiced else self._silent_run + 1
            if self._silent_run * s.frame_ms >= s.end_silence_ms:
                self.in_speech = False
                self._voiced_run = 0
                out.append((SpeechEnded(self._seconds(self._position)), frame))
            else:
                out.append((None, frame))
        return out


# --- listening: VAD + streaming ASR ------------------------------------------------------------


class Listener:
    """Endpointing and streaming recognition of one audio stream, as async events.

    ``grammar_for`` is asked at each start of speech which grammar to use (``None``: free
    recognition), so a confirmation question can restrict the answer. Without a recogniser
    (keypad-only mode) only SpeechStarted/SpeechEnded come out (barge-in still works).
    """

    def __init__(
        self,
        recognizer: Recognizer | None,
        *,
        endpointer: EndpointerSettings | None = None,
        grammar_for: Callable[[], Grammar | None] = lambda: None,
    ) -> None:
        self.recognizer = recognizer
        self.endpointer_settings = endpointer or EndpointerSettings()
        self.grammar_for = grammar_for

    async def events(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[InputEvent]:
        endpointer = Endpointer(self.endpointer_settings)
        stream = None
        finals: list[AsrFinal] = []
        async for chunk in chunks:
            for event, audio in endpointer.feed(chunk):
                if isinstance(event, SpeechStarted):
                    yield event
                    if self.recognizer is not None:
                        grammar = self.grammar_for()
                        stream = await asyncio.to_thread(self.recognizer.open_stream, grammar)
                        finals = []
                if stream is not None and audio:
                    for asr_event in await asyncio.to_thread(stream.accept, audio):
                        if isinstance(asr_event, AsrPartial):
                            yield Heard(normalize_asr_text(asr_event.text))
                        elif asr_event.text:
                            finals.append(asr_event)
                if isinstance(event, SpeechEnded):
                    ended_at = time.monotonic()
                    yield event
                    if stream is not None:
                        finals.append(await asyncio.to_thread(stream.finish))
                        yield _utterance(finals, ended_at)
                        stream = None
        if endpointer.in_speech:
            ended_at = time.monotonic()
            yield SpeechEnded(endpointer._seconds(endpointer._position))
            if stream is not None:
                finals.append(await asyncio.to_thread(stream.finish))
                yield _utterance(finals, ended_at)


def _utterance(finals: list[AsrFinal], ended_at: float) -> Utterance:
    final = combine_finals(finals)
    return Utterance(normalize_asr_text(final.text), final.confidence, final.text, ended_at)


async def pcm_chunks(
    pcm: bytes, chunk_ms: int = 100, trailing_silence_ms: int = 1000
) -> AsyncIterator[bytes]:
    """A recording as chunks, followed by silence so the endpointer sees the end of speech."""
    size = BYTES_PER_SECOND * chunk_ms // 1000
    pcm = pcm + b"\0" * (BYTES_PER_SECOND * trailing_silence_ms // 1000)
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]
        await asyncio.sleep(0)


# --- Rasa ------------------------------------------------------------------------------------


# --- speaking --------------------------------------------------------------------------------


def apply_gain(pcm: bytes, gain: float) -> bytes:
    """``pcm`` louder (or softer) by ``gain``, clipped to 16 bits."""
    if gain == 1.0 or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return b"\0" * (int(SAMPLE_RATE * seconds) * SAMPLE_WIDTH)


async def _synthesize_pcm(synthesizer: Synthesizer, sentence: str, rate: SpeechRate) -> bytes:
    """One sentence as 16 kHz mono PCM; a failed synthesis is retried once, then skipped
    (``b""``) so one bad sentence does not silence the whole answer."""
    for attempt in (1, 2):
        try:
            audio = read_wav(await synthesizer.synthesize_async(sentence, rate))
        except VoiceError as err:
            if err.code not in ("tts-failed", "empty-text", "timeout"):
                raise
            log.warning("synthesis of %r failed (attempt %d): %s", sentence, attempt, err)
            continue
        if audio.sample_rate != SAMPLE_RATE or audio.channels != 1:
            raise VoiceError("tts-failed", "the synthesiser must give 16 kHz mono audio")
        return audio.pcm
    return b""


async def synthesize_sentences(
    synthesizer: Synthesizer, sentences: list[str], rate: SpeechRate
) -> AsyncIterator[tuple[str, bytes]]:
    """Each sentence and its PCM; the next sentence is synthesised while this one plays."""
    pending: asyncio.Task[bytes] | None = None
    try:
        for index, sentence in enumerate(sentences):
            if pending is None:
                pending = asyncio.ensure_future(_synthesize_pcm(synthesizer, sentence, rate))
            pcm = await pending
            pending = None
            if index + 1 < len(sentences):
                pending = asyncio.ensure_future(_synthesize_pcm(synthesizer, sentences[index + 1], rate))
            if pcm:
                yield sentence, pcm
    finally:
        if pending is not None:
            pending.cancel()


def sentences_for(messages: list[BotMessage], max_chars: int) -> list[str]:
    """What to say for a reply: every message's text, for the ear, in short sentences."""
    return [s for m in messages for s in reply_sentences(m.text, max_chars)]
