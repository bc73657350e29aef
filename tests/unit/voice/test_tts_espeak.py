"""Real Mandarin speech synthesis: pyttsx3 driving espeak-ng (required: apt-get install espeak-ng)."""

from __future__ import annotations

import asyncio
import subprocess
import threading

import pytest

from voice.audio import decode_audio, encode_ogg_opus, is_silent, pcm_duration, pcm_rms, read_wav
from voice.errors import VoiceError
from voice.settings import DEFAULT_TTS_VOICE
from voice.speech_text import speech_sentences
from voice.tts import Pyttsx3Synthesizer, SpeechRate

SENTENCE = "您好，社区服务中心的电话是零幺零 八七六五 四三零零。"


@pytest.fixture(scope="module")
def synthesizer(espeak_ng: str, ffmpeg: str):
    synth = Pyttsx3Synthesizer()
    synth.start()  # fails the tests with VoiceError("no-engine", "… apt-get install espeak-ng") if missing
    yield synth
    synth.close()


def test_default_voice_reads_chinese_as_mandarin(espeak_ng: str):
    """espeak-ng 1.51's plain ``cmn`` voice switches to English for many characters ("(en)")."""
    phonemes = subprocess.run(
        [espeak_ng, "-v", DEFAULT_TTS_VOICE, "-q", "-x", "零幺零八七六五，老年餐桌，社区服务中心"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout
    assert phonemes.strip() and "(en)" not in phonemes, phonemes


def test_chinese_sentence_gives_plausible_speech(synthesizer: Pyttsx3Synthesizer):
    audio = read_wav(synthesizer.synthesize(SENTENCE))
    assert (audio.sample_rate, audio.channels) == (16000, 1)
    assert 1.5 < audio.duration < 30, audio.duration
    assert pcm_rms(audio.pcm) > 0.02
    assert not is_silent(audio.pcm)


def test_slow_rate_is_slower(synthesizer: Pyttsx3Synthesizer):
    normal = read_wav(synthesizer.synthesize(SENTENCE, SpeechRate.NORMAL)).duration
    slow = read_wav(synthesizer.synthesize(SENTENCE, SpeechRate.SLOW)).duration
    assert slow > normal * 1.15, (normal, slow)


def test_concurrent_requests_from_async_code_and_threads(synthesizer: Pyttsx3Synthesizer):
    texts = ["您好。", "请带身份证。", "周一至周五 八点半到十七点半。"]

    async def speak_all() -> list[bytes]:
        return await asyncio.gather(*(synthesizer.synthesize_async(t) for t in texts))

    wavs = asyncio.run(speak_all())
    durations = [read_wav(w).duration for w in wavs]
    assert all(d > 0.3 for d in durations) and durations[0] < durations[2], durations
    results: list[float] = []
    threads = [
        threading.Thread(target=lambda: results.append(read_wav(synthesizer.synthesize("谢谢。")).duration))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3 and max(results) - min(results) < 0.05, results


def test_reply_to_telegram_voice_message(synthesizer: Pyttsx3Synthesizer):
    sentences = speech_sentences("【老年餐桌】一层101室，周一至周日 11:00-13:00\n电话 010-8765-4311")
    wav = read_wav(synthesizer.synthesize("".join(sentences)))
    ogg = encode_ogg_opus(wav.pcm)
    assert ogg.startswith(b"OggS")
    assert pcm_duration(decode_audio(ogg)) == pytest.approx(wav.duration, abs=0.1)


def test_empty_text_and_unknown_voice(synthesizer: Pyttsx3Synthesizer):
    with pytest.raises(VoiceError) as err:
        synthesizer.synthesize("  ")
    assert err.value.code == "empty-text"
    with Pyttsx3Synthesizer(voice="no-such-voice") as wrong:
        with pytest.raises(VoiceError) as err:
            wrong.start()
    assert err.value.code == "no-engine" and "cmn" in err.value.message
