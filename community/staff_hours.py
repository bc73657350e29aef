"""When staff are at work, from the STAFF_HOURS text residents are also shown.

Understands what a community writes on its notice board: ``周一至周五 8:30-17:30``,
``周一到周六 9:00-12:00；周日 休息`` (segments split by ``；``/``;``/``，``), ``每天 8:00-20:00``,
``工作日 …``. Times are Beijing time. Nothing here imports Rasa.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from community.db import LOCAL_TZ

DAY_NAMES = "一二三四五六日"
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天])"
_RANGE = re.compile(_DAY + r"\s*(?:至|到|-|—|~|－)\s*" + _DAY)
_SINGLE = re.compile(_DAY)
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})\s*(?:-|—|~|－|至|到)\s*(\d{1,2})[:：](\d{2})")


def _day_index(char: str) -> int:
    return 6 if char in "日天" else DAY_NAMES.index(char)


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday = 0
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class StaffHours:
    windows: tuple[Window, ...]

    @classmethod
    def parse(cls, spec: str) -> StaffHours:
        """The opening windows in ``spec``; raises ValueError if none can be read."""
        windows: list[Window] = []
        for segment in re.split(r"[；;，,\n]+(?=[^\d])", spec or ""):
            times = _TIME.findall(segment)
            if not times:
                continue
            days: list[int] = []
            if "每天" in segment or "每日" in segment:
                days = list(range(7))
            elif "工作日" in segment:
                days = list(range(5))
            for first, last in _RANGE.findall(segment):
                a, b = _day_index(first), _day_index(last)
                days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
            if not days:
                days = [_day_index(c) for c in _SINGLE.findall(segment)]
            for h1, m1, h2, m2 in times:
                start, end = dt.time(int(h1), int(m1)), dt.time(min(int(h2), 23), int(m2))
                if start >= end:
                    continue
                windows.extend(Window(d, start, end) for d in sorted(set(days)))
        if not windows:
            raise ValueError(f"cannot read staff hours from {spec!r} (e.g. 周一至周五 8:30-17:30)")
        return cls(tuple(windows))

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(LOCAL_TZ)
        return any(w.weekday == local.weekday() and w.start <= local.time() < w.end for w in self.windows)

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The next moment staff are at work (``now`` itself when they are)."""
        local = now.astimezone(LOCAL_TZ)
        if self.is_open(local):
            return local
        candidates = []
        for days_ahead in range(8):
            day = (local + dt.timedelta(days=days_ahead)).date()
            for w in self.windows:
                if w.weekday == day.weekday():
                    start = dt.datetime.combine(day, w.start, tzinfo=LOCAL_TZ)
                    if start > local:
                        candidates.append(start)
        return min(candidates)


def describe_opening(opening: dt.datetime, now: dt.datetime) -> str:
    """``今天 13:30``, ``明天（周二）8:30`` or ``周一 8:30`` as residents read it."""
    local_now, local = now.astimezone(LOCAL_TZ), opening.astimezone(LOCAL_TZ)
    clock = f"{local.hour}:{local.minute:02d}"
    weekday = "周" + DAY_NAMES[local.weekday()]
    days = (local.date() - local_now.date()).days
    if days == 0:
        return f"今天 {clock}"
    if days == 1:
        return f"明天（{weekday}）{clock}"
    return f"{local.month}月{local.day}日（{weekday}）{clock}"


def after_hours_notice(spec: str, now: dt.datetime) -> str | None:
    """What to tell a resident who asks for a person outside staff hours (None in hours, or
    when the hours cannot be read, so we never promise a wrong time)."""
    try:
        hours = StaffHours.parse(spec)
    except ValueError:
        return None
    if hours.is_open(now):
        return None
    when = describe_opening(hours.next_opening(now), now)
    return (
        f"现在是下班时间（工作时间：{spec}）。您的消息已经留给工作人员，他们会在{when} 上班后在这里回复您。"
    )
