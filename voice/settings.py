"""Settings of the voice library, read from the environment (a ``.env`` file too).

| Variable | Default | Meaning |
|---|---|---|
| ``VOSK_MODEL_PATH`` | ``var/models/vosk-model-small-cn-0.22`` | the Chinese Vosk model directory |
| ``TTS_VOICE`` | ``cmn-latn-pinyin`` | espeak-ng Mandarin voice (see :mod:`voice.tts`) |
| ``TTS_RATE`` / ``TTS_SLOW_RATE`` | 150 / 110 | speaking rates in words per minute |
| ``VOICE_MAX_SECONDS`` | 60 | longest audio accepted from a resident |
| ``VOICE_TIMEOUT_SECONDS`` | 30 | longest time ffmpeg or the synthesiser may take |

Relative paths are resolved against the project root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from community.config import PROJECT_ROOT, environment, path, read_section, text

DEFAULT_VOSK_MODEL = Path("var/models/vosk-model-small-cn-0.22")
# espeak-ng 1.51's plain ``cmn`` voice reads many Chinese characters as English-spelled pinyin
# ("零" → "ling two"); the Mandarin voice that reads Latin as pinyin reads Chinese correctly.
DEFAULT_TTS_VOICE = "cmn-latn-pinyin"
ESPEAK_DEFAULT_RATE = 175  # words per minute
DEFAULT_TTS_RATE = 150
DEFAULT_TTS_SLOW_RATE = 110


def resolve_path(value: str | os.PathLike[str], root: Path = PROJECT_ROOT) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


@dataclass(frozen=True)
class VoiceSettings:
    vosk_model_path: Path = PROJECT_ROOT / DEFAULT_VOSK_MODEL
    tts_voice: str = DEFAULT_TTS_VOICE
    tts_rate: int = DEFAULT_TTS_RATE
    tts_slow_rate: int = DEFAULT_TTS_SLOW_RATE
    max_seconds: float = 60.0
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.tts_voice.strip():
            raise ValueError("TTS_VOICE must name an espeak-ng voice, e.g. cmn-latn-pinyin")
        for name in ("tts_rate", "tts_slow_rate"):
            rate = getattr(self, name)
            if not 40 <= rate <= 450:
                raise ValueError(f"{name.upper()} must be 40-450 words per minute, got {rate}")
        if self.tts_slow_rate >= self.tts_rate:
            raise ValueError("TTS_SLOW_RATE must be lower than TTS_RATE")
        if not 0 < self.max_seconds <= 3600:
            raise ValueError(f"VOICE_MAX_SECONDS must be in (0, 3600], got {self.max_seconds}")
        if not 0 < self.timeout_seconds <= 600:
            raise ValueError(f"VOICE_TIMEOUT_SECONDS must be in (0, 600], got {self.timeout_seconds}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> VoiceSettings:
        return read_section(
            cls,
            environment() if env is None else env,
            {
                "vosk_model_path": ("VOSK_MODEL_PATH", path),
                "tts_voice": ("TTS_VOICE", text),
                "tts_rate": ("TTS_RATE", lambda raw: int(float(raw))),
                "tts_slow_rate": ("TTS_SLOW_RATE", lambda raw: int(float(raw))),
                "max_seconds": ("VOICE_MAX_SECONDS", float),
                "timeout_seconds": ("VOICE_TIMEOUT_SECONDS", float),
            },
        )
