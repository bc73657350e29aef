"""Service requests as one Rasa form (``request_form``): apply, book, report (一窗受理、接诉即办).

``validate_request_form`` does all the work of the form: it finds which request the resident
means, fills every detail it can find in each message (any order, several at once,
corrections), re-asks kindly, lets the resident step out for a question and come back, and
shows the summary to confirm. Personal details are sealed in the slots. Nothing is stored until
the resident confirms; ``action_submit_request`` then commits the request before replying.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.answers import answer_if_in_danger
from actions.common import channel_of, likeliest_intents, send
from actions.limits import AttemptLimiter
from community.answers import Button, Reply, not_issued_answer, service_answer, services_answer
from community.catalogue import Service
from community.db import LOCAL_TZ
from community.form_filling import (
    FillResult,
    FormFiller,
    Turn,
    detect_kind,
    looks_like_question,
    wants_to_cancel,
)
from community.forms import CONFIRM_FIELD, KIND_FIELD, FormSpec
from community.intents import SERVICE_INTENTS
from community.privacy import known_personal_values
from community.records.requests import STATUS_LABELS, NewRequest
from community.textnorm import normalize_aligned
from community.two_questions import two_services

log = logging.getLogger(__name__)

FORM = "request_form"
REQUESTED = "requested_slot"
WHO = "request_who"
RETRIES = "form_retries"
RETRIES_BEFORE_HELP = 2  # after two misunderstandings at any step, 找人工 is offered
# Intents that step out of the form (answered by rules, then the form goes on or ends).
LOST_ANSWER = "抱歉，刚才系统出了点问题，您上一句没有记下来。"
INTERRUPTS = {
    "human_handoff", "emergency_help", "repeat", "slower", "interface_help", "check_request", "cancel",
}
# Wrong last-four-digits answers: at most 5 per conversation and per reference in 30 minutes.
VERIFICATIONS = AttemptLimiter(limit=5, window_s=30 * 60)
REF = re.compile(r"SQ\s*-?\s*(\d{8})\s*-?\s*(\d{4})", re.IGNORECASE)


def today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def read_values(tracker: Tracker) -> Dict[str, Any]:
    """The form's answers so far, unsealed."""
    rt = runtime.get()
    names = rt.forms.field_names + [KIND_FIELD, WHO]
    values = {name: rt.sealer.unseal(tracker.get_slot(name)) for name in names}
    personal = rt.forms.personal_fields()
    # Whatever this action logs (a traceback included) shows these values masked.
    known_personal_values(
        (value, value[:1] + "***")
        for name, value in values.items()
        if name in personal and isinstance(value, str)
    )
    return values


def slot_value(name: str, value: Any) -> Any:
    rt = runtime.get()
    if value is not None and name in rt.forms.personal_fields():
        return rt.sealer.seal(str(value))
    return value


def reset_events() -> List[EventType]:
    rt = runtime.get()
    names = rt.forms.field_names + [KIND_FIELD, WHO, CONFIRM_FIELD]
    return [SlotSet(name, None) for name in names] + [SlotSet(RETRIES, 0.0), SlotSet(REQUESTED, None)]


def turn_of(tracker: Tracker, requested: str | None) -> Turn:
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    return Turn(
        text=message.get("text") or "",
        intent=intent.get("name") or "",
        confidence=float(intent.get("confidence") or 0.0),
        entities=tuple(message.get("entities") or ()),
        requested=requested,
    )


def activating_now(tracker: Tracker) -> bool:
    """Whether this run of the form is its activation by the latest message. Rasa runs the
    validation with the form already active, its ``active_loop`` event after the message."""
    if tracker.active_loop_name != FORM:
        return True
    events = list(tracker.events)
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return any(e.get("event") == "active_loop" and e.get("name") == FORM for e in events[latest + 1 :])


def previous_action(tracker: Tracker) -> str | None:
    """The action before this run of the form (``action_listen`` after a resident message)."""
    seen_form = False
    for event in reversed(tracker.events):
        if event.get("event") != "action":
            continue
        name = event.get("name")
        if name == FORM and not seen_form:
            seen_form = True
            continue
        if name == "action_extract_slots":
            continue
        return name
    return None


def lost_answer(tracker: Tracker) -> bool:
    """Whether the resident's previous message went to the form but got no answer at all: the
    form ran (Rasa logged it) and said nothing, which only happens when the action server could
    not be reached. That message was never read."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return False
    between = events[users[-2] + 1 : users[-1]]
    ran_form = any(e.get("event") == "action" and e.get("name") == FORM for e in between)
    return ran_form and not any(e.get("event") == "bot" for e in between)


def is_digression(turn: Turn) -> bool:
    """A question about a service in the middle of a form ("先问一下，助餐多少钱？")."""
    if turn.intent not in SERVICE_INTENTS or turn.confidence < 0.4:
        return False
    if turn.text.startswith("/"):
        return True  # a tapped menu or detail button
    return looks_like_question(turn.text) or "先问" in turn.text


def answered_instead(rt: runtime.Runtime, turn: Turn) -> Service | None:
    """The service a resident names when asking to apply, when none of our request forms is
    for it (幼儿园报名 is done at the 教育局, 防走失手环 is not a 上门服务): its answer says where
    and how to apply. ``None`` when a form applies, or the words or a button choose one."""
    if turn.entity("request_kind") or rt.forms.for_text(normalize_aligned(turn.text)):
        return None
    service = rt.catalogue.get(str(turn.entity("service") or ""))
    if service is None or service.no_longer_issued:
        return None  # a certificate no longer issued is answered by the form's own check
    if turn.intent == "complaint_report" and service.domain != "community":
        return None  # what a report is about (吵得睡不着 is noise, not 心理咨询): a 接诉即办 ticket
    spec = rt.forms.for_intent(service.intent)
    if spec is not None and rt.forms.for_text(" ".join((service.name, *service.aliases))) is spec:
        return None
    return service


def two_asks_instead(rt: runtime.Runtime, turn: Turn, intents: List[str]) -> List[Service]:
    """A report or a request that asks a second, other thing ("楼道灯坏了一个礼拜，另外公租房怎么
    申请", "想给我爸报名老年餐桌，顺便问一下上门理发怎么预约"): both services, each answered
    briefly with its button (the form is a tap or two away), instead of a form for half the
    message."""
    if turn.intent not in ("complaint_report", "request_service"):
        return []
    return two_services(rt.catalogue, turn.text, None, intents)


def kind_buttons(spec_kinds: Dict[str, FormSpec]) -> List[Button]:
    return [
        Button(spec.title.split("（")[0], f'/request_service{{"request_kind":"{kind}"}}')
        for kind, spec in spec_kinds.items()
    ]


class ValidateRequestForm(Action):
    def name(self) -> str:
        return "validate_request_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        filler = FormFiller(rt.forms, rt.catalogue)
        values = read_values(tracker)
        spec = rt.forms.get(values.get(KIND_FIELD))
        requested = tracker.get_slot(REQUESTED)
        activating = activating_now(tracker)
        before = previous_action(tracker)
        retries = int(tracker.get_slot(RETRIES) or 0)

        if not activating and before not in (None, "action_listen"):
            # Back after a question or "repeat": ask again where we were.
            if spec is None:
                return self._ask_kind(dispatcher, rt, retries)
            if before not in ("action_repeat", "action_slower"):
                nxt = filler.missing(spec, values)
                if nxt:
                    send(
                        dispatcher,
                        Reply(
                            (f"我们接着办{spec.title}。", filler.ask(spec, nxt[0], values)),
                            _choice_buttons(nxt[0]),
                        ),
                    )
                else:
                    self._summary(dispatcher, filler, spec, values, prefix="我们接着办。")
            return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, requested)]

        if not activating and spec is not None and lost_answer(tracker):
            # The previous answer reached no action (the action server was down): it was never
            # read, so this message is not taken as that answer; ask the same thing again.
            return self._ask_again(dispatcher, filler, spec, values, requested, retries)

        turn = turn_of(tracker, requested)
        fresh: List[EventType] = []
        if activating:
            values = {name: None for name in values}  # a new request starts empty
            spec = None
            fresh = reset_events()[:-2]
        elif wants_to_cancel(turn):
            title = spec.title if spec else "这件事"
            send(dispatcher, Reply((f"好的，{title}已取消，您说的信息都没有保存。", "还有别的事，随时说。")))
            return reset_events()  # the form ends; action_submit_request finds nothing confirmed
        elif turn.intent in INTERRUPTS and turn.confidence >= 0.5:
            return []  # rules take over: handoff, emergency, repeat, progress check
        if activating and await answer_if_in_danger(dispatcher, tracker, domain) is not None:
            return reset_events()  # danger now told as a report: the number, not a ticket's questions
        if spec is None:
            if activating:
                both = two_asks_instead(rt, turn, likeliest_intents(tracker))
                if both:  # 楼道灯坏了，另外公租房怎么申请: both, the report one tap away
                    send(dispatcher, services_answer(both[0], both[1]))
                    return reset_events()
                service = answered_instead(rt, turn)
                if service is not None:  # 幼儿园报名: the 教育局 enrols, no form of ours applies
                    send(dispatcher, service_answer(service))
                    return reset_events()
            spec = detect_kind(rt.forms, rt.catalogue, turn)
            if spec is None:
                if not activating and is_digression(turn):
                    return []
                return fresh + self._ask_kind(dispatcher, rt, retries + (0 if activating else 1))
            events: List[EventType] = fresh + [SlotSet(KIND_FIELD, spec.kind)]
            values[KIND_FIELD] = spec.kind
            first = True
        else:
            events = []
            first = False
            field_spec = spec.field(requested or "")
            free_text = field_spec is not None and field_spec.type == "text"
            if is_digression(turn) and (free_text or not _has_digits(turn.text)):
                return []

        result = filler.fill(spec, values, turn, today(), first=first)
        if not first and not result.found_anything:
            if is_digression(turn):
                return []
            return events + self._reask(dispatcher, filler, spec, values, requested, retries + 1)
        if result.ended:
            service = rt.catalogue.get(result.ended)
            send(dispatcher, not_issued_answer(service))
            return reset_events()
        return events + self._apply(dispatcher, filler, spec, values, result, requested, first, retries)

    # -- steps ----------------------------------------------------------------------------------
    def _ask_again(
        self,
        dispatcher: CollectingDispatcher,
        filler: FormFiller,
        spec: FormSpec,
        values: Dict[str, Any],
        requested: str | None,
        retries: int,
    ) -> List[EventType]:
        field_spec = spec.field(requested or "")
        if requested == CONFIRM_FIELD or field_spec is None:
            self._summary(dispatcher, filler, spec, values, prefix=LOST_ANSWER)
            return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, CONFIRM_FIELD)]
        send(
            dispatcher,
            Reply((LOST_ANSWER, filler.ask(spec, field_spec, values)), _choice_buttons(field_spec)),
        )
        return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, field_spec.name)]

    def _ask_kind(
        self, dispatcher: CollectingDispatcher, rt: runtime.Runtime, retries: int
    ) -> List[EventType]:
        lines = ("您想办哪一项？点下面的按钮，或者直接说，比如“帮我妈报个助餐”。",)
        if retries >= RETRIES_BEFORE_HELP:
            lines = ("还是没弄明白您要办哪一项。可以点按钮选，或者说“找人工”，也可以说“取消”。",)
        dispatcher.utter_message(text=lines[0], buttons=[b.as_dict() for b in kind_buttons(rt.forms.kinds)])
        return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, KIND_FIELD)]

    def _reask(
        self,
        dispatcher: CollectingDispatcher,
        filler: FormFiller,
        spec: FormSpec,
        values: Dict[str, Any],
        requested: str | None,
        retries: int,
    ) -> List[EventType]:
        if requested == CONFIRM_FIELD or not filler.missing(spec, values):
            if retries >= RETRIES_BEFORE_HELP:
                # Not the whole summary again: a short question, and a person to help.
                send(
                    dispatcher,
                    Reply(
                        ("还是没听明白。都对的话请点“确认提交”；要改哪项直接说，比如“电话改成……”。",
                         "也可以点“找人工”，让工作人员帮您办。"),
                        (Button("确认提交", "/affirm"), Button("找人工", "/human_handoff"),
                         Button("取消办理", "/cancel")),
                    ),
                )
            else:
                self._summary(dispatcher, filler, spec, values, prefix="没听明白。")
            return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, CONFIRM_FIELD)]
        field_spec = spec.field(requested or "") or filler.missing(spec, values)[0]
        question = filler.ask(spec, field_spec, values)
        if retries >= RETRIES_BEFORE_HELP:
            # The answers to tap (the choices, 上午/下午, 不留电话) stay, then a person or stopping.
            reply = Reply(
                ("好像总是没说清楚，没关系。", question, "也可以点“找人工”让工作人员帮您办，或说“取消”。"),
                (*_choice_buttons(field_spec), Button("找人工", "/human_handoff"),
                 Button("取消办理", "/cancel")),
            )
        else:
            reply = Reply(("没听明白，再说一次好吗？", question), _choice_buttons(field_spec))
        send(dispatcher, reply)
        return [SlotSet(RETRIES, float(retries)), SlotSet(REQUESTED, field_spec.name)]

    def _apply(
        self,
        dispatcher: CollectingDispatcher,
        filler: FormFiller,
        spec: FormSpec,
        values: Dict[str, Any],
        result: FillResult,
        requested: str | None,
        first: bool,
        retries: int = 0,
    ) -> List[EventType]:
        events: List[EventType] = [SlotSet(RETRIES, 0.0)]
        for name, value in result.updates.items():
            values[name] = value
            events.append(SlotSet(name, slot_value(name, value)))
        for name in result.cleared:
            values[name] = None
            events.append(SlotSet(name, None))
        if result.who:
            values[WHO] = result.who
            events.append(SlotSet(WHO, result.who))
        said: List[str] = []
        if first:
            said.append(f"好的，帮您办{spec.title}。不想办了随时说“取消”。")
        for name in result.corrected:
            said.append(f"好的，{spec.field(name).label}改为{filler.display(spec, name, values[name])}。")
        if result.problems:
            said.append(result.problems[0])
        if result.confirmed is True and not filler.missing(spec, values):
            events += [SlotSet(CONFIRM_FIELD, True), SlotSet(REQUESTED, None)]
            return events
        if result.confirmed is False:
            send(
                dispatcher,
                Reply(
                    (
                        "请直接说要改哪一项，比如“电话改成13812345678”“地址是3栋2单元502”。",
                        "不想办了就说“取消”。",
                    ),
                    (Button("取消办理", "/cancel"),),
                ),
            )
            return events + [SlotSet(REQUESTED, CONFIRM_FIELD)]
        missing = filler.missing(spec, values)
        requested_spec = spec.field(requested or "")
        if result.cleared:
            nxt = spec.field(result.cleared[0])
        elif result.problems and requested_spec is not None and values.get(requested_spec.name) is None:
            nxt = requested_spec  # ask the same thing again
        else:
            nxt = missing[0] if missing else None
        if nxt is None:
            events.append(SlotSet(CONFIRM_FIELD, None))
            self._summary(dispatcher, filler, spec, values, prefix=" ".join(said))
            return events + [SlotSet(REQUESTED, CONFIRM_FIELD)]
        lines = list(said)
        again = bool(result.problems) and nxt is requested_spec
        if not again:
            lines.append(filler.ask(spec, nxt, values))  # the problem sentence already asks again
        buttons = _choice_buttons(nxt)
        if again:  # the same detail refused again (a phone number that can't be one): count it
            events[0] = SlotSet(RETRIES, float(retries + 1))
            if retries + 1 >= RETRIES_BEFORE_HELP:
                lines.append("也可以点“找人工”让工作人员帮您办，或说“取消”。")
                buttons = (*buttons, Button("找人工", "/human_handoff"), Button("取消办理", "/cancel"))
        send(dispatcher, Reply(tuple(lines[-3:]), buttons))
        return events + [SlotSet(REQUESTED, nxt.name)]

    def _summary(
        self,
        dispatcher: CollectingDispatcher,
        filler: FormFiller,
        spec: FormSpec,
        values: Dict[str, Any],
        prefix: str = "",
    ) -> None:
        head = (prefix + " 请核对：").strip()
        lines = [
            head,
            *filler.summary_lines(spec, values),
            "没问题请说“确认”；要改哪项直接说，比如“电话改成……”。",
        ]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                {"title": "确认提交", "payload": "/affirm"},
                {"title": "取消办理", "payload": "/cancel"},
            ],
        )


def _choice_buttons(field_spec: Any) -> tuple:
    if getattr(field_spec, "type", "") == "choice":
        return tuple(Button(label, label) for label in field_spec.options)
    if getattr(field_spec, "type", "") == "time":
        return (Button("上午", "上午"), Button("下午", "下午"))
    if getattr(field_spec, "type", "") == "phone_optional":
        return (Button("不留电话（匿名）", "匿名"),)
    return ()


def _has_digits(text: str) -> bool:
    return bool(re.search(r"\d{3,}", text))


def form_key(tracker: Tracker) -> str | None:
    """One key per filling of the form: the conversation and the moment the form started.

    Confirming the same form twice (a retry after a crash between the commit and the reply, a
    double tap) gives the same key, and the store returns the request already stored under it.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            seed = f"{tracker.sender_id}\x00{event.get('timestamp')}"
            return "form-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]
    return None


def build_request(tracker: Tracker, spec: FormSpec, values: Dict[str, Any], filler: FormFiller) -> NewRequest:
    active = {f.name for f in spec.active_fields(values)}
    fields = {k: v for k, v in values.items() if v is not None and (k in active or k == WHO)}
    phone = values.get("phone") or values.get("phone_optional")
    return NewRequest(
        kind=spec.kind,
        title=spec.title,
        channel=channel_of(tracker),
        conversation_id=tracker.sender_id,
        fields=fields,
        summary="\n".join(filler.summary_lines(spec, values)),
        contact_name=values.get("person_name") or values.get("guardian_name"),
        phone=None if phone in (None, "匿名") else phone,
        id_number=values.get("id_number"),
        address=values.get("address") or (values.get("location") if spec.kind == "report" else None),
        due_days=spec.due_days,
        client_key=form_key(tracker),
    )


class ActionSubmitRequest(Action):
    """Stores the confirmed request (committed before the reply), or keeps it in the outbox."""

    def name(self) -> str:
        return "action_submit_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        values = read_values(tracker)
        spec = rt.forms.get(values.get(KIND_FIELD))
        if spec is None or tracker.get_slot(CONFIRM_FIELD) is not True:
            return reset_events()  # the form ended without a request (e.g. a certificate not issued here)
        filler = FormFiller(rt.forms, rt.catalogue)
        new = build_request(tracker, spec, values, filler)
        phone = rt.settings.community_phone
        try:
            row = await asyncio.to_thread(rt.store.requests.create, new)
        except Exception as err:
            # Only the first line: the rest of a database error can quote the row's values.
            log.error(
                "Request not stored (%s: %s); keeping it in the outbox",
                type(err).__name__,
                str(err).splitlines()[0][:200] if str(err) else "",
            )
            try:
                await asyncio.to_thread(rt.outbox.put, new)
            except OSError as disk_err:
                log.error("Outbox write failed too: %s", disk_err)
                send(
                    dispatcher,
                    Reply(
                        (
                            "非常抱歉，系统出了故障，您的申请这次没能保存下来。",
                            f"请稍后再试，或直接打社区电话 {phone}。",
                        )
                    ),
                )
                return reset_events()
            send(
                dispatcher,
                Reply(
                    (
                        "系统的数据库暂时连不上，您的申请已经安全保存在本机。",
                        "恢复后会自动正式登记，并把编号发给您，不用重新填。",
                        f"着急的话请打社区电话 {phone}。",
                    )
                ),
            )
            return reset_events()
        ref = row["ref"]
        first = (
            f"您反映的问题已登记（接诉即办），编号 {ref}。"
            if spec.kind == "report"
            else f"已提交！您的{spec.title}编号是 {ref}。"
        )
        send(
            dispatcher,
            Reply(
                (first, f"工作人员会在{spec.due_days}个工作日内联系您。", f"想看进度就说“查询进度 {ref}”。"),
                (Button("查询进度", f"查询进度 {ref}"),),
            ),
        )
        return reset_events()


class ActionCancelRequest(Action):
    def name(self) -> str:
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        spec = rt.forms.get(rt.sealer.unseal(tracker.get_slot(KIND_FIELD)))
        if tracker.active_loop_name == FORM or spec is not None:
            title = spec.title if spec else "这件事"
            send(dispatcher, Reply((f"好的，{title}已取消，您说的信息都没有保存。", "还有别的事，随时说。")))
        else:
            send(dispatcher, Reply(("现在没有正在办的事。想办什么，直接说就行，比如“帮我妈报个助餐”。",)))
        return [ActiveLoop(None)] + reset_events()


class ActionCheckRequest(Action):
    """查询进度: one request by its reference, or the resident's own requests.

    A conversation sees its own requests. A reference from another conversation (a family
    member's phone, a stranger guessing sequential numbers) is answered only with the last four
    digits of the phone number given on the form, and failed tries are limited; until then the
    answer is the same whether the reference exists or not."""

    def name(self) -> str:
        return "action_check_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        text = tracker.latest_message.get("text") or ""
        match = REF.search(text)
        try:
            if match:
                ref = f"SQ-{match.group(1)}-{match.group(2)}"
                row = await asyncio.to_thread(rt.store.requests.get, ref)
                digits = _last_four(text[: match.start()] + " " + text[match.end() :])
                reply = self._one(ref, row, tracker.sender_id, digits)
            else:
                rows = await asyncio.to_thread(
                    rt.store.requests.list, conversation_id=tracker.sender_id, limit=5
                )
                reply = self._mine(rows, rt.outbox and len(rt.outbox) > 0)
        except Exception as err:
            log.warning("Progress check failed: %s", type(err).__name__)
            reply = Reply(
                ("系统暂时查不到进度，请稍后再试。", f"着急的话请打社区电话 {rt.settings.community_phone}。")
            )
        send(dispatcher, reply)
        return []

    @staticmethod
    def _one(ref: str, row: Dict[str, Any] | None, sender: str, digits: str | None = None) -> Reply:
        own = row is not None and row["conversation_id"] == sender
        if not own:
            if not VERIFICATIONS.allowed(sender, ref):
                phone = runtime.get().settings.community_phone
                return Reply((f"核对次数太多了，请过一会儿再试，或打社区电话 {phone} 查询。",))
            if digits is None:
                return Reply(
                    (
                        f"没找到您在这里提交的编号 {ref}。",
                        "如果是家人帮您办的，请连同申请时留的电话后四位一起发，"
                        f"比如“查询进度 {ref} 尾号1234”。",
                    )
                )
            if row is None or not str(row.get("phone") or "").endswith(digits):
                VERIFICATIONS.failed(sender, ref)
                return Reply((f"没找到编号 {ref} 的申请，或电话后四位不对，请核对后再试。",))
        assert row is not None
        lines = [f"{ref}（{row['title']}）：{STATUS_LABELS[row['status']]}。"]
        if row.get("staff_note") and own:
            lines.append(f"工作人员说明：{row['staff_note']}")
        return Reply(tuple(lines))

    @staticmethod
    def _mine(rows: List[Dict[str, Any]], waiting: bool) -> Reply:
        if not rows:
            first = "您还没有通过我提交过申请。" if not waiting else "您的申请还在等系统恢复后登记。"
            return Reply((first, "想办什么直接说，比如“帮我妈报个助餐”“楼道灯坏了”。"))
        items = "；".join(f"{r['ref']} {r['title']}：{STATUS_LABELS[r['status']]}" for r in rows[:3])
        more = f"共{len(rows)}件，最近三件如上。" if len(rows) > 3 else "说“查询进度”加编号可以看详情。"
        # Each request is also a button that shows its status (查询进度 with its reference).
        buttons = tuple(
            Button(f"{r['title']}：{STATUS_LABELS[r['status']]}", f"查询进度 {r['ref']}") for r in rows[:5]
        )
        return Reply(("您的申请：", items, more), buttons)


def _last_four(text: str) -> str | None:
    """The four digits a resident gave to prove a request is theirs ("尾号5678")."""
    found = re.findall(r"(?<!\d)(\d{4})(?!\d)", text)
    return found[-1] if found else None
