"""Runs the request form's actions the way Rasa's FormAction calls them, turn by turn.

Rasa's form loop is tested for real in tests/e2e/test_requests.py; this harness lets the form's
logic be tested quickly and exactly: each resident message goes to ``validate_request_form`` with
the tracker Rasa would build (active loop, requested slot, the action before), the returned slot
events are applied, and a finished form runs ``action_submit_request``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.requests import ActionCancelRequest, ActionSubmitRequest, ValidateRequestForm

REJECTED = "rejected"


@dataclass
class FormSim:
    sender: str = "web-resident-1"
    channel: str = "web"
    slots: dict[str, Any] = field(default_factory=dict)
    active: bool = False
    history: list[dict] = field(default_factory=list)
    said: list[dict] = field(default_factory=list)

    @property
    def requested(self) -> str | None:
        return self.slots.get("requested_slot")

    @property
    def last_text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.said)

    def _tracker(self, text: str, intent: str, confidence: float, entities: list, before: str) -> Tracker:
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": entities,
        }
        user = {"event": "user", "text": text, "parse_data": latest, "metadata": {"channel": self.channel}}
        events = [*self.history, {"event": "action", "name": "action_listen"}, user]
        if before != "action_listen":
            events.append({"event": "action", "name": before})
        if not self.active:  # as Rasa activates a form: the loop is set before its validation runs
            events.append({"event": "active_loop", "name": "request_form"})
            events.append({"event": "slot", "name": "requested_slot", "value": None})
        events.append({"event": "action", "name": "request_form"})
        loop = {"name": "request_form"}
        return Tracker(self.sender, dict(self.slots), latest, events, False, None, loop, "request_form")

    def _run(self, action: Any, trk: Tracker) -> list[dict]:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, trk, {}))
        self.said += dispatcher.messages
        return events

    def _apply(self, events: list[dict]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            if event.get("event") == "active_loop" and event.get("name") is None:
                self.active = False

    def say(
        self, text: str, intent: str = "inform", confidence: float = 0.9, entities: list | None = None
    ) -> Any:
        """A resident message while the form is open (or the one that opens it)."""
        self.said = []
        trk = self._tracker(text, intent, confidence, entities or [], "action_listen")
        events = self._run(ValidateRequestForm(), trk)
        if self.active and not events:
            return REJECTED
        if not self.active:  # Rasa logs the form's activation (the key of this filling)
            self.history.append({"event": "active_loop", "name": "request_form", "timestamp": time.time()})
        self.active = True
        self._apply(events)
        self.history.append({"event": "user", "text": text})
        if self.requested is None:
            return self._submit(text)
        return events

    def resume_after(self, action_name: str) -> list[dict]:
        """The form runs again after a rule answered a question (``action_name``)."""
        self.said = []
        trk = self._tracker("", "", 0.0, [], action_name)
        events = self._run(ValidateRequestForm(), trk)
        self._apply(events)
        return events

    def _submit(self, text: str) -> list[dict]:
        self.active = False
        latest = {"text": text, "intent": {"name": "affirm", "confidence": 0.9}, "entities": []}
        user = {"event": "user", "text": text, "parse_data": latest, "metadata": {"channel": self.channel}}
        trk = Tracker(
            self.sender, dict(self.slots), latest, [*self.history, user], False, None, {}, "request_form"
        )
        events = self._run(ActionSubmitRequest(), trk)
        self._apply(events)
        return events

    def cancel(self, text: str = "取消") -> None:
        self.said = []
        latest = {"text": text, "intent": {"name": "cancel", "confidence": 1.0}, "entities": []}
        user = {"event": "user", "text": text, "parse_data": latest, "metadata": {"channel": self.channel}}
        active_loop = {"name": "request_form"} if self.active else {}
        trk = Tracker(
            self.sender,
            dict(self.slots),
            latest,
            [*self.history, user],
            False,
            None,
            active_loop,
            "action_listen",
        )
        self._apply(self._run(ActionCancelRequest(), trk))
