"""Each domain's questions are answered from the service catalogue."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.common import entity_values, send
from actions.handoff import hand_over
from actions.review_signals import record_review_signals
from community.answers import (
    Button,
    Reply,
    aspect_answer,
    domain_menu,
    emergency_answer,
    emergency_kind,
    service_answer,
)
from community.catalogue import Catalogue, Service
from community.intents import domain_of
from community.textnorm import clean_text


def resolve_service(
    catalogue: Catalogue, entity: str | None, text: str, domain: str
) -> Service | None:
    """The service the resident means: a button's id, a named service, or an alias in the text."""
    if entity:
        service = catalogue.get(str(entity)) or catalogue.find(str(entity), domain)
        if service:
            return service
    return catalogue.find(text, domain) or (catalogue.find(str(entity)) if entity else None)


class CatalogueAnswerAction(Action):
    """Answers a domain's questions: the named service, or a menu of the domain's services."""

    domain = ""

    def name(self) -> str:
        return f"action_answer_{self.domain}"

    def compose(self, tracker: Tracker, catalogue: Catalogue) -> Reply:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        entities = entity_values(tracker)
        text = clean_text(tracker.latest_message.get("text") or "")
        if entities.get("menu") == "domain":
            return domain_menu(catalogue, "", self.domain)
        service = resolve_service(catalogue, entities.get("service"), text, self.domain)
        if service is None:
            return domain_menu(catalogue, intent, domain_of(intent) or self.domain)
        if entities.get("aspect"):
            return aspect_answer(service, str(entities["aspect"]))
        return service_answer(service)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        rt = runtime.get()
        reply = self.compose(tracker, rt.catalogue)
        send(dispatcher, with_apply_button(reply, tracker, rt))
        await record_review_signals(tracker, answered=True)
        return [SlotSet("unclear_count", 0.0)]


def with_apply_button(reply: Reply, tracker: Tracker, rt: runtime.Runtime) -> Reply:
    """Services residents can apply for here get a first button 在线办理 (the request form)."""
    if tracker.active_loop_name == "request_form":
        return reply  # already filling in a request
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    spec = rt.forms.for_intent(intent)
    if spec is None:
        return reply
    text = clean_text(tracker.latest_message.get("text") or "")
    entity = entity_values(tracker).get("service")
    service = resolve_service(rt.catalogue, entity, text, domain_of(intent) or "")
    if service is not None and service.no_longer_issued:
        return reply
    button = Button("在线办理", f'/request_service{{"request_kind":"{spec.kind}"}}')
    return Reply(reply.lines, (button, *reply.buttons))


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
        reply = emergency_answer(text, rt.settings.community_phone)
        service = resolve_service(rt.catalogue, entity_values(tracker).get("service"), text, "emergency")
        if kind == "general" and service is not None and not service.phone.isdigit():
            # A question about emergency facilities (避难场所, 微型消防站), not a danger now.
            info = service_answer(service)
            reply = Reply((reply.lines[0], *info.lines[:2]), info.buttons)
            send(dispatcher, reply)
            return [SlotSet("unclear_count", 0.0)]
        send(dispatcher, reply)  # the 119/110/120 line goes out whatever the store does
        await hand_over(tracker, reason="emergency", text=text, emergency=True)
        return [SlotSet("unclear_count", 0.0)]
