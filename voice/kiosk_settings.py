"""The kiosk's settings (``KIOSK_*``), read through :mod:`community.config`."""

from __future__ import annotations

from dataclasses import dataclass

from community.config import environment, read_section
from community.settings import Settings
from voice.pipeline import (
    EndpointerSettings,
    end_of_speech_pause,
)


@dataclass(frozen=True)
class KioskSettings:
    """``KIOSK_IDLE_SECONDS`` (60), ``KIOSK_CONFIRM_LOW``/``KIOSK_CONFIRM_HIGH`` (0.3/0.7: intent
    confidences in between are confirmed first), ``KIOSK_END_OF_SPEECH`` (the pause that ends an
    utterance: Home Assistant's ``relaxed`` 1.25 s, ``default`` 0.7 s, ``aggressive`` 0.25 s, or
    seconds), plus the community's phone and staff hours."""

    community_phone: str = Settings.community_phone
    staff_hours: str = Settings.staff_hours
    idle_seconds: float = 60.0
    confirm_low: float = 0.3
    confirm_high: float = 0.7
    end_of_speech_seconds: float = 1.25  # relaxed: elderly speakers pause mid-sentence
    max_sentence_chars: int = 20
    answer_pause_seconds: float = 0.6
    gain_step: float = 1.4
    max_gain: float = 2.8
    channel: str = "kiosk"

    def __post_init__(self) -> None:
        if self.idle_seconds <= 0:
            raise ValueError("KIOSK_IDLE_SECONDS must be positive")
        if not 0.0 <= self.confirm_low <= self.confirm_high <= 1.0:
            raise ValueError("need 0 <= KIOSK_CONFIRM_LOW <= KIOSK_CONFIRM_HIGH <= 1")
        if not 0.2 <= self.end_of_speech_seconds <= 5.0:
            raise ValueError("KIOSK_END_OF_SPEECH must be 0.2-5 seconds (or relaxed, default, aggressive)")
        if not 5 <= self.max_sentence_chars <= 60:
            raise ValueError("max_sentence_chars must be 5-60")
        if self.gain_step <= 1 or self.max_gain < 1:
            raise ValueError("gain_step must be > 1 and max_gain >= 1")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> KioskSettings:
        env = environment() if env is None else env
        community = Settings.from_env(env)
        return read_section(
            cls,
            env,
            {
                "idle_seconds": ("KIOSK_IDLE_SECONDS", float),
                "confirm_low": ("KIOSK_CONFIRM_LOW", float),
                "confirm_high": ("KIOSK_CONFIRM_HIGH", float),
                "end_of_speech_seconds": ("KIOSK_END_OF_SPEECH", end_of_speech_pause),
            },
            community_phone=community.community_phone,
            staff_hours=community.staff_hours,
        )

    @property
    def endpointer(self) -> EndpointerSettings:
        """The listener's endpointing, with this kiosk's end-of-speech pause."""
        return EndpointerSettings(end_silence_ms=round(self.end_of_speech_seconds * 1000))


