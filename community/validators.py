"""Checks of what residents type or say into forms: phone numbers, 身份证号, names.

Each parser finds a value in free text (typed, or as speech recognition wrote it: 幺三八…) and
says what is wrong when it can't be used, so the assistant can re-ask kindly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_DIGIT_MAP = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_SPOKEN_RUN = re.compile(r"[零〇洞一幺二两三四五六七八九0-9]{7,}")
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9][0-9\s\-－]{5,22}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Found:
    """A value found in the text, or the problem with what looked like one."""

    value: str | None = None
    problem: str | None = None  # a Chinese sentence for the resident


def spoken_digits_to_ascii(text: str) -> str:
    """幺三八一二三四五六七八 → 13812345678 (only runs of seven or more digits are touched)."""
    return _SPOKEN_RUN.sub(lambda m: "".join(_DIGIT_MAP.get(c, c) for c in m.group(0)), text)


def _digit_runs(text: str) -> list[str]:
    text = spoken_digits_to_ascii(text)
    return [re.sub(r"[\s\-－]", "", m.group(0)) for m in _DIGIT_RUN.finditer(text)]


def find_phone(text: str) -> Found | None:
    """A mainland mobile (11 digits, 1[3-9]…) or landline (area code + 7-8 digits, or a local
    7-8 digit number). ``None`` when the text holds no number that looks like one."""
    for run in _digit_runs(text):
        if len(run) in (15, 18) and is_valid_id_number(run):
            continue  # a 身份证号, not a phone number
        if _MOBILE.fullmatch(run) or _LANDLINE.fullmatch(run) or _LOCAL.fullmatch(run):
            return Found(value=run)
        if run.startswith("1") and 9 <= len(run) <= 13:
            return Found(problem=f"手机号是11位，您说的是{len(run)}位，请再说一遍。")
        if run.startswith("0") and 9 <= len(run) <= 13:
            return Found(problem="座机号请带区号，比如 010-87654321，请再说一遍。")
        if 7 <= len(run) <= 13 and not run.isdigit():
            continue
        if 7 <= len(run) <= 13:
            return Found(problem="这个号码好像不对，手机号是1开头的11位数字，请再说一遍。")
    return None


def is_valid_id_number(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def find_id_number(text: str) -> Found | None:
    for run in _digit_runs(text):
        run = run.upper()
        if len(run) == 18 and re.fullmatch(r"\d{17}[\dX]", run):
            if is_valid_id_number(run):
                return Found(value=run)
            return Found(problem="这个身份证号校验不对（可能有一位说错了），请再核对一遍。")
        if len(run) == 15:
            return Found(problem="请说新版的18位身份证号。")
        if 16 <= len(run) <= 19:
            return Found(problem=f"身份证号是18位，您说的是{len(run)}位，请再说一遍。")
    return None


# -- names --------------------------------------------------------------------------------------
_NAME_CHARS = r"[\u4e00-\u9fa5·]"
_NAME_AFTER = re.compile(rf"(?:名字是|名字叫|姓名是|姓名|名叫|叫做|叫)\s*(?P<n>{_NAME_CHARS}{{2,5}})")
_STOP = "住今电手号岁在的是家，,。.；;、和跟从给要想报啊吧呀呢嘛了"
_NOT_NAMES = {
    "没有",
    "不知道",
    "取消",
    "不办了",
    "算了",
    "好的",
    "可以",
    "确认",
    "是的",
    "对的",
    "不是",
    "不对",
    "你好",
    "您好",
    "谢谢",
    "什么",
    "怎么",
    "为啥",
    "人工",
    "匿名",
    "不用",
    "不要",
}
_FILLERS = re.compile(
    r"^(?:我叫|她叫|他叫|我妈叫|我爸叫|孩子叫|名字是|名字叫|姓名是|姓名|叫|是|就是)|(?:吧|啊|呀|哦|。|！|!|\.)+$"
)


def _trim_name(candidate: str) -> str:
    for i, char in enumerate(candidate):
        if char in _STOP and i >= 2:
            return candidate[:i]
    return candidate


def find_name_after_cue(text: str) -> tuple[str, int] | None:
    """A name introduced by 叫/名字是/姓名: ("王秀英", position of the cue)."""
    match = _NAME_AFTER.search(text)
    if not match:
        return None
    name = _trim_name(match.group("n"))
    if len(name) < 2 or name in _NOT_NAMES or name[0] in "什谁啥哪":
        return None
    return name, match.start()


def bare_name(text: str) -> str | None:
    """The whole answer as a name ("王秀英", "我叫李明。"): when a name was just asked for."""
    candidate = _FILLERS.sub("", text.strip().replace(" ", ""))
    candidate = _FILLERS.sub("", candidate)
    if not re.fullmatch(rf"{_NAME_CHARS}{{2,5}}", candidate) or candidate in _NOT_NAMES:
        return None
    if re.search(r"[嗯呃啊哦哈么吗呢吧呀]|那个|这个|什么|不知", candidate):
        return None  # fillers and questions, not a name
    return candidate
