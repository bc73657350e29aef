"""Replies rewritten for the ear, in short sentences, before speech synthesis.

A chat reply is written for the eye: ``【老年餐桌】…一层101室，周一至周日 11:00-13:00`` and
``电话 010-8765-4311``. Read as written, a synthesiser spells brackets and URLs, reads times as
numbers and phone numbers as amounts. :func:`speech_sentences` returns what to say instead:

* phone numbers digit by digit with 1 as 幺, a pause (，) between groups (``零幺零，八七六五，四三零零``:
  a space gives espeak-ng no pause; 110, 119, 120 and 12345 the same way), a masked number as its
  last digits (``尾号五六七八``);
* request reference numbers in chunks with pauses (``SQ-20261202-0002`` → ``SQ，二零二六，幺二零二，
  零零零二``), never as a range (``…幺二零二到零零零二``);
* times as said (``8:30`` → ``八点半``, ``13:30-17:30`` → ``十三点半到十七点半``), years
  digit by digit, other numbers as quantities (``15元`` → ``十五元``, ``2天`` → ``两天``);
* no URLs, e-mail addresses, emoji, markdown or 【】「」 brackets;
* buttons are never read (:func:`reply_sentences` reads only a reply's text);
* sentences of at most ``max_chars`` (25) characters where the punctuation allows.

Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from community.textnorm import clean_text
from voice.spoken_numbers import read_digits, read_integer, read_number, read_phone, read_time

MAX_SENTENCE_CHARS = 25

# Words after a number that make it a quantity or an ordinal, not a phone number. The first
# group takes 两 for 2 (两天, 两个); the others do not (二月, 二号楼, 二层).
_LIANG_MEASURES = (
    "个 天 人 位 名 次 元 块 角 毛 岁 周岁 小时 分钟 周 星期 年 张 本 份 项 件 条 台 辆 套 间 种 家 户 "
    "斤 公斤 千克 克 吨 米 公里 千米 厘米 平方米 平米 倍 万 千 百 遍 趟 顿 句 杯 瓶 盒 袋 只 双 对 部 支 把"
).split()
_OTHER_MEASURES = (
    "月 日 号 楼 层 栋 幢 单元 室 路 级 期 届 批 点 分 秒 度 % 组 班 周年 kg km cm mm ml m g l"
).split()


def _any_of(words: list[str]) -> str:
    """A regex alternation of ``words``, longest first (so 分钟 wins over 分)."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_MEASURE = re.compile(rf"\s*(?:{_any_of(_LIANG_MEASURES + _OTHER_MEASURES)})", re.I)
_LIANG = re.compile(rf"\s*(?:{_any_of(_LIANG_MEASURES)})")
_PHONE_CUE = re.compile(r"(?:电话|热线|拨打|拨|致电|打|号码|手机|座机|传真|联系|call|tel)\s*[:：]?\s*$", re.I)
_HOTLINE = re.compile(r"^(?:11\d|12\d|12\d{3}|95\d{3}|96\d{3})$")

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_PAYLOAD_LINE = re.compile(r"^/[a-z_]\w*(?:\{.*\})?$", re.I)
_RULE_LINE = re.compile(r"^(?:[-*_=]\s*){3,}$|^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s*|>\s*)+")
_BULLET = re.compile(r"^\s*[-*+•·▪◦]\s+")
_NUMBERED = re.compile(r"^\s*(\d{1,2})(?:[.)]\s+|、)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]*)\)")
_URL = re.compile(
    r"(?:https?|ftp)://\S+|www\.\S+|"
    r"(?<![\w@.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|gov|edu|info|io|top|xyz)(?:\.cn)?(?::\d+)?"
    r"(?:/[\w\-./?%&=#~+]*)?(?![\w.])",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_REFERENCE = re.compile(r"(?<![A-Za-z])(SQ)\s*-\s*(\d{4})(\d{4})\s*-\s*(\d{4})(?!\d)", re.I)
_MASKED = re.compile(r"\d*[*＊]{2,}(\d{2,4})(?!\d)")
_EMPHASIS = re.compile(r"\*\*|__|~~|`+")

_TIME = r"(?:[01]?\d|2[0-4]):[0-5]\d"
_TIME_RANGE = re.compile(rf"(?<![\d.:])({_TIME})\s*(?:-|~|–|—|至|到)\s*({_TIME})(?![\d:])")
_TIME_ONE = re.compile(rf"(?<![\d.:])({_TIME})(?![\d:])")
_DATE = re.compile(r"(?<![\d.])((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?![\d.])")
_YEAR_LIKE = re.compile(r"^(?:19|20)\d{2}$")
_YEAR_RANGE = re.compile(r"(?<![\d.])((?:19|20)\d{2})\s*(?:-|~|–|—|至|到)\s*((?:19|20)\d{2})(?=\s*年)")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?=\s*年)")
_DASHED_PHONE = re.compile(
    r"(?<![\d.])(?:\+?86[- ])?(?:0\d{2,3}|[48]00|1[3-9]\d)(?:[- ]\d{3,8}){1,2}(?![\d.])"
)
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LOCAL_PHONE = re.compile(r"(?<![\d.])([2-9]\d{2,3})-(\d{4})(?![\d.])")  # 8765-4300, not 2025-2026
_ROOM = re.compile(r"(?<![\d.])(\d{3,5})(?=\s*(?:室|房间|号房))")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_MONEY = re.compile(r"[¥￥]\s*(\d+(?:\.\d+)?)")
_PER_UNIT = re.compile(  # 15元/人 → 15元每人, but not 周二/周四
    r"(?<=[\d元块次斤份])\s*/\s*(人|次|月|天|年|小时|位|份|个|件|户|家|斤|餐|周)(?![一二三四五六日末])"
)
_RANGE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:-|~|–|—)\s*(?=\d)")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")

_SYMBOLS = {
    "【": "", "】": ",", "[": "", "]": "", "「": "", "」": "", "『": "", "』": "", "“": "", "”": "",
    "‘": "", "’": "", '"': "", "'": "", "《": "", "》": "", "〈": "", "〉": "", "<": "", ">": "",
    "(": ",", ")": ",", "{": "", "}": "", "&": "和", "+": "加", "=": "等于", "|": ",", "/": "、",
    "\\": "", "#": "", "*": "", "_": " ", "^": "", "@": "", "~": "到", "…": ".", "—": ",", "–": ",",
    "-": " ", "·": " ", "•": " ",
}
_PAUSE = ",、:;"
_END = "。.!?"
_FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", ".": "。"})
_HAS_WORD = re.compile(r"[\w\u3400-\u9fff]")


def _is_dropped_symbol(char: str) -> bool:
    """Emoji, pictographs and other symbols that have no reading."""
    if char in "\ufe0e\ufe0f\u20e3":
        return True
    category = unicodedata.category(char)
    return category in ("So", "Sk", "Cs", "Co", "Cn") or (category == "Sm" and char not in "+=<>|~")


def _spoken_phone(number: str) -> str:
    """A phone number for the ear: its groups with a pause between them (``零幺零，八七六五``)."""
    return ",".join(read_phone(number).split(" "))


def _read_reference(match: re.Match[str]) -> str:
    """SQ-20261202-0002 → SQ，二零二六，幺二零二，零零零二 (four digits at a time, with pauses)."""
    return ",".join([match.group(1).upper(), *(read_digits(g) for g in match.groups()[1:])]) + ","


def _read_plain_number(match: re.Match[str]) -> str:
    """A number left after dates, times and phone numbers: quantity, ordinal, hotline or code."""
    token = match.group(0)
    before = match.string[max(0, match.start() - 12) : match.start()]
    after = match.string[match.end() :]
    if "." in token:
        return read_number(token)
    if before.endswith("第"):
        return read_number(token)
    if _MEASURE.match(after):
        return read_number(token, liang=bool(_LIANG.match(after)))
    if _HOTLINE.match(token) or _PHONE_CUE.search(before) or len(token) >= 7:
        return _spoken_phone(token)
    if len(token) > 1 and token.startswith("0"):
        return read_digits(token)
    if len(token) > 12:
        return read_digits(token)
    return read_integer(int(token))


def _numbers_for_speech(line: str) -> str:
    line = _REFERENCE.sub(_read_reference, line)
    line = _MONEY.sub(lambda m: m.group(1) + "元", line)
    line = _DATE.sub(
        lambda m: read_digits(m.group(1), yao=False) + "年" + read_integer(int(m.group(2))) + "月"
        + read_integer(int(m.group(3))) + "日",
        line,
    )
    line = _YEAR_RANGE.sub(
        lambda m: read_digits(m.group(1), yao=False) + "到" + read_digits(m.group(2), yao=False), line
    )
    line = _YEAR.sub(lambda m: read_digits(m.group(1), yao=False), line)
    line = _TIME_RANGE.sub(lambda m: _read_clock(m.group(1)) + "到" + _read_clock(m.group(2)), line)
    line = _TIME_ONE.sub(lambda m: _read_clock(m.group(1)), line)
    line = _DASHED_PHONE.sub(lambda m: _spoken_phone(re.sub(r"^\+?86[- ]", "", m.group(0))), line)
    line = _MOBILE.sub(lambda m: _spoken_phone(m.group(0)), line)
    line = _LOCAL_PHONE.sub(_read_local_phone, line)
    line = _ROOM.sub(lambda m: read_digits(m.group(1)), line)
    line = _PERCENT.sub(lambda m: "百分之" + read_number(m.group(1)), line)
    line = _PER_UNIT.sub(lambda m: "每" + m.group(1), line)
    line = _RANGE.sub(lambda m: m.group(1) + "到", line)
    return _NUMBER.sub(_read_plain_number, line)


def _read_local_phone(match: re.Match[str]) -> str:
    if all(_YEAR_LIKE.match(g) for g in match.groups()):
        return match.group(0)  # a range of years
    return _spoken_phone(match.group(0))


def _read_clock(value: str) -> str:
    hour, minute = value.split(":")
    return read_time(int(hour), int(minute))


def _tidy_punctuation(line: str) -> str:
    line = re.sub(r"\s+", " ", line).strip()
    line = re.sub(rf"\s*([{_PAUSE}{_END}])\s*", r"\1", line)
    line = re.sub(rf"[{_PAUSE}]{{2,}}", lambda m: max(m.group(0), key=_PAUSE.index), line)  # ,; → ;
    line = re.sub(rf"[{_PAUSE}]+([{_END}])", r"\1", line)  # ,. → .
    line = re.sub(rf"([{_END}])[{_PAUSE}]+", r"\1", line)  # .,  → .
    line = re.sub(rf"([{_END}])[{_END}]+", r"\1", line)  # .. → .
    line = re.sub(rf"^[{_PAUSE}{_END}\s]+", "", line)
    line = re.sub(rf"[{_PAUSE}]+$", "", line)
    if line and line[-1] not in _END:
        line += "."
    return line


def _line_for_speech(raw: str) -> str:
    line = clean_text(raw)
    if not line or _PAYLOAD_LINE.match(line) or _RULE_LINE.match(line):
        return ""
    line = _HEADING.sub("", line)
    line = _BULLET.sub("", line)
    line = _NUMBERED.sub(lambda m: read_integer(int(m.group(1))) + "、", line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _EMAIL.sub("", line)
    line = _URL.sub("", line)
    line = _MASKED.sub(lambda m: "尾号" + read_digits(m.group(1)), line)
    line = _EMPHASIS.sub("", line)
    line = line.replace("°C", "度").replace("℃", "度").replace("...", ".")
    line = "".join(c for c in line if not _is_dropped_symbol(c))
    line = _numbers_for_speech(line)
    line = "".join(_SYMBOLS.get(c, c) for c in line)
    return _tidy_punctuation(line)


def speech_text(text: str) -> str:
    """The whole of ``text`` rewritten for the ear (Chinese punctuation, one string)."""
    text = _CODE_BLOCK.sub("\n", text or "")
    lines = (_line_for_speech(line) for line in text.splitlines())
    return "".join(line for line in lines if _HAS_WORD.search(line)).translate(_FULL_WIDTH)


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """Split one sentence at commas, then spaces, then anywhere, into pieces of <= max_chars."""
    units: list[str] = []
    for clause in re.split(r"(?<=[，、：])", sentence):
        if len(clause) <= max_chars:
            units.append(clause)
            continue
        for word in re.split(r"(?<= )", clause):
            units.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(unit) > max_chars:
            pieces.append(current)
            current = ""
        current += unit
    if current:
        pieces.append(current)
    return pieces


def split_sentences(speech: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Cut speech text into sentences of at most ``max_chars`` characters where possible."""
    if max_chars < 5:
        raise ValueError("max_chars must be at least 5")
    out: list[str] = []
    for sentence in re.split(r"(?<=[。！？；])", speech):
        sentence = sentence.strip()
        if not _HAS_WORD.search(sentence):
            continue
        for piece in _split_long(sentence, max_chars) if len(sentence) > max_chars else [sentence]:
            piece = piece.strip().rstrip("，、：").strip()
            if piece.endswith("；"):
                piece = piece[:-1] + "。"
            if _HAS_WORD.search(piece):
                out.append(piece)
    return out


def speech_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """``text`` rewritten for the ear and cut into short sentences, ready for a synthesiser."""
    return split_sentences(speech_text(text), max_chars)


def reply_sentences(reply: object, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """What to say for an assistant reply; its buttons are never read.

    ``reply`` is a :class:`community.answers.Reply` (its ``lines``), a Rasa bot message
    (``{"text": …, "buttons": […]}``) or plain text.
    """
    if isinstance(reply, str):
        text = reply
    elif isinstance(reply, Mapping):
        text = str(reply.get("text") or "")
    elif hasattr(reply, "lines"):
        text = "\n".join(str(line) for line in reply.lines)
    else:
        raise TypeError(f"cannot read a {type(reply).__name__} aloud")
    return speech_sentences(text, max_chars)
