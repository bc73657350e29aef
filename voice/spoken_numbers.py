"""Numbers as they are said aloud in Mandarin: 一百零五, 零幺零, 八点半, 百分之五十.

The inverse of :mod:`community.numerals` (which parses what residents say). Pure functions.
"""

from __future__ import annotations

DIGIT_NAMES = "零一二三四五六七八九"
PHONE_DIGIT_NAMES = "零幺二三四五六七八九"  # in phone numbers and codes 1 is read 幺
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")


def read_digits(digits: str, *, yao: bool = True) -> str:
    """Digit by digit: ``"0108"`` → ``"零幺零八"`` (``yao=False``: ``"零一零八"``)."""
    names = PHONE_DIGIT_NAMES if yao else DIGIT_NAMES
    if not digits.isdigit():
        raise ValueError(f"not a string of digits: {digits!r}")
    return "".join(names[int(d)] for d in digits)


def _read_section(n: int) -> str:
    """0 < n < 10000, without the leading-一十 shortening."""
    out: list[str] = []
    pending_zero = False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            if out:
                pending_zero = True
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGIT_NAMES[digit] + _SMALL_UNITS[power])
    return "".join(out)


def read_integer(n: int, *, liang: bool = False) -> str:
    """An integer as a quantity: 15 → 十五, 105 → 一百零五, 10010 → 一万零一十, -3 → 负三.

    ``liang=True`` says 2 as 两 (两个, 两天), as before a measure word.
    """
    if n < 0:
        return "负" + read_integer(-n)
    if n == 0:
        return "零"
    if n == 2 and liang:
        return "两"
    original = n
    sections: list[int] = []
    while n:
        sections.append(n % 10000)
        n //= 10000
    if len(sections) > len(_BIG_UNITS):
        return read_digits(str(original), yao=False)
    out = ""
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            continue
        if out and (section < 1000 or sections[index + 1] == 0):
            out += "零"
        out += _read_section(section) + _BIG_UNITS[index]
    if out.startswith("一十"):
        out = out[1:]  # 十五, not 一十五
    return out


def read_number(text: str, *, liang: bool = False) -> str:
    """Arabic digits, with an optional decimal part: ``"3.5"`` → ``"三点五"``, ``"007"`` → ``"零零七"``."""
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"not a number: {text!r}")
    if len(whole) > 1 and whole.startswith("0"):
        head = read_digits(whole, yao=False)
    else:
        head = read_integer(int(whole), liang=liang and not fraction)
    return head + ("点" + read_digits(fraction, yao=False) if fraction else "")


def read_time(hour: int, minute: int) -> str:
    """A clock time: 8:30 → 八点半, 13:05 → 十三点零五分, 2:00 → 两点."""
    if not (0 <= hour <= 24 and 0 <= minute <= 59):
        raise ValueError(f"not a clock time: {hour}:{minute:02d}")
    spoken = read_integer(hour, liang=True) + "点"
    if minute == 30:
        return spoken + "半"
    if minute == 0:
        return spoken
    return spoken + ("零" if minute < 10 else "") + read_integer(minute) + "分"


def read_phone(number: str) -> str:
    """A phone number digit by digit with 1 as 幺, groups separated by spaces.

    ``"010-8765-4300"`` → ``"零幺零 八七六五 四三零零"``; an 11-digit mobile is grouped 3-4-4;
    a hotline (110, 12345) is one group.
    """
    groups = [g for g in "".join(c if c.isdigit() else " " for c in number).split() if g]
    if not groups:
        raise ValueError(f"no digits in {number!r}")
    if len(groups) == 1:
        digits = groups[0]
        if len(digits) == 11 and digits.startswith("1"):
            groups = [digits[:3], digits[3:7], digits[7:]]
        elif len(digits) in (7, 8):
            groups = [digits[:-4], digits[-4:]]
    return " ".join(read_digits(g) for g in groups)
