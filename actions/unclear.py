"""When NLU can't decide: explain bad input, ask one clarifying question, or admit it honestly
and record the question for staff."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.answers import ActionAnswerEmergency, answer_interface_question
from actions.common import channel_of, entity_values, in_store, intent_ranking, likeliest_intents, send
from actions.handoff import ActionHumanHandoff, hand_over
from actions.review_signals import record_review_signals
from actions.what_i_do import answer_what_i_do
from community.answers import (
    Button,
    Reply,
    asks_about_the_interface,
    clarification,
    domain_fallback,
    domain_menu,
    emergency_kind,
    handoff_button,
    payload,
    service_answer,
    services_answer,
)
from community.catalogue import Catalogue, Service, named_in_full, question_of, without_held
from community.config import PROJECT_ROOT
from community.danger import in_danger_now
from community.db import utcnow
from community.english_reading import ENGLISH_LINES, INTERFACE_WORDS, EnglishAsk, english_ask
from community.intents import META_INTENTS, SERVICE_INTENTS, domain_of
from community.offer_questions import offer_domain, offers_everything
from community.offers_to_help import offers_to_help
from community.records.review_queue import IntentScore
from community.service_similarity import (
    MIN_LEAD,
    STORY_LEAD,
    clear_in_domain,
    closest_service,
    closest_to_question,
    weight_and_lead,
)
from community.staff_hours import after_hours_notice
from community.textnorm import MAX_MESSAGE_CHARS, InputProblem, clean_text, input_problem
from community.two_questions import two_services

log = logging.getLogger(__name__)

# A split between these and another kind of question is always asked about.
ALWAYS_ASK = frozenset({"emergency_help"})
# The two close meanings must together be likely, or the question is simply unknown.
CLARIFY_MIN_COMBINED = 0.5
FAILURES_BEFORE_HANDOFF = 2
# The domain is clear when its intents together are this likely, and likelier than small talk
# or out of scope: then the resident hears which office handles such matters.
DOMAIN_CLEAR = 0.3

CORE_BUTTONS = (
    Button("证明办理", payload("cert_apply", menu="domain")),
    Button("养老服务", payload("elderly_meal", menu="domain")),
    Button("托育服务", payload("childcare_nursery", menu="domain")),
    Button("就业服务", payload("employment_jobs", menu="domain")),
    handoff_button(),
)

PROBLEM_REPLIES = {
    InputProblem.EMPTY: "您好像还没有输入内容。请说说您想办什么事，比如“高龄津贴怎么领”。",
    InputProblem.TOO_LONG: (
        f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），我看不过来。"
        "请用一两句话说说您想办什么事，或点「找人工」。"
    ),
    InputProblem.MARKUP: "您发来的像是网页代码，我看不懂。请用中文说说您想办什么事。",
    InputProblem.EMOJI_ONLY: "收到您的表情了！请用文字或语音说说您想办什么事。",
    InputProblem.NO_CHINESE: (
        "我目前只能看懂中文。请用中文说说您想办什么事。"
        "Sorry, I can only understand Chinese for now."
    ),
}


@functools.lru_cache(maxsize=1)
def ambiguity_margin(config: Path = PROJECT_ROOT / "config.yml") -> float:
    """How close two intents must be to ask which one is meant: the fallback classifier's
    ``ambiguity_threshold`` in config.yml, so NLU and this action use one value."""
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for component in pipeline:
        if str(component.get("name", "")).endswith("FallbackClassifier"):
            return float(component["ambiguity_threshold"])
    raise ValueError(f"{config} has no FallbackClassifier with an ambiguity_threshold")


def clarification_pair(ranking: List[Dict]) -> tuple | None:
    """The two service intents to ask about, if the resident's meaning is split between them."""
    if len(ranking) < 2:
        return None
    first, second = ranking[0], ranking[1]
    if first.get("name") not in SERVICE_INTENTS or second.get("name") not in SERVICE_INTENTS:
        return None
    top, runner_up = float(first.get("confidence", 0)), float(second.get("confidence", 0))
    if top - runner_up < ambiguity_margin() and top + runner_up >= CLARIFY_MIN_COMBINED:
        return first["name"], second["name"]
    return None


def clear_domain(ranking: List[Dict]) -> str | None:
    """The domain the resident's question is about, if the ranking says so clearly."""
    totals: Dict[str, float] = {}
    other = 0.0
    for r in ranking[:6]:
        domain = domain_of(r.get("name"))
        if domain:
            totals[domain] = totals.get(domain, 0.0) + float(r.get("confidence", 0.0))
        elif r.get("name") in META_INTENTS:
            other = max(other, float(r.get("confidence", 0.0)))
    if not totals:
        return None
    best = max(totals, key=totals.get)
    return best if totals[best] >= DOMAIN_CLEAR and totals[best] > other else None


def closest_in_clear_domain(catalogue: Catalogue, text: str, ranking: List[Dict]) -> Service | None:
    """The classifier could not tell which kind of question it is, but the domain is clear and
    the question is clearly closest to one of its services by the words residents use for it
    ("我爸糊涂了 老往外跑 能给配个定位的东西吗": 防走失服务)."""
    domain = clear_domain(ranking)
    if domain is None:
        return None
    intent = next(str(r["name"]) for r in ranking if domain_of(r.get("name")) == domain)
    return closest_to_question(catalogue, text, question_of(text), intent)


def closest_of_pair(catalogue: Catalogue, text: str, pair: tuple) -> Service | None:
    """The classifier is split between two kinds of question, but the words point to one
    service of them ("儿子不给赡养费 找谁说理": 法律援助 or 调解, and 赡养 is family mediation):
    the one service the question is clearly closest to for either, or for both. Never when an
    emergency is one of the two: the resident is asked."""
    if any(intent in ALWAYS_ASK for intent in pair):
        return None
    return _one_closest(catalogue, question_of(text), pair)


def _one_closest(
    catalogue: Catalogue, question: str, intents: Sequence[str], lead: float = MIN_LEAD
) -> Service | None:
    """The one service ``question`` is clearly closest to for any of ``intents``: the one each
    intent that points anywhere points to, or, when they point to different services, the one
    whose words weigh clearly most (:data:`MIN_LEAD` ahead, as within a domain: 社区是不是有个老年学校
    read against volunteering, the community's affairs and training is the 老年学校); or ``None``.
    A story is read with a larger ``lead`` over its domain's next service (:data:`STORY_LEAD`):
    a story has many words that point a little everywhere."""
    closest = {s.id: s for s in (closest_service(catalogue, question, i) for i in intents) if s is not None}
    weighed = [(weight_and_lead(catalogue, question, s), s) for s in closest.values()]
    found = sorted(((weight, s) for (weight, ahead), s in weighed if ahead >= lead), key=lambda p: -p[0])
    if len(found) > 1 and found[0][0] - found[1][0] < MIN_LEAD:
        return None
    return found[0][1] if found else None


# How many of the classifier's likeliest kinds of question an unclear message is read against.
LIKELIEST = 3


def closest_of_likeliest(catalogue: Catalogue, text: str, ranking: List[Dict]) -> Service | None:
    """Neither one kind of question nor one domain is clear, but the words point to one
    service of the likeliest kinds (想立个一祝 房子留给小儿子: legal aid's 遗嘱继承): that service,
    when every one of them that points anywhere points to it; only kinds likelier than out of
    scope are read. Emergencies that need 110/119/120
    are not answered this way (:func:`danger_now` decides those)."""
    intents: List[str] = []
    for r in ranking:
        if r.get("name") == "out_of_scope":
            break  # likelier not ours at all (电视剧几点播 is not the office's hours)
        if r.get("name") in SERVICE_INTENTS:
            intents.append(str(r["name"]))
    question = question_of(text)
    service = _one_closest(catalogue, question, intents[:LIKELIEST])
    if service is None and question != text:  # 这可咋办: the story says what, by far
        service = _one_closest(catalogue, text, intents[:LIKELIEST], lead=STORY_LEAD)
    return None if service is None or service.emergency_line else service


def story_service(catalogue: Catalogue, text: str) -> List[Service]:
    """The one service a story names, when its question names none ("心里憋得慌 老睡不着觉 社区有人
    能陪着说话不": 心理咨询): every name of three characters or more in it, by its characters,
    is that service's. Two services named, or none, and the question stays unclear."""
    if catalogue.asked(text):
        return []
    named = [m.service for m in catalogue.matches(text) if not m.by_sound and m.end - m.start >= 3]
    return named[:1] if named and all(s is named[0] for s in named) else []


def danger_now(text: str, named: List[Service], pair: tuple | None) -> bool:
    """Whether an unclear message is someone in danger now: it names an emergency whose number
    is 110/119/120 (喘不上气, 有人晕倒), or the classifier is split between an emergency and
    something else and the message has a fire, gas, illness, water or trapped word (电动车着伙了 烟好大;
    not 家暴, often said asking about a protection order or a divorce)."""
    if in_danger_now(text) or (named and named[0].domain == "emergency" and named[0].emergency_line):
        return True  # 喊他也不大应声, 跟丢了半个钟头: whatever the classifier made of it
    physical = emergency_kind(text)[0] not in ("general", "violence")
    return pair is not None and "emergency_help" in pair and physical


async def answer_in_english(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], text: str
) -> List[EventType] | None:
    """An English-only message that says what it asks for (:func:`english_ask`) or names a
    service by its English name: answered as its Chinese would be, with one line in English;
    ``None`` when it says nothing the assistant can read."""
    ask = english_ask(text)
    named = named_in_full(runtime.get().catalogue.asked(text)) if ask is None else []
    if ask is EnglishAsk.DANGER:
        events = await ActionAnswerEmergency().run(dispatcher, tracker, domain)
    elif ask is EnglishAsk.PERSON:
        events = await ActionHumanHandoff().run(dispatcher, tracker, domain)
    elif ask is not None:
        events = answer_interface_question(dispatcher, tracker, INTERFACE_WORDS[ask])
    elif named:
        await record_review_signals(tracker, answered=True)
        send(dispatcher, service_answer(named[0]))
        events = [SlotSet("unclear_count", 0.0)]
    else:
        return None
    dispatcher.utter_message(text=ENGLISH_LINES[ask])
    return events


class ActionHandleUnclear(Action):
    def name(self) -> str:
        return "action_handle_unclear"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        problem = input_problem(text)
        readable = problem is None and not text.startswith("/")
        catalogue = runtime.get().catalogue
        if problem is InputProblem.NO_CHINESE:  # Help! My husband hit me: not "only Chinese"
            english = await answer_in_english(dispatcher, tracker, domain, text)
            if english is not None:
                return english
        plain = clean_text(text)
        offered = offer_domain(catalogue, plain) if readable else None
        if offered:  # 社区能给我们老年人干点啥: the domain's menu
            await record_review_signals(tracker, answered=True)
            send(dispatcher, domain_menu(catalogue, "", offered))
            return [SlotSet("unclear_count", 0.0)]
        if readable and asks_about_the_interface(text):  # 字跟蚂蚁似的
            return answer_interface_question(dispatcher, tracker)
        if readable and offers_everything(catalogue, plain):  # 恁能干啥？都能帮俺办啥事
            return await answer_what_i_do(dispatcher, tracker)
        helping = clear_in_domain(catalogue, text, "volunteer") if readable and offers_to_help(text) else None
        if helping is not None:  # 想隔三岔五去陪那些一个人住的老人: to volunteer
            await record_review_signals(tracker, answered=True)
            send(dispatcher, service_answer(helping))
            return [SlotSet("unclear_count", 0.0)]
        named = (named_in_full(catalogue.asked(text)) or story_service(catalogue, text)) if readable else []
        ranking = intent_ranking(tracker)
        pair = clarification_pair(ranking)
        if readable and danger_now(text, named, pair):
            # 喘不上气 named, or a split with an emergency and a fire/illness word: the 119/120
            # line first, never a question back or an information page
            return await ActionAnswerEmergency().run(dispatcher, tracker, domain)
        if named:  # the classifier was unsure, but the question names a service in full
            await record_review_signals(tracker, answered=True)
            send(dispatcher, service_answer(named[0]))
            return []
        both = two_services(catalogue, text, None, likeliest_intents(tracker)) if readable else []
        if both:  # two asks, each clearly about its own service (停水了咋回事？还有公租房)
            await record_review_signals(tracker, answered=True)
            send(dispatcher, services_answer(both[0], both[1]))
            return [SlotSet("unclear_count", 0.0)]
        if readable and pair is not None:
            closest = closest_of_pair(catalogue, without_held(text), pair)
            if closest is not None:
                await record_review_signals(tracker, answered=True)
                send(dispatcher, service_answer(closest))
                return [SlotSet("unclear_count", 0.0)]
        if readable and pair is None:
            asked = without_held(text)  # 有残疾证，想找工作: who the resident is, not what is asked
            closest = closest_in_clear_domain(catalogue, asked, ranking) or closest_of_likeliest(
                catalogue, asked, ranking
            )
            if closest is not None:
                await record_review_signals(tracker, answered=True)
                send(dispatcher, service_answer(closest))
                return [SlotSet("unclear_count", 0.0)]
        await record_review_signals(tracker, answered=False)
        if problem is not None:
            dispatcher.utter_message(
                text=PROBLEM_REPLIES[problem], buttons=[b.as_dict() for b in CORE_BUTTONS]
            )
            if problem is InputProblem.NO_CHINESE:
                await self._record(tracker, text, "no_chinese", ranking)
            return []
        if pair is not None:
            service = entity_values(tracker).get("service")
            entities = {"service": str(service)} if service else {}
            send(dispatcher, clarification(pair[0], pair[1], entities))
            return []
        return await self._admit(dispatcher, tracker, text, ranking)

    async def _record(
        self, tracker: Tracker, text: str, reason: str, ranking: List[Dict], domain: str | None = None
    ) -> None:
        scores = [
            IntentScore(r["name"], float(r.get("confidence", 0.0))) for r in ranking[:3] if r.get("name")
        ]
        try:
            await in_store(
                runtime.get().store.review_queue.record,
                text=text[:MAX_MESSAGE_CHARS],
                channel=channel_of(tracker),
                conversation_id=tracker.sender_id,
                reason=reason,
                top_intents=scores,
                domain=domain,
            )
        except Exception as err:  # noqa: BLE001 - a store that is away never stops an answer
            log.warning("Review queue not reachable (%s); %s not recorded", type(err).__name__, reason)

    async def _admit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, ranking: List[Dict]
    ) -> List[EventType]:
        rt = runtime.get()
        domain = clear_domain(ranking)
        await self._record(tracker, text, "fallback", ranking, domain)
        failures = int(tracker.get_slot("unclear_count") or 0) + 1
        if failures >= FAILURES_BEFORE_HANDOFF:
            await hand_over(tracker, reason="failed_twice", text=text[:MAX_MESSAGE_CHARS])
            later = after_hours_notice(rt.settings.staff_hours, utcnow())
            reply = Reply(
                (
                    "抱歉，我还是没能帮上您。我已请社区工作人员来回复您"
                    + ("。" if later else "，请稍等。"),
                    later or f"着急的话请打 {rt.settings.community_phone}（{rt.settings.staff_hours}）。",
                )
            )
            send(dispatcher, reply)
            return [SlotSet("unclear_count", 0.0)]
        if domain is not None:  # never a bare 答不上来 when we know whose matter it is
            send(dispatcher, domain_fallback(rt.catalogue, domain))
            return [SlotSet("unclear_count", float(failures))]
        reply = Reply(
            (
                "这个问题我暂时答不上来，已经记下并转给社区工作人员。",
                f"您也可以打社区电话 {rt.settings.community_phone}，或点下面的按钮。",
            ),
            CORE_BUTTONS,
        )
        send(dispatcher, reply)
        return [SlotSet("unclear_count", float(failures))]
