"""Pipeline stages with fakes: endpointing, streaming recognition, the kiosk's way to Rasa, speech."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bot.resident.rasa import RasaUnavailable
from tests.support.kiosk import fake_rasa_server, free_port, kiosk_service
from voice.asr import FakeRecognizer
from voice.audio import BYTES_PER_SECOND, SAMPLE_RATE, pcm_peak, read_wav
from voice.errors import VoiceError
from voice.pipeline import (
    BotMessage,
    Endpointer,
    EndpointerSettings,
    Heard,
    KeyPressed,
    Listener,
    SpeechEnded,
    SpeechStarted,
    Utterance,
    apply_gain,
    pcm_chunks,
    sentences_for,
    silence,
    synthesize_sentences,
)
from voice.tts import FakeSynthesizer, SpeechRate, Synthesizer


def tone(seconds: float, level: float = 0.3) -> bytes:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (level * 32767 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes()


async def collect(iterator) -> list:
    return [event async for event in iterator]


def test_events_are_validated():
    with pytest.raises(ValueError):
        KeyPressed("a")
    with pytest.raises(ValueError):
        Utterance("x", 1.5)
    with pytest.raises(ValueError):
        SpeechStarted(-1)
    with pytest.raises(ValueError):
        EndpointerSettings(frame_ms=15)
    assert BotMessage.from_rasa({"text": "好", "buttons": [{"title": "A", "payload": "/a"}]}).buttons == (
        ("A", "/a"),
    )


def test_endpointer_finds_start_and_end_of_speech():
    endpointer = Endpointer(EndpointerSettings(end_silence_ms=400))
    audio = silence(1.0) + tone(1.5) + silence(1.0)
    out = []
    for start in range(0, len(audio), 3200):
        out.extend(endpointer.feed(audio[start : start + 3200]))
    events = [e for e, _ in out if e is not None]
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[0].at == pytest.approx(1.0 - 0.3 + 0.06, abs=0.05)  # pre-roll included
    assert events[1].at == pytest.approx(2.5 + 0.4, abs=0.05)
    speech_bytes = sum(len(a) for _, a in out)
    assert speech_bytes / BYTES_PER_SECOND == pytest.approx(0.3 + 1.5 + 0.4, abs=0.1)


def test_listener_streams_partials_then_one_normalised_utterance():
    recognizer = FakeRecognizer(["我 妈 想 申请 高龄 津贴"])
    listener = Listener(recognizer)
    events = asyncio.run(collect(listener.events(pcm_chunks(silence(0.3) + tone(1.5)))))
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-2:] == [SpeechEnded, Utterance]
    partials = [e.text for e in events if isinstance(e, Heard)]
    assert partials[:2] == ["我", "我妈"] and partials[-1] == "我妈想申请高龄津贴"
    assert events[-1].text == "我妈想申请高龄津贴" and events[-1].raw == "我 妈 想 申请 高龄 津贴"
    assert events[-1].confidence == pytest.approx(0.9) and events[-1].ended_at > 0


def test_listener_asks_for_a_grammar_at_each_start_of_speech():
    recognizer = FakeRecognizer(["对", "随便说说"])
    grammar = recognizer.build_grammar(["是", "对", "不对"])
    asks = []

    def grammar_for():
        asks.append(1)
        return grammar if len(asks) == 2 else None

    audio = tone(0.8) + silence(1.0) + tone(0.8)
    events = asyncio.run(collect(Listener(recognizer, grammar_for=grammar_for).events(pcm_chunks(audio))))
    assert [e.text for e in events if isinstance(e, Utterance)] == ["对", ""]  # out of grammar → [unk]
    assert len(asks) == 2


def test_listener_without_recognizer_still_detects_speech():
    events = asyncio.run(collect(Listener(None).events(pcm_chunks(tone(0.5)))))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]


def test_the_kiosk_asks_through_the_resident_service_with_its_channel_and_parses():
    async def scenario():
        async with fake_rasa_server() as rasa:
            service = kiosk_service(rasa.url)
            try:
                answer = await service.ask("s1", "/elderly_meal", "kiosk")
                intents = await service.intents("高龄津贴")
            finally:
                await service.close()
        assert rasa.received == [
            {"sender": "s1", "message": "/elderly_meal", "metadata": {"channel": "kiosk"}}
        ]
        messages = [BotMessage.from_rasa(m) for m in answer.messages]
        assert messages[0].text.endswith("请点选：") and messages[0].buttons[0][1] == "/a"
        assert intents[0][0] == "elderly_allowance" and intents[0][1] == pytest.approx(0.95)

    asyncio.run(scenario())


def test_rasa_down_is_one_typed_error():
    async def scenario():
        service = kiosk_service(f"http://127.0.0.1:{free_port()}")
        try:
            with pytest.raises(RasaUnavailable):
                await service.intents("你好")
            answer = await service.ask("s1", "你好", "kiosk")  # the recovery reply, never nothing
        finally:
            await service.close()
        assert answer.unavailable and answer.recovering and answer.text

    asyncio.run(scenario())


def test_speech_is_short_sentences_without_buttons():
    messages = [
        BotMessage("【高龄津贴】便民服务大厅，周一至周五 8:30-12:00\n电话 010-8765-4300", (("找人工", "/h"),))
    ]
    sentences = sentences_for(messages, 20)
    assert all(len(s) <= 20 for s in sentences)
    assert "八点半到十二点" in "".join(sentences) and "零幺零" in "".join(sentences)
    assert "找人工" not in "".join(sentences) and "【" not in "".join(sentences)


def test_gain_is_louder_and_clipped():
    pcm = tone(0.1, level=0.5)
    assert pcm_peak(apply_gain(pcm, 1.4)) == pytest.approx(0.7, abs=0.01)
    assert pcm_peak(apply_gain(pcm, 4.0)) <= 1.0


class FlakySynthesizer(Synthesizer):
    def __init__(self) -> None:
        self.fake = FakeSynthesizer(0.01)
        self.calls = 0

    def synthesize(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        self.calls += 1
        if "坏" in text:
            raise VoiceError("tts-failed", "no audio")
        return self.fake.synthesize(text, rate)


def test_synthesis_is_sentence_by_sentence_and_skips_a_failing_sentence():
    synthesizer = FlakySynthesizer()

    async def run():
        return [
            s
            async for s, _ in synthesize_sentences(
                synthesizer, ["第一句", "坏句子", "第三句"], SpeechRate.SLOW
            )
        ]

    assert asyncio.run(run()) == ["第一句", "第三句"]
    assert synthesizer.calls == 4  # the bad one was retried once
    assert read_wav(synthesizer.fake.synthesize("好")).sample_rate == SAMPLE_RATE
