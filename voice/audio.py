"""Audio in one form: 16 kHz mono signed 16-bit little-endian PCM ("s16le").

Everything a resident sends (WAV, OGG/Opus from Telegram, MP3, WebM or MP4 from a browser) is
decoded once with ffmpeg by :func:`decode_audio`; the recogniser and the checks here only see
that form. :func:`encode_ogg_opus` goes the other way, for Telegram voice messages.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.errors import VoiceError

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes: s16le
CHANNELS = 1
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS
DEFAULT_MAX_SECONDS = 60.0
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 30.0
FFMPEG = "ffmpeg"

AudioSource = bytes | str | os.PathLike[str]


@dataclass(frozen=True)
class Wav:
    """The content of a PCM WAV file: interleaved s16le samples and their format."""

    pcm: bytes
    sample_rate: int = SAMPLE_RATE
    channels: int = CHANNELS

    def __post_init__(self) -> None:
        if not 1000 <= self.sample_rate <= 384000:
            raise ValueError(f"implausible sample rate {self.sample_rate}")
        if self.channels < 1:
            raise ValueError(f"a WAV has at least one channel, got {self.channels}")
        if len(self.pcm) % (SAMPLE_WIDTH * self.channels):
            raise ValueError("PCM length is not a whole number of 16-bit frames")

    @property
    def duration(self) -> float:
        return len(self.pcm) / (SAMPLE_WIDTH * self.channels * self.sample_rate)


def _check_pcm(pcm: bytes) -> None:
    if len(pcm) % SAMPLE_WIDTH:
        raise VoiceError("bad-audio", "PCM must be 16-bit samples: the byte count is odd")


def pcm_duration(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> float:
    """Seconds of mono s16le ``pcm``."""
    _check_pcm(pcm)
    return len(pcm) / (SAMPLE_WIDTH * sample_rate)


def _samples(pcm: bytes) -> np.ndarray:
    _check_pcm(pcm)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def pcm_rms(pcm: bytes) -> float:
    """Root mean square level of s16le ``pcm``, as a fraction of full scale (0–1)."""
    samples = _samples(pcm)
    return float(math.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def pcm_peak(pcm: bytes) -> float:
    """Largest absolute sample of s16le ``pcm``, as a fraction of full scale (0–1)."""
    samples = _samples(pcm)
    return float(np.max(np.abs(samples))) if samples.size else 0.0


def is_silent(pcm: bytes, rms_floor: float = 0.005) -> bool:
    """True when ``pcm`` is empty or its RMS level is below ``rms_floor`` (−46 dBFS by default)."""
    return pcm_rms(pcm) < rms_floor


def read_wav(source: bytes | str | os.PathLike[str]) -> Wav:
    """Read a 16-bit PCM WAV file (from bytes or a path); other encodings: use :func:`decode_audio`."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError as err:
        raise VoiceError("bad-audio", f"cannot open {source!r}: {err}") from err
    try:
        with handle, wave.open(handle, "rb") as wav:
            if wav.getsampwidth() != SAMPLE_WIDTH or wav.getcomptype() != "NONE":
                raise VoiceError("bad-audio", "not a 16-bit PCM WAV file; decode it with decode_audio()")
            return Wav(wav.readframes(wav.getnframes()), wav.getframerate(), wav.getnchannels())
    except (wave.Error, EOFError) as err:
        raise VoiceError("bad-audio", f"not a WAV file: {err}") from err


def write_wav(pcm: bytes, sample_rate: int = SAMPLE_RATE, channels: int = CHANNELS) -> bytes:
    """A WAV file (bytes) holding s16le ``pcm``."""
    audio = Wav(pcm, sample_rate, channels)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(audio.channels)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(audio.sample_rate)
        wav.writeframes(audio.pcm)
    return buffer.getvalue()


def _run_ffmpeg(args: list[str], stdin: bytes | None, timeout: float, ffmpeg: str) -> bytes:
    """Run ffmpeg; its output on stdout. Raises VoiceError("no-engine" | "timeout" | "bad-audio")."""
    executable = shutil.which(ffmpeg)
    if executable is None:
        raise VoiceError("no-engine", f"{ffmpeg} not found: install it (Debian: apt-get install ffmpeg)")
    command = [executable, "-nostdin", "-hide_banner", "-loglevel", "error", *args]
    if stdin is not None:
        command.remove("-nostdin")
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise VoiceError("timeout", f"ffmpeg took longer than {timeout:g} s") from err
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise VoiceError("bad-audio", detail[-1] if detail else f"ffmpeg exited with {done.returncode}")
    return done.stdout


def decode_audio(
    source: AudioSource,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ffmpeg: str = FFMPEG,
) -> bytes:
    """Decode any audio file (path or bytes) to 16 kHz mono s16le PCM.

    Raises ``VoiceError`` with code ``bad-audio`` (undecodable, no audio stream, empty),
    ``too-long`` (over ``max_seconds`` of audio or ``max_bytes`` of input), ``timeout`` or
    ``no-engine`` (ffmpeg missing). Blocking: call it with ``asyncio.to_thread`` from async code.
    """
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    with tempfile.TemporaryDirectory(prefix="voice-") as tmp:
        if isinstance(source, bytes):
            data_size = len(source)
            path = Path(tmp) / "input"
            if data_size <= max_bytes:
                path.write_bytes(source)
        else:
            path = Path(source)
            try:
                data_size = path.stat().st_size
            except OSError as err:
                raise VoiceError("bad-audio", f"cannot read {path}: {err}") from err
        if data_size == 0:
            raise VoiceError("bad-audio", "the audio is empty (0 bytes)")
        if data_size > max_bytes:
            raise VoiceError("too-long", f"audio of {data_size} bytes is over the {max_bytes}-byte limit")
        # Decode at most a little past the limit, so a long recording costs little to reject.
        pcm = _run_ffmpeg(
            ["-i", f"file:{path.resolve()}", "-vn", "-sn", "-t", f"{max_seconds + 0.5:.3f}",
             "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE), "-acodec", "pcm_s16le", "-f", "s16le", "-"],
            None,
            timeout,
            ffmpeg,
        )
    if len(pcm) < SAMPLE_WIDTH:
        raise VoiceError("bad-audio", "no audio samples could be decoded")
    pcm = pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]
    duration = pcm_duration(pcm)
    if duration > max_seconds:
        raise VoiceError("too-long", f"audio is longer than the {max_seconds:g} s limit")
    return pcm


def stretch_pcm(pcm: bytes, tempo: float, *, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                ffmpeg: str = FFMPEG) -> bytes:
    """16 kHz mono PCM played at ``tempo`` (0.75 = slower), pitch kept (ffmpeg's atempo)."""
    if not 0.5 <= tempo <= 2.0:
        raise ValueError(f"tempo must be within [0.5, 2.0], got {tempo}")
    _check_pcm(pcm)
    out = _run_ffmpeg(
        ["-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS), "-i", "pipe:0",
         "-af", f"atempo={tempo:.4f}", "-f", "s16le", "-acodec", "pcm_s16le", "-"],
        pcm,
        timeout,
        ffmpeg,
    )
    return out[: len(out) - len(out) % SAMPLE_WIDTH]


def encode_ogg_opus(
    pcm: bytes,
    sample_rate: int = SAMPLE_RATE,
    *,
    bitrate: str = "24k",
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ffmpeg: str = FFMPEG,
) -> bytes:
    """Encode mono s16le ``pcm`` as OGG/Opus (what Telegram expects for a voice message)."""
    _check_pcm(pcm)
    if not pcm:
        raise VoiceError("bad-audio", "nothing to encode: the PCM is empty")
    try:
        ogg = _run_ffmpeg(
            ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
             "-c:a", "libopus", "-b:a", bitrate, "-application", "voip", "-f", "ogg", "pipe:1"],
            pcm,
            timeout,
            ffmpeg,
        )
    except VoiceError as err:
        if err.code != "bad-audio":
            raise
        raise VoiceError("encode-failed", f"OGG/Opus encoding failed: {err.message}") from err
    if not ogg.startswith(b"OggS"):
        raise VoiceError("encode-failed", "ffmpeg produced no OGG stream")
    return ogg
