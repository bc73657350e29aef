"""Chinese numerals as residents say them: 八十二, 一百零五, 两, 十五, 二〇二六, 3千5."""

from __future__ import annotations

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "洞": 0,
    "一": 1, "幺": 1, "壹": 1,
    "二": 2, "两": 2, "俩": 2, "贰": 2,
    "三": 3, "仨": 3, "叁": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6,
    "七": 7, "柒": 7, "拐": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9, "勾": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS) + "0123456789"


def parse_number(text: str) -> int | None:
    """Parse an integer written in Arabic digits, Chinese numerals or a mix of both.

    >>> parse_number("八十二"), parse_number("一百零五"), parse_number("十五"), parse_number("二〇二六")
    (82, 105, 15, 2026)
    """
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(c not in NUMERAL_CHARS for c in text):
        return None
    if not any(c in UNITS for c in text):
        # Digit by digit: 二〇二六, 幺三八
        digits = [DIGITS.get(c, int(c) if c.isdigit() else None) for c in text]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    return _parse_with_units(text)


def _parse_with_units(text: str) -> int | None:
    total = 0  # completed 万 groups
    section = 0  # within the current group
    number: int | None = None
    last_unit = 1
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            number = int(text[i:j])
            i = j
            continue
        if char in DIGITS:
            number = DIGITS[char]
        elif char == "万":
            section += number or 0
            total += (section or 1) * 10000
            section, number, last_unit = 0, None, 10000
        else:
            unit = UNITS[char]
            section += (1 if number is None else number) * unit
            number, last_unit = None, unit
        i += 1
    if number is not None:
        # 三千五 → 3500, 八十二 → 82, 一百零五 → 105 (a 零 resets the implied unit)
        implied = last_unit // 10 if last_unit >= 100 and "零" not in text[-2:] else 1
        section += number * max(implied, 1)
    return total + section
