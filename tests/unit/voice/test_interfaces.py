"""Events, fakes, conveniences, errors and settings: everything that needs no real engine."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from voice.asr import (
    AsrFinal,
    AsrPartial,
    AsrWord,
    FakeRecognizer,
    combine_finals,
    find_vosk_model,
    is_vosk_model,
    stream_events,
    transcribe_file,
    transcribe_file_async,
    transcribe_pcm,
)
from voice.audio import BYTES_PER_SECOND, pcm_duration, read_wav, write_wav
from voice.errors import ERROR_CODES, VoiceError
from voice.settings import DEFAULT_TTS_VOICE, VoiceSettings
from voice.tts import FakeSynthesizer, Pyttsx3Synthesizer, SpeechRate

SECOND = bytes(BYTES_PER_SECOND)


# --- events ----------------------------------------------------------------------------------


def test_events_are_frozen_and_validated():
    final = AsrFinal("你好", 0.8)
    with pytest.raises(AttributeError):
        final.text = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        AsrFinal("你好", 1.5)
    with pytest.raises(TypeError):
        AsrPartial(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AsrWord("", 0.0, 1.0, 0.5)
    with pytest.raises(ValueError):
        AsrWord("好", 2.0, 1.0, 0.5)


def test_finals_combine_weighted_by_words():
    first = AsrFinal("a b", 1.0, (AsrWord("a", 0, 1, 1.0), AsrWord("b", 1, 2, 1.0)))
    second = AsrFinal("c", 0.4, (AsrWord("c", 2, 3, 0.4),))
    combined = combine_finals([first, AsrFinal("", 0.0), second])
    assert combined.text == "a b c"
    assert combined.confidence == pytest.approx(0.8)
    assert [w.word for w in combined.words] == ["a", "b", "c"]
    assert combine_finals([]) == AsrFinal("", 0.0)


# --- fake recogniser ---------------------------------------------------------------------------


def test_fake_recognizer_streams_partials_then_a_final():
    recognizer = FakeRecognizer(["我想办居住证明"], confidence=0.7)
    stream = recognizer.open_stream()
    events = [e for _ in range(3) for e in stream.accept(bytes(3200))]
    assert events == [AsrPartial("我"), AsrPartial("我想"), AsrPartial("我想办")]
    assert stream.finish() == AsrFinal("我想办居住证明", 0.7)
    with pytest.raises(RuntimeError):
        stream.accept(bytes(2))
    assert recognizer.streams[0].fed_bytes == 9600


def test_fake_recognizer_cycles_its_script_and_follows_grammars():
    recognizer = FakeRecognizer(["是", "hello world"])
    grammar = recognizer.build_grammar(["不是"])
    assert transcribe_pcm(recognizer, SECOND).text == "是"
    assert transcribe_pcm(recognizer, SECOND).text == "hello world"
    assert transcribe_pcm(recognizer, SECOND, grammar=grammar).text == "[unk]"
    assert transcribe_pcm(recognizer, b"").text == ""  # no audio, no words
    with pytest.raises(VoiceError, match="bad-audio"):
        recognizer.open_stream().accept(b"\x00")
    with pytest.raises(ValueError):
        FakeRecognizer([])


def test_stream_events_runs_off_the_event_loop():
    recognizer = FakeRecognizer(["hello big world"])
    stream = recognizer.open_stream()
    threads: set[int] = set()
    accept = stream.accept

    def recording_accept(pcm: bytes):
        threads.add(threading.get_ident())
        return accept(pcm)

    stream.accept = recording_accept  # type: ignore[method-assign]

    async def chunks():
        for _ in range(4):
            yield bytes(3200)

    async def collect():
        return threading.get_ident(), [e async for e in stream_events(stream, chunks())]

    loop_thread, events = asyncio.run(collect())
    assert events == [
        AsrPartial("hello"),
        AsrPartial("hello big"),
        AsrPartial("hello big world"),
        AsrFinal("hello big world", 0.9),
    ]
    assert threads and loop_thread not in threads


def test_transcribe_file_with_a_fake(tmp_path: Path, ffmpeg):
    path = tmp_path / "speech.wav"
    path.write_bytes(write_wav(SECOND))
    recognizer = FakeRecognizer(["老年餐桌在哪"])
    assert transcribe_file(recognizer, path).text == "老年餐桌在哪"
    assert asyncio.run(transcribe_file_async(recognizer, path.read_bytes())).text == "老年餐桌在哪"
    assert recognizer.streams[0].fed_bytes == BYTES_PER_SECOND
    with pytest.raises(VoiceError, match="too-long"):
        transcribe_file(recognizer, path, max_seconds=0.5)


# --- fake synthesiser ---------------------------------------------------------------------------


def test_fake_synthesizer_makes_a_tone_as_long_as_the_text():
    synth = FakeSynthesizer(seconds_per_char=0.1)
    normal = read_wav(synth.synthesize("您好，欢迎"))
    slow = read_wav(asyncio.run(synth.synthesize_async("您好，欢迎", SpeechRate.SLOW)))
    assert (normal.sample_rate, normal.channels) == (16000, 1)
    assert normal.duration == pytest.approx(0.5, abs=0.01)
    assert slow.duration == pytest.approx(0.7, abs=0.01)
    assert synth.calls == [("您好，欢迎", SpeechRate.NORMAL), ("您好，欢迎", SpeechRate.SLOW)]
    with pytest.raises(VoiceError) as err:
        synth.synthesize("   ")
    assert err.value.code == "empty-text"
    with synth:
        assert pcm_duration(read_wav(synth.synthesize("好", "slow")).pcm) > 0


def test_synthesizer_arguments_are_checked():
    with pytest.raises(ValueError):
        Pyttsx3Synthesizer(rate=100, slow_rate=120)
    with pytest.raises(ValueError):
        Pyttsx3Synthesizer(voice=" ")
    with pytest.raises(ValueError):
        FakeSynthesizer(seconds_per_char=0)
    synth = Pyttsx3Synthesizer()
    synth.close()
    with pytest.raises(VoiceError, match="closed"):
        synth.synthesize("你好")


# --- errors and settings --------------------------------------------------------------------------


def test_voice_errors_carry_a_known_code():
    error = VoiceError("asr-failed", "Vosk failed")
    assert (error.code, error.message, str(error)) == ("asr-failed", "Vosk failed", "asr-failed: Vosk failed")
    assert {"asr-failed", "tts-failed", "bad-audio", "no-model", "too-long"} <= ERROR_CODES
    with pytest.raises(ValueError):
        VoiceError("oops", "unknown code")  # type: ignore[arg-type]


def test_settings_from_environment(tmp_path: Path):
    settings = VoiceSettings.from_env({})
    assert settings.vosk_model_path.name == "vosk-model-small-cn-0.22"
    assert settings.vosk_model_path.is_absolute()
    assert settings.tts_voice == DEFAULT_TTS_VOICE
    assert settings.tts_slow_rate < settings.tts_rate < 175  # slower than espeak's default
    custom = VoiceSettings.from_env(
        {
            "VOSK_MODEL_PATH": str(tmp_path),
            "TTS_RATE": "140",
            "TTS_SLOW_RATE": "100",
            "VOICE_MAX_SECONDS": "30",
        }
    )
    assert (custom.vosk_model_path, custom.tts_rate, custom.tts_slow_rate, custom.max_seconds) == (
        tmp_path, 140, 100, 30.0
    )
    synth = Pyttsx3Synthesizer.from_settings(custom)
    assert (synth.rate, synth.slow_rate) == (140, 100)
    synth.close()
    with pytest.raises(ValueError, match="TTS_RATE"):
        VoiceSettings.from_env({"TTS_RATE": "fast"})
    with pytest.raises(ValueError, match="lower"):
        VoiceSettings(tts_rate=100, tts_slow_rate=120)


def test_find_vosk_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert find_vosk_model(tmp_path / "nothing-here") is None
    model = tmp_path / "model"
    (model / "am").mkdir(parents=True)
    (model / "conf").mkdir()
    (model / "graph").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"x")
    (model / "conf" / "model.conf").write_text("--beam=10\n")
    assert is_vosk_model(model)
    assert find_vosk_model(model) == model
    assert find_vosk_model(str(model)) == model
    monkeypatch.setenv("VOSK_MODEL_PATH", str(model))
    assert find_vosk_model() == model
    monkeypatch.setenv("VOSK_MODEL_PATH", str(tmp_path / "absent"))
    assert find_vosk_model() is None


def test_missing_model_is_a_no_model_error(tmp_path: Path):
    from voice.asr import VoskRecognizer

    with pytest.raises(VoiceError) as err:
        VoskRecognizer(tmp_path)
    assert err.value.code == "no-model"
    assert "VOSK_MODEL_PATH" in err.value.message


def test_grammar_json_is_what_vosk_expects():
    grammar = FakeRecognizer(["x"], vocabulary=["社区"]).build_grammar(["社区"])
    assert json.loads(grammar.json) == ["社区", "[unk]"]
