"""What the Telegram channel says, and pure helpers on answer text (no Telegram imports)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from community.answers import ShortAnswer
from community.db import LOCAL_TZ
from community.privacy import mask_text
from community.records.requests import STATUS_LABELS

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for one text message

MENU = {
    "证明办理": '/cert_apply{"menu":"domain"}',
    "养老服务": '/elderly_meal{"menu":"domain"}',
    "托育服务": '/childcare_nursery{"menu":"domain"}',
    "就业服务": '/employment_jobs{"menu":"domain"}',
    "找人工": "/human_handoff",
}
ELDER_BUTTON = "长辈模式"
ELDER_OFF_BUTTON = "退出长辈模式"
MENU_ROWS = (("证明办理", "养老服务"), ("托育服务", "就业服务"), ("找人工", ELDER_BUTTON))
ELDER_MENU_ROWS = (("证明办理", "养老服务"), ("托育服务", "就业服务"), ("找人工", ELDER_OFF_BUTTON))

# What residents say to switch 长辈模式 on or off; a message that is only this (punctuation and
# 请/帮我/一下 aside) is handled by the channel. Other wordings (字太小, 看不清) reach the
# assistant, whose interface_help answer switches it on too.
ELDER_ON_WORDS = frozenset({
    ELDER_BUTTON, "打开长辈模式", "开长辈模式", "长辈版", "老人模式", "老年模式", "大字模式",
    "字大一点", "字大点", "字大一些", "字再大一点", "字放大", "放大字", "大字",
    "读给我听", "念给我听", "读出来", "念出来", "说给我听",
})
ELDER_OFF_WORDS = frozenset({ELDER_OFF_BUTTON, "关闭长辈模式", "关长辈模式", "不要长辈模式", "普通模式"})
_FILLER = re.compile(r"[\s，。！？!?,.、~～]|^(请|麻烦)?(你)?(帮我|给我)?(把)?|(吧|呀|啊|一下)+$")


def elder_words(text: str) -> bool | None:
    """True when ``text`` asks for 长辈模式, False when it asks to leave it, None otherwise."""
    said = _FILLER.sub("", text or "")
    if said in ELDER_ON_WORDS:
        return True
    if said in ELDER_OFF_WORDS:
        return False
    return None


def welcome(can_hear: bool) -> str:
    """/start: voice notes are offered only when they can be recognised."""
    how = "直接打字、发语音" if can_hear else "直接打字"
    return (
        f"您好！我是幸福里社区服务助手。想办什么事，{how}，或点下面的大按钮。\n"
        f"看不清、想听的话，点“{ELDER_BUTTON}”。发 /help 看能做什么。"
    )


def help_text(can_hear: bool, can_speak: bool, phone: str) -> str:
    """/help: what this bot can do here (voice in and out only where it is installed)."""
    lines = ["我能帮您问社区的证明办理、养老、托育、就业、助残、法律、健康等服务：去哪办、带什么、找谁。"]
    if can_hear:
        lines.append("· 直接打字或发语音提问（语音请在60秒以内）")
    else:
        lines.append(f"· 直接打字提问（这里暂时听不了语音消息；想说话请打社区电话 {phone}）")
    lines.append("· /start 显示大按钮菜单")
    spoken = "，并用语音读给您听" if can_speak else ""
    lines.append(f"· 点“{ELDER_BUTTON}”或发 /elder：按钮更大，回答只说要紧的{spoken}")
    if can_speak:
        lines.append("· /voice 打开或关闭语音回复")
    lines += ["· /cancel 取消正在办的事", "· /myrequests 查看我的办事记录", "· 说“找人工”转给社区工作人员"]
    return "\n".join(lines)


def elder_on(can_speak: bool) -> str:
    spoken = "每条回答也用语音读给您听；" if can_speak else ""
    return (
        "已打开长辈模式：按钮更大，回答先说在哪办、带什么和电话，其余的点按钮看；"
        f"{spoken}想关掉就点“{ELDER_OFF_BUTTON}”。"
    )


ELDER_ALREADY = f"现在已经是长辈模式了。想关掉就点“{ELDER_OFF_BUTTON}”。"
ELDER_OFF = "已关闭长辈模式。"
FONT_TIP = "字还嫌小的话，可以在 Telegram 的设置里把字体调大。"
VOICE_INPUT_HOW = "想说话就按住输入框旁边的话筒，说完松开，发语音消息就行（60秒以内）。"
VOICE_INPUT_NONE = "这里暂时听不了语音消息，请打字告诉我；想说话请打社区电话 {phone}。"
VOICE_ON = "已打开语音回复：每条回答也会用语音读给您听。再发 /voice 可以关闭。"
VOICE_OFF = "已关闭语音回复。"
NO_SPEECH = "这里暂时不能用语音读回答，请看文字。"
SPOKEN_OFFER = "电话等请点按钮。"  # after a short answer's essentials (the kiosk's 20 s limit)
STEP_DONE = "这一步已经完成了"
CANCELLED = "已取消。还有什么可以帮您的吗？"
NO_REQUESTS = (
    "您还没有办事记录（暂无申请）。\n"
    "想办证明或申请服务，直接告诉我，比如“我要开居住证明”，或者点“证明办理”大按钮。"
    "提交以后，发 /myrequests 就能看到办到哪一步了。"
)
REQUESTS_HEADER = "您的办事记录（最新 {n} 件）："
REQUESTS_MORE = "更早的记录请说“找人工”查询。"
REQUESTS_UNAVAILABLE = "暂时查不到您的办事记录，请稍后再发 /myrequests 试试。"
KEPT = "已收到，系统恢复后按顺序回答您。"
FLOOD = "您发得太快了，请慢一点。刚才太快的几条没有处理，请等几秒再发。"
HELD = "您的消息已经转给社区工作人员，请稍等，他们会在这里回复您。"
NOT_UNDERSTOOD = "抱歉，我没太明白。请换个说法，或者说“找人工”。"
HEARD = "我听到的是：{text}"
VOICE_UNAVAILABLE = "抱歉，这里暂时不能识别语音。请打字告诉我您想办什么事，或者发“找人工”。"
VOICE_TOO_LONG = "语音太长了，请在60秒以内说完，或者分几段发。"
VOICE_BAD = "这条语音打不开，没法识别。请重新录一条，或者打字告诉我。"
VOICE_NOT_HEARD = "抱歉，没听清您说的话。请再说一遍，或者打字告诉我。"
VOICE_FAILED = "抱歉，语音识别出了问题。请打字告诉我您想办什么事。"
RATED_LABELS = {"up": "已评价 👍", "down": "已评价 👎"}
RATED_UP = "谢谢您的评价！"
RATED_DOWN = "谢谢您的评价，我们会请工作人员改进这个回答。"
RATED_ALREADY = "您已经评价过这条回答了。"
RATING_FAILED = "评价没有保存成功，请稍后再试。"
BUTTON_EXPIRED = "这个按钮已经失效，请重新提问。"
STAFF_REPLY = "【社区工作人员回复】\n{text}"
STAFF_REPLY_PREFIX = "【社区工作人员回复】"
# A pushed message an earlier run may already have delivered (it stopped before confirming).
RESENT = "（补发）"
# The head of an answer kept while Telegram was down, delivered when it is back.
LATE_ANSWER = "（刚才网络中断，这是您问“{question}”的回答）"
ONLY_TEXT_OR_VOICE = "请发文字或语音消息。"
FAILED = "抱歉，刚才这条消息没有处理好，请再发一次，或者说“找人工”。"

def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` characters, at line boundaries where
    possible (a single over-long line is cut at the limit). Nothing is lost but the newlines
    at the cuts."""
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]


def _local_date(moment: Any) -> str:
    if not isinstance(moment, dt.datetime):
        return ""
    if moment.tzinfo is None:  # SQLite gives naive datetimes; the store writes UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    local = moment.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日"


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (cut with "…")."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_requests(rows: Sequence[dict[str, Any]], *, more: bool = False) -> str:
    """/myrequests: the newest requests, newest first, a few short lines each. Personal data
    that may appear in a title or a staff note is masked."""
    if not rows:
        return NO_REQUESTS
    lines = [REQUESTS_HEADER.format(n=len(rows))]
    for number, row in enumerate(rows, 1):
        status = STATUS_LABELS.get(str(row.get("status")), str(row.get("status") or ""))
        lines.append("")
        lines.append(f"{number}. {clip(mask_text(str(row.get('title') or '')), 20)} —— {status}")
        when = _local_date(row.get("created_at"))
        lines.append(f"编号 {row.get('ref')}" + (f"，{when}提交" if when else ""))
        note = clip(mask_text(str(row.get("staff_note") or "")), 60)
        if note:
            lines.append(f"工作人员说明：{note}")
    if more:
        lines.extend(["", REQUESTS_MORE])
    return "\n".join(lines)


def notification_text(kind: str, text: str, *, resend: bool = False) -> str:
    """What a queued notification says in the chat: staff replies are marked as such, and a
    message that may have reached the chat already is marked "（补发）"."""
    text = (text or "").strip()
    if kind == "staff_reply" and not text.startswith(STAFF_REPLY_PREFIX):
        text = STAFF_REPLY.format(text=text)
    if resend and text:
        text = RESENT + text
    return text


def elder_text(short: ShortAnswer) -> str:
    """长辈模式's text of a service answer: what, where, what to bring, and the phone."""
    phone = next((d.text for d in short.details if d.title == "电话"), "")
    return "\n".join(line for line in (short.essentials, phone) if line)


def spoken_text(short: ShortAnswer) -> str:
    """A service answer for the ear: its essentials, then where the rest is (the kiosk's limit)."""
    return f"{short.essentials}{SPOKEN_OFFER}"
