"""The console's words for what the system records in English: channels, audit actions and
their details, form fields. One place; intents are :mod:`community.intents`' (``INTENT_LABELS``),
form fields the forms file's own ``label`` (``catalogue/forms/requests.yml``), request statuses
and roles their records'. Anything new falls back to its code, never to an empty cell.
"""

from __future__ import annotations

import json
from typing import Any

from community.forms import Forms
from community.intents import label as intent_label
from community.records.accounts import ROLE_LABELS
from community.records.requests import STATUS_LABELS

CHANNEL_LABELS = {
    "web": "网页聊天",
    "webchat": "网页聊天",
    "rest": "网页聊天",
    "telegram": "Telegram",
    "kiosk": "自助终端",
    "phone": "电话",
    "outreach": "电话回访",
    "console": "工作台",
    "unknown": "未知",
}

AUDIT_ACTION_LABELS = {
    "login": "登录",
    "logout": "退出登录",
    "login_failed": "登录失败（密码不对）",
    "login_locked": "登录被锁定（错太多次）",
    "login_address_limited": "这个地址登录失败太多，被拒绝",
    "user_create": "新建账号",
    "user_disable": "停用账号",
    "user_enable": "启用账号",
    "user_password": "重设密码",
    "handoff_take": "接手居民对话",
    "handoff_reply": "回复居民",
    "handoff_release": "交回智能助手",
    "request_view": "查看工单",
    "request_status": "改工单状态",
    "requests_export": "导出工单",
    "review_noise": "标记为“不是问题”",
    "review_assigned": "加入训练数据",
    "review_new_intent": "新建问题",
    "review_group": "把问题并入一组",
    "handoff_close": "批量关闭等待",
    "api_token_issue": "发放接口令牌",
    "api_token_revoke": "收回接口令牌",
    "retrain_start": "开始重新训练",
    "retrain_already_running": "重新训练（已在进行中）",
}

DETAIL_LABELS = {
    "role": "角色",
    "ip": "来自",
    "status": "新状态",
    "note": "附说明",
    "rows": "行数",
    "filters": "筛选条件",
    "chars": "字数",
    "conversation": "对话",
    "ids": "问题编号",
    "intent": "意图",
    "examples": "例句",
    "reason": "原因",
    "username": "账号",
    "name": "名称",
}


def channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel or "unknown", channel or "未知")


def action_label(action: str) -> str:
    return AUDIT_ACTION_LABELS.get(action, action)


def _detail_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role":
        return ROLE_LABELS.get(str(value), str(value))
    if key == "status":
        return STATUS_LABELS.get(str(value), str(value))
    if key == "intent" and value:
        return intent_label(str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "，".join(f"{DETAIL_LABELS.get(k, k)}={v}" for k, v in value.items()) or "无"
    return str(value)


def audit_detail(detail: str | None) -> str:
    """An audit row's JSON detail as words: ``{"role": "staff"}`` → ``角色：工作人员``."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    return "；".join(f"{DETAIL_LABELS.get(k, k)}：{_detail_value(k, v)}" for k, v in data.items())


def field_labels(forms: Forms | None) -> dict[str, str]:
    """Form field name → its label in the forms file (``person_name`` → 姓名)."""
    if forms is None:
        return {}
    return {f.name: f.label for spec in forms.kinds.values() for f in spec.fields}
