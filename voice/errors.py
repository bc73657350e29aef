"""Errors of the voice library: a code the caller can branch on, and a message for people."""

from __future__ import annotations

from typing import Literal, get_args

ErrorCode = Literal[
    "bad-audio",  # not audio, or audio ffmpeg cannot decode
    "too-long",  # longer (in seconds or bytes) than the caller allows
    "timeout",  # an external tool or engine took longer than allowed
    "no-engine",  # ffmpeg, espeak-ng, pyttsx3 or vosk is not installed
    "no-model",  # no speech model where one was expected
    "asr-failed",  # the recogniser failed on valid audio
    "tts-failed",  # the synthesiser failed on valid text
    "empty-text",  # nothing left to say once the text is prepared for speech
    "encode-failed",  # audio could not be encoded (e.g. to OGG/Opus)
    "silent",  # a recording with no voice in it
    "not-heard",  # a voice, but no words were recognised
]
ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))


class VoiceError(Exception):
    """A failure in the voice library: ``VoiceError("bad-audio", "cannot decode …")``."""

    def __init__(self, code: ErrorCode, message: str, *, seconds: float | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown voice error code {code!r}; known: {sorted(ERROR_CODES)}")
        super().__init__(code, message)
        self.code: ErrorCode = code
        self.message = message
        self.seconds = seconds  # how long the recording was, once it is known

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
