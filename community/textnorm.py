"""Text normalisation for residents' messages.

Two kinds of normalisation:

* :func:`normalize_aligned` maps a message to a string of the *same length*, character by
  character (traditional → simplified, full-width → half-width, markup and control characters →
  spaces), and dialect words to Mandarin ones of the same length (点样 → 怎样,
  :mod:`community.dialect`). The NLU tokenizer uses it, so entity offsets in the original text stay valid.
* :func:`plain_aligned` is the same without the dialect words: for the details a resident gives
  (names, addresses, descriptions), kept as written.
* :func:`clean_text` is for matching and grouping: aligned normalisation, then collapsed spaces.

:func:`input_problem` tells what is wrong with a message that cannot be understood at all
(empty, emoji only, no Chinese, too long, markup only), so the assistant can say so clearly.
"""

from __future__ import annotations

import enum
import functools
import html
import re
import unicodedata

from community.dialect import in_mandarin

MAX_MESSAGE_CHARS = 500

_TAG = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^<>]{0,200}>", re.I | re.S)
_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class InputProblem(str, enum.Enum):
    """Why a message cannot be understood as a question."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    MARKUP = "markup"
    EMOJI_ONLY = "emoji_only"
    NO_CHINESE = "no_chinese"


@functools.lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[int, str]:
    """Single-character traditional → simplified table (from zhconv's MediaWiki tables)."""
    import zhconv.zhconv as zhconv_tables

    zhconv_tables.loaddict()
    table = zhconv_tables.zhcdicts["zh2Hans"]
    return {ord(k): v for k, v in table.items() if len(k) == 1 and len(v) == 1}


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def _map_char(char: str, t2s: dict[int, str]) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
        return chr(code - 0xFEE0)
    if code == 0x3000 or char in "\u200b\u200c\u200d\ufeff":
        return " "
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Zl", "Zp"):
        return " "
    return t2s.get(code, char)


def plain_aligned(text: str) -> str:
    """Normalise ``text`` character by character, dialect words left as written (what a
    resident gives as a detail: 阿拉坦仓 is a name, not 我们坦仓); the same length."""
    if not text:
        return ""
    text = _TAG.sub(_blank, text)
    text = _ENTITY.sub(_blank, text)
    t2s = _traditional_to_simplified()
    return "".join(_map_char(c, t2s) for c in text)


def normalize_aligned(text: str) -> str:
    """:func:`plain_aligned`, and dialect words read as Mandarin (:mod:`community.dialect`):
    the text to understand. The result has the same length."""
    return in_mandarin(plain_aligned(text))


def clean_text(text: str) -> str:
    """Normalised, whitespace-collapsed text for display, storage and matching."""
    return _SPACES.sub(" ", normalize_aligned(html.unescape(text or ""))).strip()


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def _is_symbolic(char: str) -> bool:
    """Emoji, pictographs, punctuation and other non-word characters."""
    category = unicodedata.category(char)
    return category[0] in ("S", "P", "Z", "C", "M") or char in "\ufe0f\u20e3"


def input_problem(text: str | None, max_chars: int = MAX_MESSAGE_CHARS) -> InputProblem | None:
    """Return why ``text`` can't be understood, or ``None`` if it can be classified."""
    raw = text or ""
    if not raw.strip():
        return InputProblem.EMPTY
    if len(raw) > max_chars:
        return InputProblem.TOO_LONG
    cleaned = clean_text(raw)
    if not cleaned:
        return InputProblem.MARKUP if _TAG.search(raw) else InputProblem.EMPTY
    if has_chinese(cleaned):
        return None
    if _TAG.search(raw):
        return InputProblem.MARKUP
    if all(_is_symbolic(c) for c in cleaned):
        return InputProblem.EMOJI_ONLY
    return InputProblem.NO_CHINESE


# -- how it sounds ---------------------------------------------------------------------------
# Speech recognition and pinyin input write a word that sounds the same (高领津贴 for 高龄津贴);
# residents with a southern accent merge zh/z, ch/c, sh/s and -ng/-n. pypinyin gives the
# readings; these fold them together. No tones: recognisers and typists get them wrong first.
_RETROFLEX = re.compile(r"^([zcs])h")
_VELAR_NASAL = re.compile(r"([aeiu])ng$")


def fuzzy_syllable(syllable: str) -> str:
    return _VELAR_NASAL.sub(r"\1n", _RETROFLEX.sub(r"\1", syllable.lower()))


def is_hanzi(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def syllables(word: str) -> tuple[str, ...]:
    """The fuzzy pinyin of a word, one syllable per character, read in context (银行: yin hang)."""
    from pypinyin import lazy_pinyin

    return tuple(fuzzy_syllable(s) for s in lazy_pinyin(word, errors=lambda rest: list(rest)))


@functools.lru_cache(maxsize=8192)
def _default_reading(char: str) -> str:
    from pypinyin import lazy_pinyin

    return fuzzy_syllable(lazy_pinyin(char)[0])


def readings(text: str) -> list[frozenset[str]]:
    """For each character of ``text``: its fuzzy reading in context and its usual reading
    (银行: hang and xing for 行). Rare readings are left out: they only make false matches."""
    from pypinyin import lazy_pinyin

    in_context = lazy_pinyin(text, errors=lambda rest: list(rest))
    if len(in_context) != len(text):  # never expected; read each character alone
        in_context = [_default_reading(c) if is_hanzi(c) else c for c in text]
    return [
        frozenset((fuzzy_syllable(s), _default_reading(c))) if is_hanzi(c) else frozenset((c,))
        for c, s in zip(text, in_context, strict=False)
    ]


# A sound-alike is not a service when it cuts through a common word (领工资 is not 零工).
COMMON_WORD_FREQ = 50


def common_word(word: str) -> bool:
    """Whether ``word`` is a common word in jieba's dictionary."""
    import jieba

    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0) >= COMMON_WORD_FREQ


# Particles and pronouns: a two-character sound-alike containing one is a sentence, not a
# service name (管饭不 is not 饭补).
FUNCTION_CHARS = frozenset("不了的吗呢吧啊呀是在有我你他她它们个和就也都还")
