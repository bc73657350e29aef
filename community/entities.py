"""Rule-based extraction of ages, addresses (楼栋/单元/门牌) and dates from residents' text.

The extractor works on the aligned normalisation of the text, so the offsets it returns are
offsets into the resident's original message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from community.numerals import NUMERAL_CHARS, parse_number
from community.textnorm import plain_aligned

_NUM = f"[{NUMERAL_CHARS}]+"
_AGE = re.compile(rf"(?P<n>{_NUM})\s*(?:周岁|岁|了(?![解不]))")
_AGE_PREFIX = re.compile(rf"(?:今年|年纪|年龄)\s*(?P<n>{_NUM})")
_BUILDING = re.compile(rf"(?P<n>{_NUM})\s*(?:号楼|栋|幢|座|号院)")
_UNIT = re.compile(rf"(?P<n>{_NUM})\s*单元")
_ROOM = re.compile(r"(?P<n>\d{3,4})(?:\s*(?:室|号|房))?(?!\d)")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_RELATIVE_DAYS = {"今天": 0, "今儿": 0, "明天": 1, "明儿": 1, "后天": 2, "大后天": 3}
_RELATIVE = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
_WEEK = re.compile(r"(?P<next>下下|下个?|这个?|本)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天末])")
_MONTH_DAY = re.compile(rf"(?:(?P<m>{_NUM})\s*月\s*)?(?P<d>{_NUM})\s*[号日](?!子)")
_PERIOD = re.compile(r"上午|早上|中午|下午|晚上|傍晚")
_CLOCK = re.compile(rf"(?P<h>{_NUM})\s*(?:点|时|:|：)\s*(?P<half>半)?(?:(?P<m>{_NUM})\s*分?)?")


@dataclass(frozen=True)
class Entity:
    entity: str
    value: object
    start: int
    end: int

    def as_dict(self) -> dict:
        return {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end}


def _number_entity(match: re.Match[str], name: str, low: int, high: int) -> Entity | None:
    value = parse_number(match.group("n"))
    if value is None or not low <= value <= high:
        return None
    return Entity(name, value, match.start(), match.end())


def extract_age(text: str) -> list[Entity]:
    found = []
    for pattern in (_AGE, _AGE_PREFIX):
        for match in pattern.finditer(text):
            entity = _number_entity(match, "age", 0, 120)
            if entity and not _inside_address(text, match.start()):
                found.append(entity)
    return found[:1]


def _inside_address(text: str, pos: int) -> bool:
    return bool(re.search(r"[栋单元室楼号]\s*$", text[max(0, pos - 1) : pos]))


def extract_address(text: str) -> list[Entity]:
    found: list[Entity] = []
    anchor = None
    for pattern, name, high in ((_BUILDING, "building", 999), (_UNIT, "unit", 99)):
        match = pattern.search(text)
        entity = _number_entity(match, name, 1, high) if match else None
        if entity:
            found.append(entity)
            anchor = max(anchor or 0, entity.end)
    if anchor is not None:
        room = _ROOM.match(text, anchor) or _ROOM.match(text, anchor + 1)
        if room:
            found.append(Entity("room", int(room.group("n")), room.start(), room.end()))
    return found


def _next_weekday(today: dt.date, weekday: int, qualifier: str | None) -> dt.date:
    start_of_week = today - dt.timedelta(days=today.weekday())
    if qualifier and qualifier.startswith("下下"):
        return start_of_week + dt.timedelta(days=14 + weekday)
    if qualifier and qualifier.startswith("下"):
        return start_of_week + dt.timedelta(days=7 + weekday)
    candidate = start_of_week + dt.timedelta(days=weekday)
    if candidate < today:  # 这周五 said on a Sunday means the coming Friday
        candidate += dt.timedelta(days=7)
    return candidate


def parse_date(text: str, today: dt.date) -> tuple[dt.date, int, int] | None:
    """Find a date in ``text``; returns (date, start, end) or ``None``."""
    match = _RELATIVE.search(text)
    if match:
        return today + dt.timedelta(days=_RELATIVE_DAYS[match.group(0)]), match.start(), match.end()
    match = _WEEK.search(text)
    if match:
        date = _next_weekday(today, _WEEKDAYS[match.group("d")], match.group("next"))
        return date, match.start(), match.end()
    for match in _MONTH_DAY.finditer(text):
        month = parse_number(match.group("m")) if match.group("m") else today.month
        day = parse_number(match.group("d"))
        if not month or not day:
            continue
        year = today.year
        try:
            date = dt.date(year, month, day)
            if date < today and match.group("m"):
                date = dt.date(year + 1, month, day)
            elif date < today:
                continue
        except ValueError:
            continue
        return date, match.start(), match.end()
    return None


def parse_time(text: str) -> tuple[str, int, int] | None:
    """Find a time of day: "14:00" for 下午两点, or the period itself ("上午")."""
    period = _PERIOD.search(text)
    clock = _CLOCK.search(text)
    if clock:
        hour = parse_number(clock.group("h"))
        minute = 30 if clock.group("half") else parse_number(clock.group("m") or "0")
        if hour is not None and minute is not None and 0 <= hour <= 24 and 0 <= minute < 60:
            if period and period.group(0) in ("下午", "晚上", "傍晚") and hour < 12:
                hour += 12
            start = period.start() if period and period.start() < clock.start() else clock.start()
            return f"{hour:02d}:{minute:02d}", start, clock.end()
    if period:
        return period.group(0), period.start(), period.end()
    return None


def extract_entities(text: str, today: dt.date | None = None) -> list[Entity]:
    """All rule-based entities in ``text`` (offsets refer to ``text``)."""
    norm = plain_aligned(text or "")
    today = today or dt.date.today()
    entities = extract_age(norm) + extract_address(norm)
    date = parse_date(norm, today)
    if date:
        entities.append(Entity("date", date[0].isoformat(), date[1], date[2]))
    time = parse_time(norm)
    if time:
        entities.append(Entity("time", time[0], time[1], time[2]))
    return entities
