"""Vosk grammars from known words, unknown words reported (with a vocabulary stand-in)."""

from __future__ import annotations

import json

from voice.asr import FakeRecognizer
from voice.grammar import UNK, Grammar, build_grammar, split_into_known_words


class Words:
    def __init__(self, *words: str) -> None:
        self.words = set(words)
        self.asked: list[str] = []

    def knows(self, word: str) -> bool:
        self.asked.append(word)
        return word in self.words


VOCAB = Words(
    "社区", "医院", "社区医院", "证明", "居住", "开", "老年", "餐桌", "是", "不是", "hello", "world"
)


def test_grammar_keeps_known_words_and_ends_with_unk():
    grammar = build_grammar(VOCAB, ["社区", "证明", "是", "不是"])
    assert json.loads(grammar.json) == ["社区", "证明", "是", "不是", UNK]
    assert grammar.unknown_words == ()
    assert grammar.phrases[-1] == UNK


def test_unknown_words_are_reported_not_silently_dropped():
    json_grammar, unknown = build_grammar(VOCAB, ["社区", "高龄津贴", "hello qqq", "是", "qqq"])
    assert json.loads(json_grammar) == ["社区", "是", UNK]
    assert unknown == ("高龄津贴", "qqq")  # once each, in input order


def test_chinese_phrases_are_split_into_known_words():
    grammar = build_grammar(VOCAB, ["居住证明", "老年餐桌", "社区医院", "开居住证明"])
    assert json.loads(grammar.json) == ["居住 证明", "老年 餐桌", "社区医院", "开 居住 证明", UNK]
    assert grammar.unknown_words == ()
    assert build_grammar(VOCAB, ["居住证明"], split_chinese=False).unknown_words == ("居住证明",)


def test_split_prefers_fewest_words():
    assert split_into_known_words("社区医院证明", VOCAB) == ["社区医院", "证明"]
    assert split_into_known_words("社区大医院", VOCAB) is None


def test_multiword_phrases_duplicates_and_blank_entries():
    grammar = build_grammar(VOCAB, ["hello world", "hello  world", "", "   ", UNK, "社区"])
    assert json.loads(grammar.json) == ["hello world", "社区", UNK]


def test_grammar_json_keeps_chinese_unescaped_for_vosk():
    grammar = build_grammar(VOCAB, ["社区"])
    assert "社区" in grammar.json and "\\u" not in grammar.json
    assert isinstance(grammar, tuple) and isinstance(grammar, Grammar)


def test_recognizer_builds_grammars_from_its_vocabulary():
    recognizer = FakeRecognizer(["是"], vocabulary=["是", "不是"])
    grammar = recognizer.build_grammar(["是", "不是", "也许"])
    assert json.loads(grammar.json) == ["是", "不是", UNK]
    assert grammar.unknown_words == ("也许",)
