"""Speech recognition behind a small streaming interface, with typed events.

A :class:`Recognizer` holds a loaded model and opens one :class:`RecognitionStream` per
utterance. A stream is fed 16 kHz mono s16le PCM chunks and answers with events:
:class:`AsrPartial` (the words so far, which may still change) and :class:`AsrFinal` (a segment
the recogniser has settled on, with a confidence). :class:`VoskRecognizer` is the real engine,
:class:`FakeRecognizer` returns scripted text for tests.

Stream methods block (Vosk decodes on the calling thread): from async code use
:func:`stream_events` or :func:`transcribe_file_async`, which run them with ``asyncio.to_thread``.
Vosk models are only ever opened from a directory (``vosk.Model(path)``), never downloaded.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import json
import logging
import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from voice.audio import (
    BYTES_PER_SECOND,
    DEFAULT_MAX_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    AudioSource,
    decode_audio,
)
from voice.errors import VoiceError
from voice.grammar import UNK, Grammar, build_grammar
from voice.settings import DEFAULT_VOSK_MODEL, VoiceSettings, resolve_path

log = logging.getLogger(__name__)

__all__ = [
    "AsrEvent",
    "AsrFinal",
    "AsrPartial",
    "AsrWord",
    "CHINESE_MODEL_HINT",
    "FakeRecognizer",
    "Grammar",
    "RecognitionStream",
    "Recognizer",
    "VoskRecognizer",
    "build_grammar",
    "combine_finals",
    "find_vosk_model",
    "is_vosk_model",
    "stream_events",
    "transcribe_file",
    "transcribe_file_async",
    "transcribe_pcm",
]

CHINESE_MODEL_HINT = (
    "download vosk-model-small-cn-0.22.zip from https://alphacephei.com/vosk/models, unzip it "
    f"into {DEFAULT_VOSK_MODEL.parent}/ (giving {DEFAULT_VOSK_MODEL}) or set VOSK_MODEL_PATH"
)


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsrWord:
    word: str
    start: float
    end: float
    confidence: float

    def __post_init__(self) -> None:
        if not self.word:
            raise ValueError("a recognised word is not empty")
        if not 0 <= self.start <= self.end:
            raise ValueError(f"word times must satisfy 0 <= start <= end, got {self.start}, {self.end}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


@dataclass(frozen=True)
class AsrPartial:
    """The words recognised so far in the current segment; they may still change."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("AsrPartial.text must be a string")


@dataclass(frozen=True)
class AsrFinal:
    """A settled segment: text as the engine wrote it (see :mod:`voice.asr_text`), confidence 0–1."""

    text: str
    confidence: float
    words: tuple[AsrWord, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("AsrFinal.text must be a string")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


AsrEvent = AsrPartial | AsrFinal


def combine_finals(finals: Iterable[AsrFinal]) -> AsrFinal:
    """One final from several segments: texts joined by spaces, confidence weighted by words."""
    parts = [f for f in finals if f.text.strip()]
    if not parts:
        return AsrFinal("", 0.0)
    weights = [max(len(f.words), 1) for f in parts]
    confidence = sum(f.confidence * w for f, w in zip(parts, weights, strict=True)) / sum(weights)
    words = tuple(w for f in parts for w in f.words)
    return AsrFinal(" ".join(f.text.strip() for f in parts), min(max(confidence, 0.0), 1.0), words)


# --- interfaces ---------------------------------------------------------------------------


class RecognitionStream(abc.ABC):
    """One utterance being recognised. Not thread-safe: feed it from one thread at a time."""

    @abc.abstractmethod
    def accept(self, pcm: bytes) -> list[AsrEvent]:
        """Feed a chunk of 16 kHz mono s16le PCM; the events it caused (often none)."""

    @abc.abstractmethod
    def finish(self) -> AsrFinal:
        """End of audio: the final result for what was fed since the last final."""


class Recognizer(abc.ABC):
    """A loaded speech model that opens streams. Safe to share between threads."""

    sample_rate: int = SAMPLE_RATE

    @abc.abstractmethod
    def open_stream(self, grammar: Grammar | None = None) -> RecognitionStream:
        """A new stream, free-form or restricted to ``grammar`` (see :mod:`voice.grammar`)."""

    @abc.abstractmethod
    def knows(self, word: str) -> bool:
        """Whether the model's vocabulary has ``word``."""

    def build_grammar(self, phrases: Iterable[str]) -> Grammar:
        """A grammar of the ``phrases`` this model knows; see :func:`voice.grammar.build_grammar`."""
        return build_grammar(self, phrases)


# --- Vosk ---------------------------------------------------------------------------------


def is_vosk_model(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` looks like an unpacked Vosk model directory."""
    root = Path(path)
    return (root / "am" / "final.mdl").is_file() and (root / "conf" / "model.conf").is_file() and (
        (root / "graph").is_dir()
    )


def find_vosk_model(setting: str | os.PathLike[str] | None = None) -> Path | None:
    """The Chinese model directory from ``setting`` (else ``VOSK_MODEL_PATH``, else the default
    ``var/models/vosk-model-small-cn-0.22``), or ``None`` if no model is there."""
    if setting is None or str(setting) == "":
        setting = VoiceSettings.from_env().vosk_model_path
    path = resolve_path(setting)
    return path if is_vosk_model(path) else None


def load_recognizer(setting: str | os.PathLike[str] | None = None) -> Recognizer | None:
    """Vosk with the Chinese model from ``setting`` (see :func:`find_vosk_model`), or None when
    there is none or it can't be loaded (voice input is then not offered). Every channel loads
    its recogniser here."""
    path = find_vosk_model(setting)
    if path is None:
        log.info("voice input off: no Chinese Vosk model at %s", setting or "VOSK_MODEL_PATH")
        return None
    try:
        return VoskRecognizer(path)
    except VoiceError as err:
        log.warning("voice input off: %s", err)
        return None


def _import_vosk() -> ModuleType:
    try:
        import vosk
    except ImportError as err:
        raise VoiceError("no-engine", "the vosk package is not installed (pip install vosk)") from err
    return vosk


def _final_from_json(raw: str) -> AsrFinal:
    result: dict[str, Any] = json.loads(raw or "{}")
    words = tuple(
        AsrWord(
            str(w["word"]),
            float(w.get("start", 0.0)),
            max(float(w.get("end", 0.0)), float(w.get("start", 0.0))),
            min(max(float(w.get("conf", 1.0)), 0.0), 1.0),
        )
        for w in result.get("result", [])
        if w.get("word")
    )
    text = str(result.get("text", "")).strip()
    if not text:
        return AsrFinal("", 0.0, words)
    confidence = sum(w.confidence for w in words) / len(words) if words else 1.0
    return AsrFinal(text, confidence, words)



def _check_chunk(pcm: bytes, finished: bool) -> None:
    """What every recognition stream checks before it takes a chunk of PCM."""
    if finished:
        raise RuntimeError("this recognition stream is finished; open a new one")
    if len(pcm) % SAMPLE_WIDTH:
        raise VoiceError("bad-audio", "PCM chunks must hold whole 16-bit samples")

class VoskStream(RecognitionStream):
    def __init__(self, vosk: ModuleType, model: Any, sample_rate: int, grammar: Grammar | None) -> None:
        try:
            if grammar is None:
                self._kaldi = vosk.KaldiRecognizer(model, sample_rate)
            else:
                self._kaldi = vosk.KaldiRecognizer(model, sample_rate, grammar.json)
            self._kaldi.SetWords(True)
        except Exception as err:
            raise VoiceError("asr-failed", f"Vosk could not create a recogniser: {err}") from err
        self._last_partial = ""
        self._finished = False

    def accept(self, pcm: bytes) -> list[AsrEvent]:
        _check_chunk(pcm, self._finished)
        if not pcm:
            return []
        try:
            endpoint = self._kaldi.AcceptWaveform(pcm)
            raw = self._kaldi.Result() if endpoint else self._kaldi.PartialResult()
        except Exception as err:
            raise VoiceError("asr-failed", f"Vosk failed on the audio: {err}") from err
        if endpoint:
            self._last_partial = ""
            final = _final_from_json(raw)
            return [final] if final.text else []
        partial = str(json.loads(raw or "{}").get("partial", "")).strip()
        if partial and partial != self._last_partial:
            self._last_partial = partial
            return [AsrPartial(partial)]
        return []

    def finish(self) -> AsrFinal:
        if self._finished:
            raise RuntimeError("this recognition stream is already finished")
        self._finished = True
        try:
            return _final_from_json(self._kaldi.FinalResult())
        except Exception as err:
            raise VoiceError("asr-failed", f"Vosk failed to finish: {err}") from err


class VoskRecognizer(Recognizer):
    """Vosk with a model loaded once from ``model_path`` (a few seconds: do it at start-up).

    ``log_level`` is passed to ``vosk.SetLogLevel`` (process-wide): -1 keeps Kaldi quiet.
    """

    def __init__(self, model_path: str | os.PathLike[str], *, log_level: int | None = -1) -> None:
        self._vosk = _import_vosk()
        path = Path(model_path)
        if not is_vosk_model(path):
            raise VoiceError("no-model", f"no Vosk model at {path} ({CHINESE_MODEL_HINT})")
        if log_level is not None:
            self._vosk.SetLogLevel(log_level)
        try:
            self._model = self._vosk.Model(str(path))
        except Exception as err:
            raise VoiceError("no-model", f"Vosk could not load the model at {path}: {err}") from err
        self.model_path = path

    def knows(self, word: str) -> bool:
        word = word.strip()
        return bool(word) and int(self._model.vosk_model_find_word(word)) >= 0

    def open_stream(self, grammar: Grammar | None = None) -> RecognitionStream:
        return VoskStream(self._vosk, self._model, self.sample_rate, grammar)


# --- fake -----------------------------------------------------------------------------------


class FakeStream(RecognitionStream):
    """Reveals the scripted text one token per non-empty chunk, then returns it as final."""

    def __init__(self, text: str, confidence: float, grammar: Grammar | None) -> None:
        if grammar is not None and text and text not in grammar.phrases:
            text = UNK
        self.text = text
        self.confidence = confidence
        self._separator = " " if " " in text else ""
        self._tokens = text.split() if self._separator else list(text)
        self._shown = 0
        self.fed_bytes = 0
        self.finished = False

    def accept(self, pcm: bytes) -> list[AsrEvent]:
        _check_chunk(pcm, self.finished)
        self.fed_bytes += len(pcm)
        if not pcm or self._shown >= len(self._tokens):
            return []
        self._shown += 1
        return [AsrPartial(self._separator.join(self._tokens[: self._shown]))]

    def finish(self) -> AsrFinal:
        if self.finished:
            raise RuntimeError("this recognition stream is already finished")
        self.finished = True
        if not self.text or not self.fed_bytes:
            return AsrFinal("", 0.0)
        return AsrFinal(self.text, self.confidence)


class FakeRecognizer(Recognizer):
    """Returns ``script`` texts in turn, one per stream (cycling). Knows ``vocabulary`` words
    (every word if ``None``). The streams it opened are kept in ``streams`` for assertions."""

    def __init__(
        self, script: Iterable[str], *, confidence: float = 0.9, vocabulary: Iterable[str] | None = None
    ) -> None:
        self._script = list(script)
        if not self._script:
            raise ValueError("a FakeRecognizer needs at least one scripted text")
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {confidence}")
        self._confidence = confidence
        self._vocabulary = None if vocabulary is None else frozenset(vocabulary)
        self._next = itertools.cycle(self._script)
        self._lock = threading.Lock()
        self.streams: list[FakeStream] = []

    def knows(self, word: str) -> bool:
        return bool(word.strip()) and (self._vocabulary is None or word in self._vocabulary)

    def open_stream(self, grammar: Grammar | None = None) -> RecognitionStream:
        with self._lock:
            stream = FakeStream(next(self._next), self._confidence, grammar)
            self.streams.append(stream)
        return stream


# --- conveniences -----------------------------------------------------------------------------


def transcribe_pcm(
    recognizer: Recognizer, pcm: bytes, *, grammar: Grammar | None = None, chunk_seconds: float = 0.25
) -> AsrFinal:
    """Recognise a whole recording of 16 kHz mono s16le PCM (blocking)."""
    if chunk_seconds <= 0:
        raise ValueError("chunk_seconds must be positive")
    chunk = max(int(BYTES_PER_SECOND * chunk_seconds) // SAMPLE_WIDTH * SAMPLE_WIDTH, SAMPLE_WIDTH)
    stream = recognizer.open_stream(grammar)
    finals: list[AsrFinal] = []
    for start in range(0, len(pcm), chunk):
        finals.extend(e for e in stream.accept(pcm[start : start + chunk]) if isinstance(e, AsrFinal))
    finals.append(stream.finish())
    return combine_finals(finals)


def transcribe_file(
    recognizer: Recognizer,
    source: AudioSource,
    *,
    grammar: Grammar | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> AsrFinal:
    """Decode an audio file (any format ffmpeg reads; path or bytes) and recognise it (blocking)."""
    pcm = decode_audio(source, max_seconds=max_seconds, timeout=timeout)
    return transcribe_pcm(recognizer, pcm, grammar=grammar)


async def transcribe_file_async(
    recognizer: Recognizer,
    source: AudioSource,
    *,
    grammar: Grammar | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> AsrFinal:
    """:func:`transcribe_file` off the event loop."""
    return await asyncio.to_thread(
        transcribe_file, recognizer, source, grammar=grammar, max_seconds=max_seconds, timeout=timeout
    )


async def stream_events(stream: RecognitionStream, chunks: AsyncIterable[bytes]) -> AsyncIterator[AsrEvent]:
    """Feed ``chunks`` to ``stream`` off the event loop; yield its events, ending with the final."""
    async for chunk in chunks:
        for event in await asyncio.to_thread(stream.accept, chunk):
            yield event
    yield await asyncio.to_thread(stream.finish)
