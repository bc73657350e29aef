"""Speech synthesis behind a small interface: text in, 16 kHz mono WAV out.

:class:`Pyttsx3Synthesizer` drives espeak-ng through pyttsx3 with a Mandarin voice;
:class:`FakeSynthesizer` makes a tone whose length follows the text, for tests.

Prepare text with :func:`voice.speech_text.speech_sentences` first: the engines read what they
are given, brackets, URLs and all.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import functools
import logging
import math
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, TypeVar

import numpy as np

from voice.audio import SAMPLE_RATE, decode_audio, stretch_pcm, write_wav
from voice.errors import VoiceError
from voice.settings import DEFAULT_TTS_RATE, DEFAULT_TTS_SLOW_RATE, DEFAULT_TTS_VOICE, VoiceSettings

log = logging.getLogger(__name__)
FINISH_WAIT_S = 10.0
WAV_HEADER_BYTES = 44
T = TypeVar("T")
MAX_TEXT_CHARS = 2000

# espeak-ng has one global state per process (one voice, one callback): every synthesis in
# the process, whichever Pyttsx3Synthesizer asks for it, takes this lock.
_ESPEAK_LOCK = threading.Lock()


class SpeechRate(str, enum.Enum):
    NORMAL = "normal"
    SLOW = "slow"  # for residents who asked to hear it again, or chose slow speech


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise VoiceError("empty-text", "there is nothing to say")
    if len(text) > MAX_TEXT_CHARS:
        raise VoiceError("too-long", f"text of {len(text)} characters is over {MAX_TEXT_CHARS}; split it")
    return text


class Synthesizer(abc.ABC):
    """Text to speech. ``synthesize`` blocks; ``synthesize_async`` runs it off the event loop."""

    @abc.abstractmethod
    def synthesize(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        """A WAV file (bytes) of ``text`` spoken at ``rate``: 16 kHz, mono, 16-bit."""

    async def synthesize_async(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        return await asyncio.to_thread(self.synthesize, text, rate)

    def close(self) -> None:  # noqa: B027 - optional hook, most synthesisers hold nothing
        """Release the engine (idempotent)."""

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class FakeSynthesizer(Synthesizer):
    """A 440 Hz tone, ``seconds_per_char`` long per character (1.4× at the slow rate)."""

    def __init__(self, seconds_per_char: float = 0.12, slow_factor: float = 1.4) -> None:
        if seconds_per_char <= 0 or slow_factor < 1:
            raise ValueError("seconds_per_char must be positive and slow_factor at least 1")
        self.seconds_per_char = seconds_per_char
        self.slow_factor = slow_factor
        self.calls: list[tuple[str, SpeechRate]] = []

    def synthesize(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        text = _check_text(text)
        rate = SpeechRate(rate)
        self.calls.append((text, rate))
        seconds = len(text) * self.seconds_per_char * (self.slow_factor if rate is SpeechRate.SLOW else 1.0)
        t = np.arange(max(int(seconds * SAMPLE_RATE), 1)) / SAMPLE_RATE
        tone = (0.3 * 32767 * np.sin(2 * math.pi * 440.0 * t)).astype("<i2")
        return write_wav(tone.tobytes())


@functools.lru_cache(maxsize=1)
def _pyttsx3_worker() -> ThreadPoolExecutor:
    """The one thread of this process that talks to pyttsx3. pyttsx3 keeps one engine per
    driver per process, and espeak-ng is process-global, so every synthesiser shares it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyttsx3")


class Pyttsx3Synthesizer(Synthesizer):
    """espeak-ng through pyttsx3, on the process's single pyttsx3 thread (pyttsx3 is not
    thread-safe, and its engine is shared by every synthesiser in the process).

    ``voice`` is an espeak-ng voice (``cmn-latn-pinyin`` by default: espeak-ng 1.51's plain
    ``cmn`` voice reads many characters as English-spelled pinyin). ``rate`` and ``slow_rate``
    are words per minute; espeak's own default is 175. The engine starts on first use, or at
    :meth:`start`, which also checks that the voice exists.
    """

    def __init__(
        self,
        voice: str = DEFAULT_TTS_VOICE,
        rate: int = DEFAULT_TTS_RATE,
        slow_rate: int = DEFAULT_TTS_SLOW_RATE,
        *,
        timeout: float = 30.0,
    ) -> None:
        if not voice.strip():
            raise ValueError("voice must name an espeak-ng voice")
        if not 40 <= slow_rate < rate <= 450:
            raise ValueError(f"need 40 <= slow_rate < rate <= 450 words per minute, got {slow_rate}, {rate}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.voice = voice.strip()
        self.rate = rate
        self.slow_rate = slow_rate
        self.timeout = timeout
        self._executor = _pyttsx3_worker()
        self._engine: Any = None
        self._voice_id = ""
        self._closed = False

    @classmethod
    def from_settings(cls, settings: VoiceSettings) -> Pyttsx3Synthesizer:
        return cls(
            settings.tts_voice, settings.tts_rate, settings.tts_slow_rate, timeout=settings.timeout_seconds
        )

    def _submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        if self._closed:
            raise VoiceError("tts-failed", "the synthesiser is closed")
        return self._executor.submit(function, *args)

    def start(self) -> None:
        """Start the engine and check the voice now (blocking); raises VoiceError("no-engine")."""
        self._submit(self._ensure_engine).result()

    def synthesize(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        return self._submit(self._synthesize_on_worker, _check_text(text), SpeechRate(rate)).result()

    async def synthesize_async(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        future = self._submit(self._synthesize_on_worker, _check_text(text), SpeechRate(rate))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        # The worker thread is shared by the process and lives as long as it does.
        self._closed = True

    # --- on the worker thread -----------------------------------------------------------------

    def _ensure_engine(self) -> Any:
        if self._engine is not None:
            return self._engine
        with _ESPEAK_LOCK:
            self._engine = self._open_engine()
        return self._engine

    def _open_engine(self) -> Any:
        try:
            import pyttsx3
        except ImportError as err:
            message = "the pyttsx3 package is not installed (pip install pyttsx3)"
            raise VoiceError("no-engine", message) from err
        try:
            engine = pyttsx3.init("espeak")
        except Exception as err:  # the driver raises whatever loading libespeak-ng raised
            raise VoiceError(
                "no-engine", f"espeak-ng is not usable (Debian: apt-get install espeak-ng): {err}"
            ) from err
        _silence_driver_prints()
        wanted = self.voice.lower()
        voices = [(str(v.id).lower(), str(v.name).lower()) for v in engine.getProperty("voices")]
        match = next((i for i, name in voices if wanted in (i, i.rsplit("/", 1)[-1], name)), None)
        if match is None:
            mandarin = sorted(i for i, _ in voices if "cmn" in i or "yue" in i)
            message = f"espeak-ng has no voice {self.voice!r}; Chinese voices: {mandarin}"
            raise VoiceError("no-engine", message)
        self._voice_id = match
        return engine

    def _synthesize_on_worker(self, text: str, rate: SpeechRate) -> bytes:
        """One synthesis, tried twice: pyttsx3's espeak driver reports the end of an utterance
        from espeak's own thread, and now and then that report races the file being written."""
        try:
            return self._synthesize_once(text, rate)
        except VoiceError as err:
            if err.code != "tts-failed":
                raise
            log.warning("speech synthesis failed once (%s); trying again", err.message)
            return self._synthesize_once(text, rate)

    def _synthesize_once(self, text: str, rate: SpeechRate) -> bytes:
        engine = self._ensure_engine()
        # espeak-ng through pyttsx3 does not reliably apply a rate change between two
        # utterances of one engine (seen here: the second rate was ignored), so the engine
        # always speaks at ``self.rate`` and slow speech is stretched afterwards, pitch kept.
        words_per_minute = self.rate
        done = threading.Event()
        errors: list[BaseException] = []

        def on_finished(**_: Any) -> None:
            done.set()

        def on_error(exception: BaseException | None = None, **_: Any) -> None:
            errors.append(exception or RuntimeError("pyttsx3 reported an error"))

        with _ESPEAK_LOCK, tempfile.TemporaryDirectory(prefix="tts-") as tmp:
            path = Path(tmp) / "speech.wav"
            tokens = [engine.connect("finished-utterance", on_finished), engine.connect("error", on_error)]
            try:
                engine.setProperty("voice", self._voice_id)
                engine.setProperty("rate", words_per_minute)
                engine.setProperty("volume", 1.0)
                engine.save_to_file(text, str(path))
                # With espeak, runAndWait returns once synthesis has *started*; the audio arrives
                # on espeak's own thread, and "finished-utterance" comes after the file is written.
                engine.runAndWait()
                # Synthesis runs at ~30x real time: a missing "finished" after this long means the
                # driver lost it, not that espeak is still busy.
                finished = done.wait(min(self.timeout, FINISH_WAIT_S))
                _wait_until_espeak_is_idle()
                if not finished and path.exists() and path.stat().st_size > WAV_HEADER_BYTES:
                    log.warning("pyttsx3 did not report the end of speech; using the written file")
                    finished = True
                if not finished:
                    engine.stop()
                    done.wait(1.0)
            except Exception as err:
                raise VoiceError("tts-failed", f"pyttsx3 failed: {err}") from err
            finally:
                for token in tokens:
                    engine.disconnect(token)
            if not finished:
                raise VoiceError("tts-failed", "pyttsx3 neither finished nor wrote the audio file")
            if errors:
                raise VoiceError("tts-failed", f"pyttsx3 reported: {errors[0]}")
            try:
                raw = path.read_bytes()
            except OSError as err:
                raise VoiceError("tts-failed", "pyttsx3 wrote no audio file") from err
        try:
            pcm = decode_audio(raw, max_seconds=3600, timeout=self.timeout)
        except VoiceError as err:
            if err.code != "bad-audio":
                raise
            raise VoiceError("tts-failed", f"pyttsx3 wrote unreadable audio: {err.message}") from err
        if rate is SpeechRate.SLOW:
            pcm = stretch_pcm(pcm, self.slow_rate / self.rate, timeout=self.timeout)
        return write_wav(pcm)


def _wait_until_espeak_is_idle() -> None:
    """Return once espeak's thread has left the callback that announced the end of speech,
    so the next request cannot race it inside pyttsx3's (unlocked) command queue."""
    try:
        from pyttsx3.drivers import _espeak
    except ImportError:
        return
    synchronize = getattr(_espeak, "Synchronize", None)
    if synchronize is not None:
        synchronize()


def _silence_driver_prints() -> None:
    """pyttsx3's espeak driver prints "Audio saved to …" for every file; send that to the log."""
    try:
        from pyttsx3.drivers import espeak as driver
    except ImportError:
        return

    def quiet_print(*args: object, **_: object) -> None:
        log.debug("pyttsx3: %s", " ".join(map(str, args)))

    driver.print = quiet_print  # type: ignore[attr-defined]


def load_synthesizer(settings: VoiceSettings) -> Synthesizer | None:
    """pyttsx3/espeak-ng started, or None when it can't speak (voice output is then not offered).
    Every channel that speaks loads its synthesiser here."""
    synthesizer = Pyttsx3Synthesizer.from_settings(settings)
    try:
        synthesizer.start()
    except VoiceError as err:
        log.warning("speech synthesis is off: %s", err)
        synthesizer.close()
        return None
    return synthesizer
