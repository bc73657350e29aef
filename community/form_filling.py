"""Filling a request form from what a resident says, one message at a time.

Every message is searched for every detail the form needs, so residents can answer in any order
and give several at once ("我想给我妈报个助餐她82了住3栋2单元501"). A detail given again replaces
the old one (a correction: "地址说错了，是502"). Values that can't be used come back as a problem
sentence for the resident. Nothing here imports Rasa; ``actions/requests.py`` wires it in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from community.catalogue import Catalogue
from community.entities import extract_address, extract_age, parse_date, parse_time
from community.field_types import FIELD_TYPES
from community.forms import CONFIRM_FIELD, FieldSpec, Forms, FormSpec
from community.numerals import NUMERAL_CHARS, parse_number
from community.privacy import mask_id_number
from community.textnorm import normalize_aligned, plain_aligned
from community.validators import bare_name, find_id_number, find_name_after_cue, find_phone

MAX_DAYS_AHEAD = 60
OPEN_HOURS = (8, 18)
WEEKDAYS = "一二三四五六日"

RELATIONS = {
    "母亲": ("我妈", "俺妈", "老妈", "母亲", "我娘", "俺娘", "妈妈"),
    "父亲": ("我爸", "俺爸", "老爸", "父亲", "我爹", "俺爹", "爸爸"),
    "老伴": ("老伴", "老头子", "老太婆", "爱人"),
    "奶奶": ("奶奶",),
    "爷爷": ("爷爷",),
    "外婆": ("外婆", "姥姥"),
    "外公": ("外公", "姥爷"),
    "岳母": ("岳母", "丈母娘"),
    "岳父": ("岳父", "老丈人"),
    "婆婆": ("婆婆",),
    "公公": ("公公",),
    "本人": ("我自己", "本人", "给我报", "我要报"),
}
_CANCEL = re.compile(r"取消|不办了|不要了|不报了|不弄了|不用了|算了|退出|不约了|先不办|不想办")
# A request is stored only on a clear yes: the whole answer is made of these words ("对对对",
# "好的确认提交"), not an answer that merely starts with one ("可以问一下吗", "嗯嗯啊").
_AFFIRM_WORD = r"(?:确认提交|确认|提交|对的|对了|对|没错儿?|没问题|是的|是|可以|好的|好|行|正确|就这样|确定)"
_AFFIRM = re.compile(rf"^(?:{_AFFIRM_WORD}[，,。！!\s]*)+[吧啊呀啦哈的]?$")
_QUESTION = re.compile(r"[吗？?]|怎么|什么|为什么|哪|多少")
_HESITATION = re.compile(r"[嗯啊哦噢呃额唔]+")
_DENY = re.compile(r"不对|不是|错了|有误|要改|修改|改一下")
_CORRECTION = re.compile(r"说错了|错了|改成|改为|改一下|更正|重新说|不对|写错|记错")
_QUESTION = re.compile(
    r"[？?]|吗|多少|怎么|哪里|哪儿|几点|什么时候|能不能|可不可以|是不是|有没有|先问|请问|咨询"
)
_NOTHING = re.compile(r"^(?:没有|没|无|不用|都行|都可以|随便|没啥|没什么)")
# Where the new value starts in a correction: "饮食要求改成没有" → "没有".
_NEW_VALUE = re.compile(
    r"(?:改成|改为|换成|写成|更正为|应该是|说错了[，,。 ]*是?|不对[，,。 ]*是?)[:：，,。 ]*"
)
_CHILD_AGE = re.compile(
    r"(?P<n>[0-9一二两三四五六七八九十]+)\s*(?P<u>岁半?|个月|周岁)|(?P<g>[一二三四五六1-6初高][一二三1-3]?)\s*年级|(?P<k>小班|中班|大班)"
)
_NUMBER_RUN = re.compile(f"[{NUMERAL_CHARS}]+")
_ROOM_ONLY = re.compile(r"(?<![0-9])(?P<n>\d{3,4})(?![0-9])")
_RURAL_ADDRESS = re.compile(r"[号栋楼村组巷路街院区]")
# A name given in a sentence: "我是他爸爸王强", "孩子他妈 刘芳", "我是王强".
_KIN_WORDS = "爸爸|妈妈|爸|妈|父亲|母亲|爷爷|奶奶|姥姥|姥爷|外婆|外公|家长|监护人|爹|娘|姑姑|舅舅|阿姨"
_NAME_AFTER_KIN = re.compile(
    rf"(?:{_KIN_WORDS})[，,、。:：\s]*(?:叫|是|名叫|姓名是?)?\s*(?P<n>[\u4e00-\u9fa5·]{{2,5}}?)[。！!吧啊呀]*$"
)
_SELF_INTRO = re.compile(r"^(?:我|俺)(?:就)?是")
_NOT_IN_NAMES = set("爸妈爷奶姥孩娃他她我你俺爹娘")


@dataclass(frozen=True)
class Turn:
    """One resident message as the NLU saw it."""

    text: str
    intent: str = ""
    confidence: float = 0.0
    entities: tuple[dict, ...] = ()
    requested: str | None = None

    def entity(self, name: str) -> Any:
        return next((e.get("value") for e in self.entities if e.get("entity") == name), None)


@dataclass
class FillResult:
    kind: str | None = None
    updates: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    confirmed: bool | None = None
    who: str | None = None
    ended: str | None = None  # a reason to end the form without a request (a message)

    @property
    def found_anything(self) -> bool:
        return bool(
            self.kind
            or self.updates
            or self.problems
            or self.cleared
            or self.who
            or self.confirmed is not None
            or self.ended
        )


def wants_to_cancel(turn: Turn) -> bool:
    if turn.intent == "cancel" and turn.confidence >= 0.5:
        return True
    text = turn.text.strip()
    return len(text) <= 12 and bool(_CANCEL.search(text))


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def detect_kind(forms: Forms, catalogue: Catalogue, turn: Turn) -> FormSpec | None:
    """Which request the resident means: a button's request_kind, the words, the service."""
    explicit = forms.get(str(turn.entity("request_kind") or ""))
    if explicit:
        return explicit
    norm = normalize_aligned(turn.text)
    by_words = forms.for_text(norm)
    if by_words:
        return by_words
    service = catalogue.find(str(turn.entity("service") or "")) or catalogue.find(norm)
    if service:
        spec = forms.for_intent(service.intent)
        if spec:
            return spec
    return forms.for_intent(turn.intent)


def detect_who(turn: Turn) -> str | None:
    relation = turn.entity("relation")
    if isinstance(relation, str) and relation in RELATIONS:
        return relation
    for name, words in RELATIONS.items():
        if any(w in turn.text for w in words):
            return name
    return None


def who_phrase(who: str | None, spec: FormSpec) -> str:
    if who and who != "本人":
        return f"您{who}"
    if who == "本人":
        return "您"
    return spec.summary_who or "您"


def _new_value(text: str) -> str:
    """The value a resident gave, without the correction around it: "饮食要求改成没有" → "没有"."""
    if not _CORRECTION.search(text):
        return text
    ends = [m.end() for m in _NEW_VALUE.finditer(text)]
    rest = text[ends[-1] :] if ends else ""
    return rest if rest.strip() else text


class FormFiller:
    def __init__(self, forms: Forms, catalogue: Catalogue):
        self.forms = forms
        self.catalogue = catalogue

    # -- one message ----------------------------------------------------------------------------
    def fill(
        self, spec: FormSpec, values: dict[str, Any], turn: Turn, today: dt.date, *, first: bool = False
    ) -> FillResult:
        result = FillResult()
        norm = plain_aligned(turn.text)  # details are kept as the resident wrote them
        who = detect_who(turn)
        if who and who != values.get("request_who"):
            result.who = who
        target = self._correction_target(spec, values, norm)
        if target is not None:  # "年龄改成八十三": read the value as if that detail was asked
            turn = Turn(turn.text, turn.intent, turn.confidence, turn.entities, target.name)
        found = self._extract(spec, values, turn, norm, today, result)
        for name, value in found.items():
            if values.get(name) is not None and values.get(name) != value:
                result.corrected.append(name)
            result.updates[name] = value
        if target is not None and target.name not in found:
            result.problems.clear()
            result.cleared.append(target.name)
        if first and spec.kind == "report" and "description" not in result.updates:
            described = _report_description(norm)
            if described:
                result.updates["description"] = described
        if turn.requested == CONFIRM_FIELD and not (result.updates or result.cleared or result.problems):
            result.confirmed = self._confirmation(turn, norm)
        return result

    def _correction_target(self, spec: FormSpec, values: dict[str, Any], norm: str) -> FieldSpec | None:
        if not _CORRECTION.search(norm):
            return None
        for f in spec.active_fields(values):
            words = FIELD_TYPES[f.type].label_words + (f.label,)
            if values.get(f.name) is not None and any(w in norm for w in words):
                return f
        return None

    def _confirmation(self, turn: Turn, norm: str) -> bool | None:
        """True on a clear yes, False on a no, None otherwise (the summary is asked again)."""
        text = norm.strip().strip("。！!，, ")
        if _DENY.search(text) or turn.intent == "deny":
            return False
        if turn.text.startswith("/"):  # a tapped button: 确认提交 is /affirm
            return True if turn.intent == "affirm" else None
        if _QUESTION.search(text) or _HESITATION.fullmatch(text):
            return None
        if _AFFIRM.match(text):
            return True
        if turn.intent == "affirm" and turn.confidence >= 0.8 and len(text) <= 6:
            return True
        return None

    def _extract(
        self,
        spec: FormSpec,
        values: dict[str, Any],
        turn: Turn,
        norm: str,
        today: dt.date,
        result: FillResult,
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        requested = spec.field(turn.requested or "")
        merged = {**values}
        for f in spec.fields:
            is_requested = requested is not None and f.name == requested.name
            value, problem = self._field_value(spec, f, merged, turn, norm, today, is_requested)
            if f.type == "name" and value is not None and value in {
                found.get(x.name) for x in spec.fields if x.type == "name"
            }:
                value = None  # one name said once fills one field ("他叫李建国": the child only)
            if problem and (is_requested or f.type in ("phone", "id_number", "date")):
                result.problems.append(problem)
            if value is not None:
                found[f.name] = value
                merged[f.name] = value
            if f.type == "certificate" and value is not None:
                service = self.catalogue.get(value)
                if service is not None and service.no_longer_issued:
                    result.ended = service.id
        return {k: v for k, v in found.items() if spec.field(k) and spec.field(k).applies(merged)}

    def _field_value(
        self,
        spec: FormSpec,
        f: FieldSpec,
        values: dict[str, Any],
        turn: Turn,
        norm: str,
        today: dt.date,
        requested: bool,
    ) -> tuple[Any, str | None]:
        reading = Reading(self, spec, f, values, turn, norm, today, requested)
        return PARSERS[f.type](reading)

    def _name(
        self, spec: FormSpec, f: FieldSpec, values: dict[str, Any], norm: str, requested: bool
    ) -> str | None:
        names = [x.name for x in spec.fields if x.type == "name"]
        speaker = parent_naming_themselves(norm) if "guardian_name" in names else None
        if speaker:  # "我是他爸爸王强" asked for the child's name: the parent's, not the child's
            return speaker if f.name == "guardian_name" else None
        cue = find_name_after_cue(norm)
        if cue:
            name, position = cue
            before = norm[max(0, position - 3) : position]
            if any(w in before for w in ("孩子", "儿子", "女儿", "娃", "闺女", "小孩")):
                target = "child_name"
            elif before.endswith("我") and "guardian_name" in names:
                target = "guardian_name"
            elif before.endswith("我") and "person_name" in names:
                target = "person_name"
            elif requested and f.type == "name":
                target = f.name
            else:
                target = next((n for n in names if values.get(n) is None), f.name)
            return name if target == f.name else None
        if requested:
            return name_in_sentence(norm)
        return None

    # -- what the resident reads ----------------------------------------------------------------
    def display(self, spec: FormSpec, name: str, value: Any) -> str:
        f = spec.field(name)
        if f is None or value is None:
            return ""
        if f.type == "certificate":
            service = self.catalogue.get(value)
            return service.name if service else str(value)
        if f.type == "date":
            return format_date(value)
        if f.type == "age":
            return f"{value}岁"
        if f.type == "id_number":
            return mask_id_number(str(value))
        if f.type == "phone_optional" and value == "匿名":
            return "不留（匿名反映）"
        return str(value)

    def summary_lines(self, spec: FormSpec, values: dict[str, Any]) -> list[str]:
        lines = [f"事项：{spec.title}"]
        who = values.get("request_who")
        for f in spec.active_fields(values):
            shown = self.display(spec, f.name, values.get(f.name))
            if not shown:
                continue
            if f.name == "person_name" and who and who != "本人":
                shown += f"（{who}）"
            lines.append(f"{f.label}：{shown}")
        return lines

    def missing(self, spec: FormSpec, values: dict[str, Any]) -> list[FieldSpec]:
        return [f for f in spec.active_fields(values) if values.get(f.name) is None]

    def ask(self, spec: FormSpec, f: FieldSpec, values: dict[str, Any]) -> str:
        return f.ask.replace("{who}", who_phrase(values.get("request_who"), spec))


def parent_naming_themselves(norm: str) -> str | None:
    """The name of a parent (or grandparent, guardian) who says who they are: "我是他爸爸王强",
    "我是孩子妈妈刘芳" → the name; "王强", "他叫李建国" → None."""
    text = norm.strip()
    kin = _NAME_AFTER_KIN.search(text) if _SELF_INTRO.match(text) else None
    return _a_name(kin.group("n")) if kin else None


def name_in_sentence(norm: str) -> str | None:
    """The name in an answer to "请说姓名": the whole answer ("王秀英"), or the name in a sentence
    ("我是他爸爸王强" → 王强, "孩子他妈 刘芳" → 刘芳, "我是王强" → 王强)."""
    text = norm.strip()
    kin = _NAME_AFTER_KIN.search(text)
    candidates = [kin.group("n")] if kin else []
    candidates += [text, _SELF_INTRO.sub("", text)]
    return next((name for name in map(_a_name, candidates) if name), None)


def _a_name(candidate: str) -> str | None:
    """``candidate`` as a person's name, or ``None`` when it is not one (他爸, 我妈)."""
    name = bare_name(candidate)
    return name if name and not (_NOT_IN_NAMES & set(name)) else None


def format_date(value: str) -> str:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def _age(norm: str, requested: bool) -> tuple[int | None, str | None]:
    found = extract_age(norm)
    if found:
        return int(found[0].value), None
    if requested:
        runs = _NUMBER_RUN.findall(norm)
        number = parse_number(runs[-1]) if runs else None
        if number is not None and 0 < number <= 120:
            return number, None
        if number is not None:
            return None, "这个年龄好像不对，请再说一遍，比如“82岁”。"
        return None, "请说一下年龄，比如“82岁”或“八十二”。"
    return None, None


def _child_age(norm: str, requested: bool) -> tuple[str | None, str | None]:
    match = _CHILD_AGE.search(norm)
    if match:
        if match.group("k"):
            return match.group("k"), None
        if match.group("g"):
            return f"{match.group('g')}年级", None
        number = parse_number(match.group("n"))
        if number is not None and (match.group("u") == "个月" or number <= 16):
            return f"{number}{match.group('u')}", None
        return None, "这个年龄好像不对，托育托管是给16岁以下的孩子，请再说一遍。"
    if requested:
        runs = _NUMBER_RUN.findall(norm)
        number = parse_number(runs[-1]) if runs else None
        if number is not None and 0 < number <= 16:
            return f"{number}岁", None
        return None, "请说孩子的年龄或年级，比如“8岁”或“三年级”。"
    return None, None


def _address(norm: str, current: Any, requested: bool) -> tuple[str | None, str | None]:
    parts = {e.entity: e.value for e in extract_address(norm)}
    if "building" in parts:
        text = f"{parts['building']}栋"
        if "unit" in parts:
            text += f"{parts['unit']}单元"
        if "room" in parts:
            text += str(parts["room"])
        if "room" not in parts and requested:
            return text, None  # a house without rooms (平房/自建房): the building is the address
        return text, None
    mentions_address = any(w in norm for w in FIELD_TYPES["address"].label_words)
    room = _ROOM_ONLY.search(norm)
    if room and isinstance(current, str) and "栋" in current and (requested or mentions_address):
        base = re.sub(r"\d{3,4}$", "", current)
        return f"{base}{room.group('n')}", None
    if requested:
        text = re.sub(r"^(?:住在|住|在|地址是|家在)", "", norm.strip()).strip("。！!，, ")
        if _RURAL_ADDRESS.search(text) and 3 <= len(text) <= 40 and not looks_like_question(text):
            return text, None
        return None, "请说楼栋、单元和门牌，比如“3栋2单元501”；平房请说村组和门牌号。"
    return None, None


def _date(norm: str, today: dt.date, requested: bool) -> tuple[str | None, str | None]:
    found = parse_date(norm, today)
    if found is None:
        if requested:
            if re.search(r"昨天|前天|上周|上个?星期", norm):
                return None, "那天已经过去了，请说今天以后的日子。"
            return None, "没听清哪一天，请说“明天”“下周三”或“3月5号”这样的日子。"
        return None, None
    day = found[0]
    if day < today:
        return None, "那天已经过去了，请说今天以后的日子。"
    if day > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        return None, f"只能约{MAX_DAYS_AHEAD}天以内的日子，请换一天。"
    return day.isoformat(), None


def _time(norm: str, requested: bool) -> tuple[str | None, str | None]:
    found = parse_time(norm)
    if found is None:
        return None, ("请说上午还是下午，或者具体几点。" if requested else None)
    value = found[0]
    if ":" in value:
        hour = int(value.split(":")[0])
        if not OPEN_HOURS[0] <= hour < OPEN_HOURS[1]:
            return None, f"社区服务时间是早上{OPEN_HOURS[0]}点到下午{OPEN_HOURS[1] - 12}点，请换个时间。"
    return value, None


def _choice(f: FieldSpec, norm: str, requested: bool) -> tuple[str | None, str | None]:
    for label, words in f.options.items():
        if label in norm or any(w in norm for w in words):
            return label, None
    if requested:
        return None, f"请从这几项里选一个：{'、'.join(f.options)}。"
    return None, None


def _report_description(norm: str) -> str | None:
    """The resident's first message, when it already says what is wrong ("楼道灯坏了三天了")."""
    text = norm.strip()
    generic = re.fullmatch(
        r"(?:我)?(?:要|想)?(?:投诉|反映|举报|报修)(?:一下|个)?(?:问题|情况)?[。！!]?", text
    )
    if generic or len(text) < 6:
        return None
    return text[:200]


@dataclass(frozen=True)
class Reading:
    """One field read from one message: what a parser gets."""

    filler: FormFiller
    spec: FormSpec
    field: FieldSpec
    values: dict[str, Any]
    turn: Turn
    norm: str
    today: dt.date
    requested: bool  # the assistant asked for this field


Parsed = tuple[Any, "str | None"]  # the value (None: not found) and a problem to tell the resident


def _read_name(r: Reading) -> Parsed:
    return r.filler._name(r.spec, r.field, r.values, r.norm, r.requested), None


_ANONYMOUS = re.compile(r"匿名|不留|不方便|不想留|不用留|算了")


def _read_phone(r: Reading) -> Parsed:
    if r.field.type == "phone_optional" and r.requested and _ANONYMOUS.search(r.norm):
        return "匿名", None
    found = find_phone(r.norm)
    if found is None:
        return None, ("请说一个能打通的电话号码，手机是1开头的11位数字。" if r.requested else None)
    return found.value, found.problem


def _read_id_number(r: Reading) -> Parsed:
    found = find_id_number(r.norm)
    if found is None:
        return None, ("请说18位的身份证号，最后一位可能是X。" if r.requested else None)
    return found.value, found.problem


def _read_certificate(r: Reading) -> Parsed:
    catalogue = r.filler.catalogue
    service = catalogue.find(str(r.turn.entity("service") or ""), domain="cert") or catalogue.find(
        r.norm, domain="cert"
    )
    if service is None:
        return None, ("没听出是哪种证明，请说证明的名称，比如“居住证明”。" if r.requested else None)
    return service.id, None


def _read_text(r: Reading) -> Parsed:
    if not r.requested:
        return None, None  # free text is only taken when it was asked for
    text = _new_value(r.norm).strip()
    if _NOTHING.match(text) and len(text) <= 6:
        return "无", None
    if len(text.replace(" ", "")) < 2:
        return None, "请多说几个字，说清楚一点。"
    return text[:200], None


# One parser per field type of the registry (community/field_types.py).
PARSERS: dict[str, Callable[[Reading], Parsed]] = {
    "name": _read_name,
    "age": lambda r: _age(r.norm, r.requested),
    "child_age": lambda r: _child_age(r.norm, r.requested),
    "address": lambda r: _address(r.norm, r.values.get(r.field.name), r.requested),
    "phone": _read_phone,
    "phone_optional": _read_phone,
    "id_number": _read_id_number,
    "date": lambda r: _date(r.norm, r.today, r.requested),
    "time": lambda r: _time(r.norm, r.requested),
    "choice": lambda r: _choice(r.field, r.norm, r.requested),
    "certificate": _read_certificate,
    "text": _read_text,
}
