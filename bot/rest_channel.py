"""Rasa's REST channel for residents (``/webhooks/rest/webhook``), made safe to leave open.

It takes the place of Rasa's ``RestInput`` (``credentials.yml``) with the same URL and the same
answer (a JSON list of messages), and adds what a public door needs:

* bad input is refused before NLU runs: a body that is not a JSON object, a non-string or empty
  message, a message longer than the web chat's cap (400/413, with a Chinese message);
* text that starts with ``/`` reaches Rasa as a command only when a resident's button could have
  sent it (``bot.rest_input``): ``/restart`` never wipes a conversation;
* a turn never ends in silence: if an action failed (the action server down or too slow) or
  the conversation store can't be read or written, the resident hears so plainly, an emergency
  hears 119/110/120 first, and an emergency or a request for a person still reaches the staff
  inbox (the store, or the outbox until the store is back);
* no resident text in its logs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rest_input import InputRefused, RestMessage, command_or_text, parse_body
from bot.tracker_store import ConversationStoreUnavailable
from community.answers import Reply
from community.handoff_keeper import HandoffKeeper
from community.recovery import looks_like_emergency, recovery_reply, unsaved_reply
from community.settings import Settings
from community.store import Store

log = logging.getLogger(__name__)

UNSAVED_NOTE = "（系统暂时无法保存这段对话；如果我接下来忘了刚才说的，请再说一遍。）"
HANDOFF_KEPT = "已记下您要找工作人员，系统恢复后他们会联系您。"


class CommunityRestInput(RestInput):
    """``rest`` in credentials.yml: the residents' REST channel."""

    def __init__(self) -> None:
        self._keeper: HandoffKeeper | None = None
        self._settings: Settings | None = None

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CommunityRestInput:
        return cls()

    # -- resources, opened on first use ----------------------------------------------------------
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def keeper(self) -> HandoffKeeper:
        if self._keeper is None:
            settings = self.settings()
            store = Store.from_url(settings.store_url, migrate=False)
            self._keeper = HandoffKeeper.for_process(store, settings.var_dir)
        return self._keeper

    # -- the webhook -----------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("community_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = parse_body(request.body or b"")
            except InputRefused as refused:
                return response.json(
                    {"error": refused.operator, "message": refused.resident}, status=refused.status
                )
            agent = request.app.ctx.agent
            domain = agent.domain
            text = command_or_text(message.text, domain.intents, domain.entities)
            messages = await self._turn(agent, on_new_message, message, text)
            return response.json(messages)

        return webhook

    async def _turn(
        self,
        agent: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        message: RestMessage,
        text: str,
    ) -> list[dict[str, Any]]:
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(
                    text, collector, message.sender,
                    input_channel=message.input_channel, metadata=message.metadata,
                )
            )
        except ConversationStoreUnavailable:
            if collector.messages:  # answered, but the turn could not be saved afterwards
                return [*collector.messages, {"recipient_id": message.sender, "text": UNSAVED_NOTE}]
            return await self._without_assistant(agent, message, text, store_down=True)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the resident still gets an answer below
            log.error("Turn failed (%s); answering with the safety reply", type(err).__name__)
        if collector.messages or await self._paused(agent, message.sender):
            return collector.messages
        return await self._without_assistant(agent, message, text, store_down=False)

    async def _paused(self, agent: Any, sender: str) -> bool:
        """A conversation staff have taken over is silent on purpose."""
        try:
            tracker = await agent.tracker_store.retrieve(sender)
        except Exception:  # noqa: BLE001 - unknown: answer rather than stay silent
            return False
        return tracker is not None and tracker.is_paused()

    async def _without_assistant(
        self, agent: Any, message: RestMessage, text: str, *, store_down: bool
    ) -> list[dict[str, Any]]:
        """The turn produced nothing: say why, and keep an emergency or a request for a person."""
        intent = await self._intent(agent, text)
        phone = self.settings().community_phone
        channel = str(message.metadata.get("channel") or message.input_channel)
        emergency = intent == "emergency_help" or looks_like_emergency(message.text)
        if emergency or intent == "human_handoff":
            await self.keeper().keep(
                conversation_id=message.sender,
                channel=channel,
                reason="emergency" if emergency else "asked",
                text=message.text,
                emergency=emergency,
            )
        if emergency:
            reply = recovery_reply(message.text, phone, emergency=True)
        elif intent == "human_handoff":
            reply = Reply((HANDOFF_KEPT, f"着急的话请打社区电话 {phone}。"))
        elif store_down:
            reply = unsaved_reply(phone)
        else:
            reply = recovery_reply(message.text, phone)
        log.warning("Safety reply (intent %s, conversation store %s)", intent, "down" if store_down else "up")
        return [{"recipient_id": message.sender, "text": reply.text, "recovering": True}]

    @staticmethod
    async def _intent(agent: Any, text: str) -> str:
        try:
            parsed = await agent.parse_message(text)
        except Exception:  # noqa: BLE001 - no model: words alone decide
            return ""
        return str((parsed.get("intent") or {}).get("name") or "")
