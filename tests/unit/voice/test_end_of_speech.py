"""The end-of-speech pause is a setting: Home Assistant's relaxed 1.25 s by default at the kiosk
(elderly speakers pause mid-sentence), its default 0.7 s, aggressive 0.25 s, or seconds."""

from __future__ import annotations

import pytest

from voice.kiosk_settings import KioskSettings
from voice.pipeline import Endpointer, SpeechEnded, SpeechStarted


def pauses(settings: KioskSettings, gap_seconds: float) -> list[type]:
    """Events for 0.5 s of speech, a pause of ``gap_seconds``, 0.5 s of speech, then silence."""
    tone = b"\x00\x40" * 8000
    quiet = b"\x00\x00" * int(16000 * gap_seconds)
    endpointer = Endpointer(settings.endpointer)
    events = endpointer.feed(tone + quiet + tone + b"\x00\x00" * 16000 * 3)
    return [type(event) for event, _ in events if event is not None]


def test_relaxed_by_default_so_a_pause_mid_sentence_does_not_end_it():
    settings = KioskSettings.from_env({})
    assert settings.end_of_speech_seconds == 1.25 and settings.endpointer.end_silence_ms == 1250
    assert pauses(settings, 1.0) == [SpeechStarted, SpeechEnded]  # one utterance
    quick = KioskSettings.from_env({"KIOSK_END_OF_SPEECH": "default"})
    assert quick.end_of_speech_seconds == 0.7
    assert pauses(quick, 1.0) == [SpeechStarted, SpeechEnded, SpeechStarted, SpeechEnded]


def test_names_or_seconds_and_a_clear_error():
    assert KioskSettings.from_env({"KIOSK_END_OF_SPEECH": "aggressive"}).end_of_speech_seconds == 0.25
    assert KioskSettings.from_env({"KIOSK_END_OF_SPEECH": "1.5"}).end_of_speech_seconds == 1.5
    with pytest.raises(ValueError, match="KIOSK_END_OF_SPEECH.*relaxed"):
        KioskSettings.from_env({"KIOSK_END_OF_SPEECH": "slow"})
    with pytest.raises(ValueError, match="0.2-5 seconds"):
        KioskSettings.from_env({"KIOSK_END_OF_SPEECH": "9"})
