"""What a resident hears when part of the assistant is down (being restarted, or a store that
can't be written): never an empty reply, and an emergency always gets 119/110/120 first.

Pure functions, no Rasa and no store: every channel (Rasa's REST channel, the web chat,
Telegram, the kiosk) can say these lines whatever else is broken.
"""

from __future__ import annotations

import re

from community.answers import Reply, emergency_answer, emergency_kind
from community.danger import in_danger_now

# Words that mean danger now even when no specific kind (gas, fire, ...) is named.
EMERGENCY_NUMBERS = "紧急情况请直接拨打 110（报警）、119（火警）或 120（急救）。"
_DANGER = re.compile(r"救命|救救|紧急|急救|报警|危险|出事了|不行了|快来人|要死了")


def looks_like_emergency(text: str) -> bool:
    """True when ``text`` names a danger (煤气泄漏, 着火, 有人晕倒, 救命...) or tells of one in a
    resident's words (喊他也不大应声, 跟丢了半个钟头)."""
    text = text or ""
    kind, _ = emergency_kind(text)
    return kind != "general" or bool(_DANGER.search(text)) or in_danger_now(text)


def recovering_line(community_phone: str) -> str:
    return f"系统正在恢复，请稍等一会儿再发，或打社区电话 {community_phone}。"


def recovery_reply(text: str, community_phone: str, *, emergency: bool | None = None) -> Reply:
    """The reply when the assistant can't answer now.

    An emergency (``emergency``, or when not given, words that name a danger) gets its
    119/110/120 line first; any other message is told the system is recovering, with the
    community's phone number.
    """
    if emergency is None:
        emergency = looks_like_emergency(text)
    if emergency:
        first = emergency_answer(text, community_phone).lines[0]
        return Reply((first, f"社区值班电话 {community_phone}。"))
    return Reply((recovering_line(community_phone), EMERGENCY_NUMBERS))


def unsaved_reply(community_phone: str) -> Reply:
    """The conversation store can't be written: say so plainly instead of pretending."""
    return Reply(
        (
            "抱歉，系统现在无法保存您的对话，刚才这句话没有记下来。",
            f"请稍后再试，或打社区电话 {community_phone}。",
            EMERGENCY_NUMBERS,
        )
    )
