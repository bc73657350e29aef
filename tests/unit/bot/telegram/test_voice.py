"""Voice messages in (OGG/Opus from a real Mandarin recording) and voice replies out."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bot.telegram import texts
from tests.support.fake_telegram_api import FakeRasa, text_update, voice_update
from tests.support.voice import AISHELL
from voice.asr import FakeRecognizer
from voice.tts import FakeSynthesizer

CHAT = 777


@pytest.fixture(scope="module")
def voice_ogg(tmp_path_factory) -> bytes:
    """A Telegram-style voice message (OGG/Opus, 48 kHz) made with ffmpeg from an AISHELL-1 recording."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is required for the voice tests: apt-get install ffmpeg")
    wav = sorted(AISHELL.glob("*.wav"))[0]
    out = tmp_path_factory.mktemp("voice") / "message.oga"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav), "-ar", "48000", "-ac", "1",
         "-c:a", "libopus", "-b:a", "24k", "-f", "ogg", str(out)],
        check=True,
    )
    data = out.read_bytes()
    assert data.startswith(b"OggS")
    return data


def test_a_voice_message_is_recognised_echoed_answered_and_spoken(make_bot, voice_ogg):
    rasa = FakeRasa()
    recognizer = FakeRecognizer(["我 想 办 居住 证明"])
    synthesizer = FakeSynthesizer(seconds_per_char=0.01)
    bot = make_bot(rasa, recognizer=recognizer, synthesizer=synthesizer)
    bot.api.files["voice-1"] = voice_ogg
    bot.send(voice_update(CHAT, "voice-1", 5))
    bot.wait_text("我听到的是：我想办居住证明")
    bot.wait_text("答：我想办居住证明")
    assert rasa.received[0]["metadata"] == {"channel": "telegram", "input": "voice"}
    assert recognizer.streams[0].fed_bytes > 16000 * 2  # the decoded recording, 16 kHz s16le
    voice = bot.wait_for(lambda: bot.api.sent("sendVoice"), what="a voice reply")[0]
    assert voice.params["voice"].startswith(b"OggS")
    assert [c.method for c in bot.api.calls if c.method in ("getFile", "download")] == ["getFile", "download"]


def test_without_a_model_voice_gets_a_polite_text_reply(make_bot, voice_ogg):
    bot = make_bot(FakeRasa(), recognizer=None)
    bot.api.files["voice-2"] = voice_ogg
    bot.send(voice_update(CHAT, "voice-2", 5))
    assert bot.wait_text("不能识别语音").params["text"] == texts.VOICE_UNAVAILABLE
    assert not bot.api.sent("getFile")


def test_too_long_and_undecodable_voice_messages_are_rejected(make_bot):
    rasa = FakeRasa()
    bot = make_bot(rasa, recognizer=FakeRecognizer(["不该被识别"]))
    bot.send(voice_update(CHAT, "long", 61))
    bot.wait_text(texts.VOICE_TOO_LONG)
    bot.api.files["broken"] = b"this is not audio at all"
    bot.send(voice_update(CHAT, "broken", 3))
    bot.wait_text(texts.VOICE_BAD)
    assert not rasa.received


def test_voice_replies_on_request_for_typed_questions(make_bot):
    synthesizer = FakeSynthesizer(seconds_per_char=0.01)
    bot = make_bot(FakeRasa(lambda m: [{"text": "请拨打电话 010-8765-4311，网址 https://example.cn"}]),
                   synthesizer=synthesizer)
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_ON)
    bot.send(text_update(CHAT, "电话多少"))
    bot.wait_for(lambda: bot.api.sent("sendVoice"), what="a voice reply")
    spoken = synthesizer.calls[0][0]
    assert "https" not in spoken and "example" not in spoken and "010" not in spoken  # read for the ear


def test_a_voice_message_longer_than_it_claims_is_rejected_when_decoded(make_bot, tmp_path):
    """Telegram's duration is the sender's word: the decoded length is checked too."""
    out = tmp_path / "long.oga"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=65",
         "-ar", "48000", "-ac", "1", "-c:a", "libopus", "-b:a", "16k", "-f", "ogg", str(out)],
        check=True,
    )
    rasa = FakeRasa()
    recognizer = FakeRecognizer(["不该被识别"])
    bot = make_bot(rasa, recognizer=recognizer)
    bot.api.files["liar"] = out.read_bytes()
    bot.send(voice_update(CHAT, "liar", 5))
    bot.wait_text(texts.VOICE_TOO_LONG)
    assert bot.api.sent("download") and not rasa.received and not recognizer.streams
