"""Text normalisation for residents' messages.

Two kinds of normalisation:

* :func:`normalize_aligned` maps a message to a string of the *same length*, character by
  character (traditional → simplified, full-width → half-width, markup and control characters →
  spaces). The NLU tokenizer uses it, so entity offsets in the original text stay valid.
* :func:`clean_text` is for display and storage: aligned normalisation, then collapsed spaces.

:func:`input_problem` tells what is wrong with a message that cannot be understood at all
(empty, emoji only, no Chinese, too long, markup only), so the assistant can say so clearly.
"""

from __future__ import annotations

import enum
import functools
import html
import re
import unicodedata

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


def normalize_aligned(text: str) -> str:
    """Normalise ``text`` character by character; the result has the same length."""
    if not text:
        return ""
    text = _TAG.sub(_blank, text)
    text = _ENTITY.sub(_blank, text)
    t2s = _traditional_to_simplified()
    return "".join(_map_char(c, t2s) for c in text)


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
