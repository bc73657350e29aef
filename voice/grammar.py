"""Vosk grammars built only from words the model knows, with the unknown words reported.

A Vosk grammar is a JSON list of phrases; each phrase is words separated by spaces, and the
list ends with ``"[unk]"`` so that speech outside the grammar comes out as ``[unk]`` instead of
being forced onto the nearest phrase (a model with no ``[unk]`` word, like the small Korean one,
ignores it). Vosk silently ignores any word missing from the model's
vocabulary (it only logs a warning), so :func:`build_grammar` checks every word first, using the
same symbol table Vosk uses (``vosk_model_find_word``), and returns the words it had to leave
out. A Chinese phrase that is not one vocabulary word is split into vocabulary words when it
can be (``社区医院`` → ``社区 医院``). The JSON keeps non-ASCII characters as they are: Vosk
does not decode ``\\uXXXX`` escapes, so an escaped Chinese word would never match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import NamedTuple, Protocol

UNK = "[unk]"
MAX_WORD_CHARS = 8  # longest vocabulary word tried when splitting a Chinese phrase
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


class Vocabulary(Protocol):
    """Anything that can tell whether a speech model knows a word."""

    def knows(self, word: str) -> bool: ...


class Grammar(NamedTuple):
    """``json``: the grammar to give Vosk; ``unknown_words``: input words that were left out."""

    json: str
    unknown_words: tuple[str, ...]

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(json.loads(self.json))


def split_into_known_words(phrase: str, vocabulary: Vocabulary) -> list[str] | None:
    """Split a Chinese ``phrase`` into the fewest vocabulary words, or ``None`` if it can't be."""
    n = len(phrase)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - MAX_WORD_CHARS), end):
            head = best[start]
            if head is None:
                continue
            word = phrase[start:end]
            current = best[end]
            if (current is None or len(head) + 1 < len(current)) and vocabulary.knows(word):
                best[end] = [*head, word]
    return best[n]


def build_grammar(vocabulary: Vocabulary, phrases: Iterable[str], *, split_chinese: bool = True) -> Grammar:
    """A Vosk grammar from ``phrases`` (words or space-separated phrases), ending with ``[unk]``.

    A phrase goes into the grammar only if the model knows all its words; the words it does not
    know are returned in ``unknown_words`` (in input order, once each), so the caller can report
    them instead of wondering why a word is never recognised.
    """
    kept: list[str] = []
    unknown: list[str] = []
    for raw in phrases:
        words = str(raw).split()
        if not words or words == [UNK]:
            continue
        known: list[str] = []
        missing: list[str] = []
        for word in words:
            if vocabulary.knows(word):
                known.append(word)
                continue
            pieces = split_into_known_words(word, vocabulary) if split_chinese and _CJK.match(word) else None
            if pieces:
                known.extend(pieces)
            else:
                missing.append(word)
        if missing:
            unknown.extend(w for w in missing if w not in unknown)
            continue
        phrase = " ".join(known)
        if phrase not in kept:
            kept.append(phrase)
    return Grammar(json.dumps([*kept, UNK], ensure_ascii=False), tuple(unknown))
