"""A resident talking to the real stack through Rasa's REST channel, as the end-to-end tests do."""

from __future__ import annotations

import json
import time
import urllib.error

from tools.stack import post_json


def say(stack, text: str, sender: str = "resident-e2e", timeout: float = 60) -> list[dict]:
    """What the resident reads: the answers, or the channel's message refusing the input."""
    try:
        messages, _ = post_json(
            f"{stack.rasa}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=timeout
        )
    except urllib.error.HTTPError as refused:
        return [{"text": json.loads(refused.read())["message"], "status": refused.code}]
    return messages


def texts(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def until(condition, timeout: float, step: float = 0.5):
    """``condition()``'s first true value, or its last value when ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def meal_form_to_summary(stack, sender: str) -> str:
    """A 助餐 request for the resident's mother, filled up to the summary she is asked to check."""
    for text in ("我想给我妈报个助餐她82了住3栋2单元501", "王秀英", "13812345678", "不吃辣", "送餐上门"):
        reply = texts(say(stack, text, sender))
    assert "请核对" in reply
    return reply
