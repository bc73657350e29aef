"""What the assistant says: short answers (at most three lines) with buttons for details.

Pure functions from catalogue entries to :class:`Reply`; the Rasa actions, the channels and the
kiosk all render the same replies.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from community.catalogue import Catalogue, Service
from community.danger import PERSON, SHUT_IN_A_LIFT
from community.intents import label

MAX_LINES = 3
MENU_SIZE = 6

ASPECTS: dict[str, str] = {
    "eligibility": "谁可以办",
    "materials": "要带什么",
    "where": "在哪办",
    "hours": "办公时间",
    "fee": "收费",
    "duration": "多久办好",
    "online": "网上能办吗",
    "notes": "注意事项",
}
DETAIL_BUTTONS = ("eligibility", "online", "notes")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Reply:
    lines: tuple[str, ...]
    buttons: tuple[Button, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.lines or len(self.lines) > MAX_LINES:
            raise ValueError(f"a chat reply has 1-{MAX_LINES} lines, got {len(self.lines)}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def payload(intent: str, **entities: str) -> str:
    """A button payload that Rasa parses as ``intent`` with ``entities``, skipping NLU."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def handoff_button() -> Button:
    return Button("找人工", payload("human_handoff"))


def _first_sentence(text: str, limit: int = 60) -> str:
    sentence = re.split(r"(?<=[。！？；])", text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def aspect_value(service: Service, aspect: str) -> str:
    if aspect == "materials":
        return "、".join(service.materials) or "不需要带材料"
    if aspect == "where":
        return service.where
    return str(getattr(service, aspect))


def _detail_buttons(service: Service, exclude: str | None = None) -> tuple[Button, ...]:
    buttons = [
        Button(ASPECTS[a], payload(service.intent, service=service.id, aspect=a))
        for a in DETAIL_BUTTONS
        if a != exclude
    ]
    return (*buttons, handoff_button())


def service_answer(service: Service) -> Reply:
    """The three-line answer for one service: where and when, what to bring, whom to call."""
    if service.no_longer_issued:
        return not_issued_answer(service)
    materials = "、".join(service.materials) if service.materials else "不用带材料"
    return Reply(
        (
            f"【{service.name}】{service.where}，{service.hours}",
            f"带：{materials}；收费：{service.fee}",
            f"电话 {service.phone}，{service.duration}",
        ),
        _detail_buttons(service),
    )


def aspect_answer(service: Service, aspect: str) -> Reply:
    """One detail of a service, e.g. who is eligible or whether it can be done online."""
    if aspect not in ASPECTS:
        return service_answer(service)
    return Reply(
        (f"【{service.name}】{ASPECTS[aspect]}：{aspect_value(service, aspect)}",),
        _detail_buttons(service, exclude=aspect),
    )


def not_issued_answer(service: Service) -> Reply:
    """A certificate the committee no longer issues: say so, and where to go instead."""
    return Reply(
        (
            f"居委会现在不开「{service.name}」了（国家已清理这类证明）。",
            f"请到：{service.go_instead}",
            f"有疑问可打 {service.phone}。",
        ),
        (Button("其他证明", payload("cert_apply")), handoff_button()),
    )


MORE = "更多…"


def menu_order(catalogue: Catalogue, intent: str, domain: str) -> list[Service]:
    """The services a menu offers, most-asked first: an intent's services in catalogue order;
    for a whole domain, each kind of question's first (most-asked) service before any kind's
    second, so the first page reaches every kind (养老: 助餐, 上门服务, 日间照料, 高龄津贴)."""
    if catalogue.for_intent(intent):
        return catalogue.for_intent(intent)
    services = catalogue.for_domain(domain)
    kinds: dict[str, list[Service]] = {}
    for service in services:
        kinds.setdefault(service.intent, []).append(service)
    rounds = max((len(group) for group in kinds.values()), default=0)
    return [group[i] for i in range(rounds) for group in kinds.values() if i < len(group)]


def menu_page(value: object) -> int:
    """The page a menu button asks for: ``{"menu":"domain"}`` is 1, ``{"menu":"domain-3"}`` 3."""
    _, _, number = str(value or "").partition("-")
    return int(number) if number.isdigit() and int(number) > 0 else 1


def domain_menu(catalogue: Catalogue, intent: str, domain: str, page: int = 1) -> Reply:
    """A menu of services, as buttons, when the question names no service: the most-asked
    first (:func:`menu_order`), :data:`MENU_SIZE` a page, and 更多… for the next page, so a
    resident who only taps reaches every service."""
    services = menu_order(catalogue, intent, domain)
    pages = max((len(services) + MENU_SIZE - 1) // MENU_SIZE, 1)
    page = min(max(page, 1), pages)
    shown = services[(page - 1) * MENU_SIZE : page * MENU_SIZE]
    buttons = [Button(s.name, payload(s.intent, service=s.id)) for s in shown]
    if page < pages:  # the next page: by the intent's menu, or the domain's
        scope, first = ("intent", intent) if catalogue.for_intent(intent) else ("domain", services[0].intent)
        buttons.append(Button(MORE, payload(first, menu=f"{scope}-{page + 1}")))
    topic = label(intent) if catalogue.for_intent(intent) else catalogue.title(domain)
    if page == 1:
        question = f"关于「{topic}」，您想问哪一项？请点选："
    else:
        question = f"「{topic}」还有这些（第{page}页，共{pages}页），请点选："
    return Reply((question,), (*buttons, handoff_button()))

def domain_contact(catalogue: Catalogue, domain: str) -> Service | None:
    """The service whose office answers for the domain: the office most of its services are at
    (an emergency number or an office elsewhere does not count)."""
    services = [s for s in catalogue.for_domain(domain) if not s.emergency_line]
    if not services:
        return None
    counts = Counter(s.office for s in services)
    office = counts.most_common(1)[0][0]
    return next(s for s in services if s.office == office)


def domain_menu_buttons(catalogue: Catalogue, intent: str, domain: str) -> tuple[Button, ...]:
    services = menu_order(catalogue, intent, domain)
    return tuple(Button(s.name, payload(s.intent, service=s.id)) for s in services[:MENU_SIZE])


def domain_fallback(catalogue: Catalogue, domain: str, intent: str = "") -> Reply:
    """The domain is clear but no service fits: say who handles such matters and how to reach
    them, and offer the domain's menu (never a bare 答不上来)."""
    contact = domain_contact(catalogue, domain)
    title = catalogue.title(domain)
    lines = [f"「{title}」方面的这个问题我暂时答不上来，已经记下转给社区工作人员。"]
    if contact is not None:
        where = f"{contact.office}（{contact.room}）"
        lines.append(f"这类事可以问{where}，电话 {contact.phone}，{contact.hours}。")
    lines.append("也可以点下面的常见事项看看：")
    return Reply(tuple(lines), (*domain_menu_buttons(catalogue, intent, domain), handoff_button()))


def brief_line(service: Service) -> str:
    """One line about a service, for answering two at once."""
    if service.no_longer_issued:
        return f"「{service.name}」居委会现在不开了，请到：{_first_sentence(service.go_instead, 40)}"
    return f"【{service.name}】{service.where}，电话 {service.phone}"


def services_answer(first: Service, second: Service) -> Reply:
    """Two questions in one message (高龄津贴和助餐怎么办): both, briefly, with a button each."""
    return Reply(
        (brief_line(first), brief_line(second), "点下面的按钮看各自要带什么、怎么办。"),
        (
            Button(first.name, payload(first.intent, service=first.id)),
            Button(second.name, payload(second.intent, service=second.id)),
            handoff_button(),
        ),
    )


INTERFACE_KINDS = ("large", "slow", "voice")
# Words that ask for voice input whatever else is said (not "speak": speak slower is speed).
_VOICE_WORDS = (
    r"(?i)语音|按住|麦克风|话筒|voice|按哪个键说|按哪个键讲|打字(?:太|很|好|比较)?慢|打唔到字|打不了字"
    r"|不会打字|用说的|用讲的"
)
_INTERFACE_WORDS = (  # the first that matches: 说话太快 is about speed, not voice input,
    # but 语音 is voice input however slow typing is (怎么用语音跟你说话，打字太慢)
    ("voice", _VOICE_WORDS + r"|录音|speak"),
    ("slow", r"慢|听不清|听不见|太快|大声|声音|念|读"),
    ("voice", r"说话|讲话|用说|直接说|口述|打字|不会写"),
    ("large", r"字|看不清|看不见|眼|屏幕|放大|大一点|大点|老花"),
)
INTERFACE_REPLIES = {
    "large": (
        "已为您打开大字模式（网页聊天右上角「大字模式」按钮也可以开关）。",
        "手机上也可以用两个手指把屏幕放大；Telegram 里可以在设置里调大字体。",
    ),
    "slow": (
        "好的，我会说慢一点。想再听一遍就说“再说一遍”。",
        "网页聊天里每条回答下面有「慢速朗读」按钮；电话和自助机上按 0 是慢一点。",
    ),
    "voice": (
        "可以直接说话：网页聊天里按住「按住说话」按钮说，说完松开；Telegram 里发语音消息就行。",
        "自助机和电话上直接说，或按数字键：1 证明，2 养老，3 托育，4 就业，# 找人工。",
    ),
}


_VOICE_INPUT = re.compile(_VOICE_WORDS)
# The text on the screen too small, in words that say nothing else (字跟蚂蚁似的, 能弄大点不).
_LARGE_TEXT = re.compile(
    r"字(?:太|好|很|忒|咋这么|这么)?(?:小|细)|字.{0,8}(?:蚂蚁|看不清|看不见|放大|大点|大一点|大些)"
    r"|(?:放大|调大|弄大|变大).{0,2}字|老花眼"
)


def asks_for_voice_input(text: str) -> bool:
    """Whether a message asks how to talk to the assistant by voice in words that say nothing
    else (语音, 按住, 麦克风, voice, 按哪个键说): whatever the classifier thought it was."""
    return bool(_VOICE_INPUT.search(text or ""))


def asks_for_large_text(text: str) -> bool:
    """Whether a message says the text on the screen is too small (:data:`_LARGE_TEXT`):
    whatever the classifier thought it was."""
    return bool(_LARGE_TEXT.search(text or ""))


def asks_about_the_interface(text: str) -> bool:
    """Whether a message asks about voice input or too-small text in words that say nothing
    else, whatever the classifier thought it was."""
    return asks_for_voice_input(text) or asks_for_large_text(text)


def interface_kind(text: str) -> str:
    """What a question about the assistant itself asks for: bigger text, slower speech, voice."""
    for kind, pattern in _INTERFACE_WORDS:
        if re.search(pattern, text or ""):
            return kind
    return "large"


# The channels a resident only hears (the kiosk, the phone line, its check-in calls): two short
# spoken lines with the keys that do it there, nothing about web-chat buttons. Someone who just
# said 听不清 should not have to sit through a long answer.
SPOKEN_CHANNELS = ("kiosk", "phone", "outreach")
SPOKEN_INTERFACE_REPLIES = {
    "large": ("我会把回答念给您听。", "慢一点按零，大声一点按九，再听一遍按星号。"),
    "slow": ("好的，我说慢一点。", "再听一遍按星号，大声一点按九。"),
    "voice": ("直接说就行，说完等我回答。", "也可以按键：证明按一，养老按二，托育按三，就业按四。"),
}


def interface_answer(text: str, channel: str = "") -> tuple[str, Reply]:
    """The answer to a question about the assistant itself, worded for ``channel``."""
    kind = interface_kind(text)
    replies = SPOKEN_INTERFACE_REPLIES if channel in SPOKEN_CHANNELS else INTERFACE_REPLIES
    return kind, Reply(replies[kind], (handoff_button(),))


def clarification(first: str, second: str, entities: dict[str, str] | None = None) -> Reply:
    """Ask which of two close intents the resident meant."""
    entities = entities or {}
    return Reply(
        (f"您是想问「{label(first)}」，还是「{label(second)}」？",),
        (
            Button(label(first), payload(first, **entities)),
            Button(label(second), payload(second, **entities)),
            Button("都不是", payload("deny")),
        ),
    )


# --- emergencies -------------------------------------------------------------------------

_EMERGENCY_KINDS = (
    ("poisoned", "120", r"中毒|农药|老鼠药"),
    ("gas", "119", r"煤气|燃气|天然气|液化气|气味|闻到.{0,4}味"),
    ("fire", "119", r"着火|着伙|起火|失火|火灾|冒烟|浓烟|烟(?:好|很|太|特别)大|烧起来|火苗"),
    ("violence", "110",
     r"家暴|打我|打人|殴打|动手|砍|持刀|拿刀|抢劫|威胁|跟踪|拐走|拐跑|拐卖|被拐|拐孩子|人贩子"),
    ("missing", "110",
     PERSON + r".{0,20}(?:走丢|走失|跟丢|走散|找不到了|找不着了|找唔到|不见了|唔见咗|未返|冇返|都没回|还没回"
     r"|还没见人|没见到人|不见人影)"
     r"|" + PERSON + r".{0,10}(?:没回家|没回来).{0,16}(?:找了|到处找)"),
    ("medical", "120",
     r"晕|昏|摔倒|滑倒|跌倒|跌下来|摔下来|爬不起来|倒地|不省人事|心脏|胸(?:口|坎|前)?.{0,3}(?:痛|疼|闷)|抽搐|出血|流血"
     r"|喘不上|喘不过|喘袂|透不过气|中风|呼吸|不醒"),
    ("water", "110", r"落水|溺水|掉河|掉水"),
    ("trapped", "119", r"被困|困在|关在电梯|困电梯|" + SHUT_IN_A_LIFT),
)
_FIRST_LINES = {
    "poisoned": "请马上拨打 120！先打开门窗通风，把人移到空气好的地方，不要开关电器。",
    "gas": "请马上拨打 119！不要开关电器、不要点火，打开门窗，人先到室外。",
    "fire": "请马上拨打 119！先逃生，用湿毛巾捂住口鼻，弯腰沿安全通道走，不要坐电梯。",
    "violence": "请马上拨打 110！先到安全的地方，锁好门，保护好自己。",
    "missing": "请马上拨打 110！说清走失的人长什么样、穿什么衣服、最后在哪里看到；家里留人等消息。",
    "medical": "请马上拨打 120！不要随意搬动病人，保持呼吸道通畅，等救护车。",
    "water": "请马上拨打 110 和 120！大声呼救，抛绳子或救生圈，不要贸然下水。",
    "trapped": "请马上拨打 119！按电梯里的警铃，不要扒门，保持冷静等待救援。",
    "general": "如有危险，请马上拨打 110（报警）、119（火警）或 120（急救）！",
}


def emergency_kind(text: str) -> tuple[str, str]:
    """The kind of emergency and the number to call first."""
    for kind, number, pattern in _EMERGENCY_KINDS:
        if re.search(pattern, text or ""):
            return kind, number
    return "general", "110"


def emergency_answer(text: str, community_phone: str) -> Reply:
    """First line: call 119/120/110 now. Then: staff have been told."""
    kind, _ = emergency_kind(text)
    return Reply(
        (
            _FIRST_LINES[kind],
            "我已通知社区工作人员，他们会尽快联系您。",
            f"社区值班电话 {community_phone}。",
        ),
        (handoff_button(),),
    )


# --- answers for the ear: the essentials first, the rest on request -------------------------


@dataclass(frozen=True)
class Detail:
    """One part of a service answer left out of its short form, offered on request: ``title``
    names it in the offer (按一听办理时间), ``text`` is the part itself, ``words`` are what a
    resident says to ask for it (电话多少 → 电话)."""

    title: str
    text: str
    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.title or not self.text or not self.words:
            raise ValueError("a detail needs a title, a text and the words that ask for it")


@dataclass(frozen=True)
class ShortAnswer:
    """A service answer for people who cannot take it all in at once (the kiosk's voice, elder
    modes): ``essentials`` says what, where and what to bring; ``details`` are offered."""

    service: Service
    essentials: str
    details: tuple[Detail, ...]


def services_named(buttons: object) -> list[str]:
    """Service ids named in button payloads (``/elderly_allowance{"service":"…","aspect":"…"}``),
    in order, without repeats; ``buttons`` as Rasa sends them (dicts with ``payload``)."""
    found: list[str] = []
    for button in buttons if isinstance(buttons, (list, tuple)) else ():
        text = str(button.get("payload") or "") if isinstance(button, dict) else ""
        _, brace, entities = text.partition("{")
        try:
            values = json.loads(brace + entities) if brace else {}
        except ValueError:
            continue
        service = values.get("service") if isinstance(values, dict) else None
        if isinstance(service, str) and service not in found:
            found.append(service)
    return found


def short_answer_for(catalogue: Catalogue, text: str, buttons: object) -> ShortAnswer | None:
    """The short form of a message that is exactly a service's full answer (the service named in
    its buttons, its text :func:`service_answer`'s); ``None`` for any other message."""
    for service_id in services_named(buttons):
        service = catalogue.get(service_id)
        if service is not None and service_answer(service).text == (text or "").strip():
            return short_answer(service)
    return None


def short_answer(service: Service) -> ShortAnswer | None:
    """The essentials of :func:`service_answer` (what, where, what to bring) and the rest as
    details: 办理时间, 电话, 更多 (who, fee, how long, online, notes). ``None`` for a
    certificate no longer issued: that answer is short already."""
    if service.no_longer_issued:
        return None
    materials = "、".join(service.materials) if service.materials else "不用带材料"
    more = [
        f"谁可以办：{service.eligibility}",
        f"收费：{service.fee}",
        f"多久办好：{service.duration}",
        *([f"网上办理：{service.online}"] if service.online.strip() else []),
        *([f"注意：{service.notes}"] if service.notes.strip() else []),
    ]
    return ShortAnswer(
        service,
        f"{service.name}：到{service.where}。带{materials}。",
        (
            Detail(
                "办理时间", f"办理时间：{service.hours}", ("时间", "几点", "什么时候", "哪天", "上班", "开门")
            ),
            Detail("电话", f"电话：{service.phone}", ("电话", "号码", "打给", "联系")),
            Detail(
                "更多",
                "。".join(part.rstrip("。；;. ") for part in more) + "。",
                ("更多", "其他", "谁", "条件", "资格", "钱", "收费", "费用", "多久", "几天", "多长时间",
                 "网上", "手机上", "线上", "注意"),
            ),
        ),
    )
