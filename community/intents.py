"""Intent names, their domains and how residents see them (clarification buttons, reports)."""

from __future__ import annotations

from community.catalogue import DOMAIN_INTENTS

META_INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "human_handoff", "bot_challenge",
    "out_of_scope", "repeat", "slower",
)
FALLBACK_INTENT = "nlu_fallback"

INTENT_LABELS: dict[str, str] = {
    "cert_apply": "开证明",
    "elderly_meal": "老年助餐",
    "elderly_homecare": "上门养老服务（助浴助洁助医）",
    "elderly_daycare": "日间照料、养老驿站",
    "elderly_allowance": "高龄津贴、养老补贴",
    "childcare_nursery": "托育（0-3岁）",
    "childcare_afterschool": "课后托管、假期看护",
    "employment_unemployment": "失业登记、失业金",
    "employment_training": "技能培训",
    "employment_jobs": "找工作、招聘",
    "disability_support": "助残服务、残疾证",
    "legal_aid": "法律援助、法律咨询",
    "legal_mediation": "调解纠纷",
    "health_family_doctor": "家庭医生",
    "health_checkup": "体检、疫苗",
    "emergency_help": "紧急求助",
    "complaint_report": "反映问题（接诉即办）",
    "community_assistance": "低保、困难救助",
    "community_affairs": "社区事务",
    "volunteer_signup": "志愿服务",
    "human_handoff": "找工作人员",
    "out_of_scope": "其他问题",
    # requests and conversation moves: shown to staff (console) as well as in buttons
    "request_service": "申请办理（填表）",
    "check_request": "查询办理进度",
    "cancel": "取消申请",
    "bot_challenge": "问是不是机器人",
    "greet": "打招呼",
    "goodbye": "告别",
    "thank": "道谢",
    "affirm": "回答“是”",
    "deny": "回答“不是”",
    "repeat": "请再说一遍",
    "slower": "请说慢一点",
    "interface_help": "问怎么用（字大、语音）",
    FALLBACK_INTENT: "没听懂",
}

_INTENT_DOMAIN = {intent: domain for domain, names in DOMAIN_INTENTS.items() for intent in names}
SERVICE_INTENTS = tuple(_INTENT_DOMAIN)


def domain_of(intent: str | None) -> str | None:
    """The catalogue domain that answers ``intent`` (None for meta intents)."""
    return _INTENT_DOMAIN.get(intent or "")


def report_domain(intent: str | None) -> str:
    """The domain an intent is reported under: its name's prefix (``cert_apply`` → ``cert``)."""
    if not intent or intent in META_INTENTS or intent == FALLBACK_INTENT:
        return "meta" if intent in META_INTENTS else "fallback"
    return intent.split("_", 1)[0]


def label(intent: str) -> str:
    return INTENT_LABELS.get(intent, intent)
