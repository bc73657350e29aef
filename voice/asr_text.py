"""What a recogniser wrote, as the rest of the assistant expects text.

Vosk's Chinese models put a space between words (``我 想 办 居住 证明``) and write digits as
characters (``幺 三 八 …``). :func:`normalize_asr_text` joins the Chinese words (spaces between
Latin words stay), drops ``[unk]`` markers, turns digit-by-digit numbers — phone numbers,
hotlines — into Arabic digits (``幺三八幺二三四五六七八`` → ``13812345678``) so the phone
validation and the catalogue match them, and ends with :func:`community.textnorm.clean_text`.
Numbers said with units (``八十二``, ``一百零五``) are left to :mod:`community.numerals`.
"""

from __future__ import annotations

import re

from community.numerals import DIGITS
from community.textnorm import clean_text

# Characters used when a number is read digit by digit. 两/洞/拐/勾 are left out: outside
# radio-style readings they are ordinary words (拐弯, 山洞).
DIGIT_CHARS = "零〇○一幺二三四五六七八九"
HOTLINES = frozenset({"110", "112", "114", "119", "120", "122", "12315", "12320", "12333", "12345", "12348"})
MIN_DIGIT_RUN = 7  # a digit-by-digit run this long is a phone number, an ID or a code

_UNK = re.compile(r"\[unk\]|<unk>|\[noise\]|<noise>|\[laughter\]", re.I)
_SPACE_RUN = re.compile(r"\s+")
_LATIN = re.compile(r"[A-Za-z0-9]")
_DIGIT_RUN = re.compile(f"[{DIGIT_CHARS}]+")


def join_words(text: str) -> str:
    """Remove the spaces between words, except where Latin letters or digits meet."""

    def keep_or_drop(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1] if match.start() else ""
        after = match.string[match.end()] if match.end() < len(match.string) else ""
        return " " if _LATIN.match(before) and _LATIN.match(after) else ""

    return _SPACE_RUN.sub(keep_or_drop, text.strip())


def digit_run_to_arabic(run: str) -> str | None:
    """``幺三八…`` → ``138…`` when the run reads as a phone number, hotline or code; else ``None``."""
    digits = "".join(str(DIGITS[c]) for c in run)
    if len(run) >= MIN_DIGIT_RUN or digits in HOTLINES or (len(run) >= 3 and "幺" in run):
        return digits
    return None


def digits_to_arabic(text: str) -> str:
    return _DIGIT_RUN.sub(lambda m: digit_run_to_arabic(m.group(0)) or m.group(0), text)


def normalize_asr_text(text: str) -> str:
    """Recogniser output → clean text for the NLU, the store and display."""
    text = _UNK.sub(" ", text or "")
    return clean_text(digits_to_arabic(join_words(text)))
