"""A new conversation session that keeps a form in progress.

Rasa starts a new session when a resident writes again after ``session_expiration_time``
(60 minutes, domain/intents.yml). Its ``action_session_start`` carries the slots over but ends
the active form, so an elderly resident who went to find an ID card and answered "王秀英" an
hour later was told "这个我帮不上忙" and had to start again. Here the session's start also
keeps the form active, so the answer is read as the answer to the question the form last
asked (the slots filled so far, ``requested_slot`` included, are carried over as before).

Rasa's own action is kept (patched in the Rasa process, :mod:`bot.rasa_server`), not replaced by
a custom action: a custom ``action_session_start`` runs on the action server, and with that
server down a new conversation would lose its session start, and its emergency reply with it.
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.action import ActionSessionStart
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event


def with_active_form(events: list[Event], form: str | None) -> list[Event]:
    """``events`` of a session's start, with ``form`` active again before the first listen."""
    if not form:
        return events
    for i, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return [*events[:i], ActiveLoop(form), *events[i:]]
    return [*events, ActiveLoop(form)]


def install_form_keeping_session_start() -> None:
    original = ActionSessionStart.run
    if getattr(original, "keeps_forms", False):
        return

    async def run(self: ActionSessionStart, output_channel: Any, nlg: Any, tracker: Any,
                  domain: Any) -> list[Event]:
        events = await original(self, output_channel, nlg, tracker, domain)
        return with_active_form(list(events), tracker.active_loop_name)

    run.keeps_forms = True  # type: ignore[attr-defined]
    ActionSessionStart.run = run  # type: ignore[method-assign]
