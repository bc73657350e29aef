"""How the console shows values: local times, waiting times, percentages, domain names
(Jinja filters and globals, also used by the page handlers)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterable

from community.db import LOCAL_TZ
from community.privacy import mask_text

DOMAIN_LABELS = {
    "cert": "证明",
    "elderly": "养老",
    "childcare": "托育",
    "employment": "就业",
    "disability": "助残",
    "legal": "法律",
    "health": "健康",
    "emergency": "紧急",
    "complaint": "反映问题",
    "community": "社区事务",
    "volunteer": "志愿",
    "request": "申请办理",
    "check": "查询办理进度",
    "cancel": "取消申请",
    "meta": "寒暄/转人工",
    "fallback": "没听懂",
}


def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(LOCAL_TZ).strftime(fmt)
    return str(value)


def waited(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    minutes = int(((now or dt.datetime.now(dt.timezone.utc)) - value).total_seconds() // 60)
    if minutes < 1:
        return "不到1分钟"
    if minutes < 60:
        return f"{minutes}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{minutes}分钟"
    return f"{hours // 24}天"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def masker(public: Iterable[str]) -> Callable[[str], str]:
    """:func:`community.privacy.mask_text` that leaves the community's own numbers readable
    (COMMUNITY_PHONE: the duty number the assistant gives residents is not a resident's)."""
    numbers = sorted({n.strip() for n in public if n and n.strip()}, key=len, reverse=True)
    if not numbers:
        return mask_text
    pattern = re.compile("|".join(re.escape(n) for n in numbers))

    def mask(text: str) -> str:
        if not text:
            return text
        kept: list[str] = []

        def hold(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        masked = mask_text(pattern.sub(hold, text))
        return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], masked)

    return mask
