"""Each domain's questions are answered from the service catalogue."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.common import channel_of, entity_values, likeliest_intents, send
from actions.handoff import hand_over
from actions.review_signals import record_review_signals
from community.answers import (
    Button,
    Reply,
    asks_for_voice_input,
    aspect_answer,
    brief_line,
    domain_contact,
    domain_menu,
    emergency_answer,
    emergency_kind,
    interface_answer,
    menu_page,
    payload,
    service_answer,
    services_answer,
)
from community.catalogue import (
    Catalogue,
    Match,
    Service,
    holding_name,
    named_in_full,
    question_of,
    without_held,
)
from community.danger import in_danger_now, told_as_past, without_worries
from community.disabled import own_of_named, with_their_own
from community.intents import domain_of
from community.offer_questions import offer_domain
from community.offers_to_help import offers_to_help
from community.service_similarity import (
    clear_in_domain,
    closest_to_question,
    held_elsewhere,
    is_place,
    more_specific,
)
from community.textnorm import clean_text
from community.two_questions import two_services


def resolve_service(
    catalogue: Catalogue, entity: str | None, text: str, domain: str
) -> Service | None:
    """The service the resident means: a button's id, a named service, or an alias in the text."""
    if entity:
        service = catalogue.get(str(entity)) or catalogue.find(str(entity), domain)
        if service:
            return service
    return catalogue.find(text, domain) or (catalogue.find(str(entity)) if entity else None)


# A message this long with no service in its question is a story: don't answer a service
# named only in the story.
SHORT_MESSAGE = 30


def resolve_services(
    catalogue: Catalogue, entity: str | None, text: str, domain: str, intent: str = ""
) -> list[Service]:
    """The services the resident asks about, this domain's first: one, or two when two
    services are named at once. A button's service id decides by itself. When the question
    names no service, the intent's service it is clearly closest to (轮椅 → 辅助器具适配).
    (Two asks whose second names no service: :func:`community.two_questions.two_services`.)"""
    if text.startswith("/"):
        service = resolve_service(catalogue, entity, text, domain)
        return [service] if service else []
    matches = catalogue.asked(text)
    there = [m for m in matches if not is_place(catalogue, clean_text(m.alias).lower(), m.service.domain)]
    matches = there or matches  # 温馨家园能做康复训练吗: 康复训练 is asked, 温馨家园 is where
    asked = [m.service for m in matches]
    mine = [s for s in asked if s.domain == domain]
    if mine:
        others = [s for s in asked if s is not mine[0]]
        # the one named, or the sibling the rest of the question points to (在助餐点吃饭有补贴吗:
        # 助餐点补贴, also when 低保 is named beside it)
        match = next(m for m in matches if m.service is mine[0])
        # ... or another domain's service whose name holds the name said (优待证 of a veteran)
        first = held_elsewhere(catalogue, match, text)
        if match.by_sound:  # read the question with the name as it sounds (灵活就叶: 灵活就业)
            text = text[: match.start] + match.alias + text[match.end :]
            match = Match(match.service, match.start, match.start + len(match.alias), match.alias)
        if first is match.service:
            first = more_specific(catalogue, match, question_of(text), text)
        return [first, *[s for s in others if s is not first][:1]]
    named = named_in_full(matches)
    if named:  # another domain's service named in full (老年活动室)
        # ... unless this domain has a service of that name too (残疾人托养和日间照料 when a
        # disability question names the elderly's 日间照料)
        return [own_of(catalogue, matches, domain) or named[0]]
    # A short alias of another domain (漏水) doesn't decide; nor does a story's first service.
    short = not asked and len(text) <= SHORT_MESSAGE
    service = resolve_service(catalogue, entity, text, domain) if short else None
    question = question_of(text)
    if service is not None and not entity:
        service = _sibling_asked(catalogue, service, text, question)
    # A story whose question says only what kind of help ("社区能帮着调解吗"): the story says
    # which service of that kind (兄妹 and their parents' house: a family matter).
    service = service or closest_to_question(catalogue, text, question, intent)
    return [service] if service else []


def _sibling_asked(catalogue: Catalogue, service: Service, text: str, question: str) -> Service:
    """The service found by a name anywhere in a short message, or the sibling the question
    points to (门诊开药也能报: 开药 found, 报 of 门诊慢特病 asked)."""
    match = next((m for m in catalogue.matches(text) if m.service is service and not m.by_sound), None)
    return more_specific(catalogue, match, question) if match else service


def own_of(catalogue: Catalogue, matches: list[Match], domain: str) -> Service | None:
    """This domain's one service whose name or an alias holds the name another domain's
    service was named by (or sounds like it: 日间找料 of 残疾人日间照料), when there is exactly one."""
    for match in matches:
        holding = holding_name(clean_text(match.alias).lower(), catalogue.for_domain(domain))
        if len(holding) == 1:
            return holding[0]
    return None


def runner_up_service(catalogue: Catalogue, text: str, intent: str, likeliest: List[str]) -> List[Service]:
    """The service of another domain the question is clearly closest to, for one of the
    classifier's runner-up intents (精神分裂的哥哥白天没人管, classed as the elderly's day care:
    the disabled's 托养), when the classified intent's domain has none; as in the domain's own
    answers, a question that says only "help" is read with its story (爹妈离了…能帮一把不)."""
    domain = domain_of(intent)
    for other in likeliest:
        if other != intent and domain_of(other) not in (None, domain):
            service = closest_to_question(catalogue, text, question_of(text), other)
            if service is not None and not service.emergency_line:
                return [service]
    return []


class CatalogueAnswerAction(Action):
    """Answers a domain's questions: the named service, or a menu of the domain's services."""

    domain = ""

    def name(self) -> str:
        return f"action_answer_{self.domain}"

    def compose(self, tracker: Tracker, catalogue: Catalogue) -> Reply:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        entities = entity_values(tracker)
        text = clean_text(tracker.latest_message.get("text") or "")
        menu = str(entities.get("menu") or "")
        if menu.startswith("domain"):  # a big button, or 更多… on the domain's menu
            return domain_menu(catalogue, "", self.domain, menu_page(menu))
        if menu.startswith("intent"):  # 更多… on the menu of one kind of question
            return domain_menu(catalogue, intent, self.domain, menu_page(menu))
        offered = offer_domain(catalogue, text)
        if offered and not text.startswith("/"):  # 养老方面都有啥服务: all of the domain
            return domain_menu(catalogue, "", offered)
        helping = clear_in_domain(catalogue, text, "volunteer") if offers_to_help(text) else None
        if helping is not None:  # 想定期去看看她: to volunteer, not the visits she gets
            return service_answer(helping)
        asked = without_held(text)  # 有残疾证，想找份工作: the certificate is who, not what
        entity = entities.get("service") if asked == text else None
        services = resolve_services(catalogue, entity, asked, self.domain, intent)
        likeliest = likeliest_intents(tracker)
        if not text.startswith("/"):  # two asks, each read on its own
            first = services[0] if services else None
            services = two_services(catalogue, text, first, likeliest, self.domain) or services
        if not services:  # a general service named: the disabled's own of it (找个活: 残疾人就业)
            services = own_of_named(catalogue, asked, self.domain)
        if not services:  # nothing clear here: a runner-up kind of question's service may be
            services = runner_up_service(catalogue, asked, intent, likeliest)
        if not services:
            return self.menu(catalogue, intent, text)
        if not text.startswith("/") and not entities.get("aspect"):
            services = with_their_own(catalogue, text, services)
        service = services[0]
        if entities.get("aspect"):
            return aspect_answer(service, str(entities["aspect"]))
        if len(services) > 1:
            return services_answer(services[0], services[1])
        return service_answer(service)

    def menu(self, catalogue: Catalogue, intent: str, text: str) -> Reply:
        """No service named: the domain's menu, and who to ask when none of it fits."""
        domain = domain_of(intent) or self.domain
        menu = domain_menu(catalogue, intent, domain)
        contact = domain_contact(catalogue, domain)
        if contact is None or text.startswith("/"):
            return menu
        where = f"都不是的话可以问{contact.office}，电话 {contact.phone}。"
        return Reply((*menu.lines, where), menu.buttons)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        danger = await answer_if_in_danger(dispatcher, tracker, domain)
        if danger is not None:  # 喊他也不大应声: 120 first, not 上门养老
            return danger
        rt = runtime.get()
        reply = self.compose(tracker, rt.catalogue)
        send(dispatcher, with_apply_button(reply, tracker, rt))
        await record_review_signals(tracker, answered=True)
        return [SlotSet("unclear_count", 0.0)]


def with_apply_button(reply: Reply, tracker: Tracker, rt: runtime.Runtime) -> Reply:
    """Services residents can apply for here get a first button 在线办理 (the request form)."""
    if tracker.active_loop_name == "request_form":
        return reply  # already filling in a request
    if entity_values(tracker).get("menu"):
        return reply  # a menu of services: the resident picks one first (its answer offers 在线办理)
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    spec = rt.forms.for_intent(intent)
    if spec is None:
        return reply
    text = clean_text(tracker.latest_message.get("text") or "")
    entity = entity_values(tracker).get("service")
    services = resolve_services(rt.catalogue, entity, text, domain_of(intent) or "", intent)
    if services and not _applies_here(rt, services[0], spec):
        return reply  # not issued here, or not something this form applies for (幼儿园 at the 教育局)
    button = Button("在线办理", f'/request_service{{"request_kind":"{spec.kind}"}}')
    return Reply(reply.lines, (button, *reply.buttons))


def _applies_here(rt: runtime.Runtime, service: Service, spec: Any) -> bool:
    if service.no_longer_issued:
        return False
    return rt.forms.for_text(" ".join((service.name, *service.aliases))) is spec


class ActionAnswerCert(CatalogueAnswerAction):
    domain = "cert"


class ActionAnswerElderly(CatalogueAnswerAction):
    domain = "elderly"


class ActionAnswerChildcare(CatalogueAnswerAction):
    domain = "childcare"


class ActionAnswerEmployment(CatalogueAnswerAction):
    domain = "employment"


class ActionAnswerDisability(CatalogueAnswerAction):
    domain = "disability"


class ActionAnswerLegal(CatalogueAnswerAction):
    domain = "legal"


class ActionAnswerHealth(CatalogueAnswerAction):
    domain = "health"


class ActionAnswerCommunity(CatalogueAnswerAction):
    domain = "community"


class ActionAnswerVolunteer(CatalogueAnswerAction):
    domain = "volunteer"


class ActionAnswerEmergency(Action):
    """Emergencies: the first line says which number to call now; staff are alerted."""

    def name(self) -> str:
        return "action_answer_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        text = clean_text(tracker.latest_message.get("text") or "")
        kind, _ = emergency_kind(text)
        if kind == "general" and asks_for_voice_input(text):  # 有冇voice input？我打唔到字
            return answer_interface_question(dispatcher, tracker)
        question = question_of(text)
        not_now = False
        if kind != "general" and told_as_past(text) and emergency_kind(question)[0] == "general":
            # 上周隔壁楼着火了…社区的避难点在哪儿: the fire is the story, the shelter the question
            text, kind, not_now = question, "general", True
        elif kind != "general" and emergency_kind(worried := without_worries(text))[0] == "general":
            # 怕我妈摔倒了起不来，有没有一键呼叫的东西: the fall is a worry, the device the question
            text, kind, not_now = worried, "general", True
        reply = emergency_answer(text, rt.settings.community_phone)
        service = resolve_service(rt.catalogue, entity_values(tracker).get("service"), text, "emergency")
        if service is not None and service.domain != "emergency":
            service = None  # 老人走丢 names the elderly 防走失 service, but here someone is missing now
        if service is None and kind == "general":
            # 积水…找谁来抽水: the story says which, 找谁 doesn't; a danger told as a worry or the
            # past is no story to read (怕摔倒…有没有一键呼叫的东西: the question alone)
            story = question if not_now else text
            service = closest_to_question(rt.catalogue, story, question, "emergency_help")
        both = []
        if kind == "general":  # 应急包要准备啥？另外我想报名当灾害信息员: two questions, no danger
            both = two_services(rt.catalogue, text, service, likeliest_intents(tracker), "emergency")
        if both and not any(s.emergency_line for s in both):
            info = services_answer(both[0], both[1])
            send(dispatcher, Reply((reply.lines[0], *info.lines[:2]), info.buttons))
            return [SlotSet("unclear_count", 0.0)]
        if kind == "general" and service is not None and not service.emergency_line:
            # A question about emergency facilities (避难场所, 微型消防站), not a danger now.
            info = service_answer(service)
            reply = Reply((reply.lines[0], *info.lines[:2]), info.buttons)
            send(dispatcher, reply)
            return [SlotSet("unclear_count", 0.0)]
        named = [s for s in named_in_full(rt.catalogue.asked(text)) if s.domain != "emergency"]
        if not_now and service is None and named:  # the service another domain gives for the worry
            info = service_answer(named[0])
            send(dispatcher, Reply((reply.lines[0], *info.lines[:2]), info.buttons))
            return [SlotSet("unclear_count", 0.0)]
        if kind == "violence" and named:
            # 家暴…人身安全保护令去哪申请: 110 first, the order asked about, and staff told
            reply = Reply(
                (reply.lines[0], brief_line(named[0]), reply.lines[1]),
                (Button(named[0].name, payload(named[0].intent, service=named[0].id)), *reply.buttons),
            )
        send(dispatcher, reply)  # the 119/110/120 line goes out whatever the store does
        await hand_over(tracker, reason="emergency", text=text, emergency=True)
        return [SlotSet("unclear_count", 0.0)]


async def answer_if_in_danger(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
) -> List[EventType] | None:
    """The emergency answer (the number first, staff told) when the resident's own words, not a
    button, tell of someone in danger now, whatever the classifier made of them (喊他也不大应声,
    广告牌砸到一个路过的人…躺地上不动); ``None`` otherwise."""
    text = tracker.latest_message.get("text") or ""
    if in_danger_now(text) and not text.startswith("/"):
        return await ActionAnswerEmergency().run(dispatcher, tracker, domain)
    return None


class ActionInterfaceHelp(Action):
    """Questions about the assistant itself (字太小, 听不清, 说慢点, 怎么用语音): how to get
    bigger text, slower speech or voice input. ``custom.interface`` lets the web chat switch
    大字模式 or slow reading on by itself; slower speech is remembered like action_slower."""

    def name(self) -> str:
        return "action_interface_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        return answer_interface_question(dispatcher, tracker)


def answer_interface_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, asked: str | None = None
) -> List[EventType]:
    """How to get bigger text, slower speech or voice input, as the latest message asks (or
    ``asked``, its Chinese when it was said in English), in the words of the resident's channel."""
    text = asked or tracker.latest_message.get("text") or ""
    kind, reply = interface_answer(clean_text(text), channel_of(tracker))
    custom: Dict[str, Any] = {"interface": kind}
    if kind == "slow":
        custom["speech_rate"] = "slow"
    send(dispatcher, reply, json_message=custom)
    return [SlotSet("slow_speech", True)] if kind == "slow" else []
