"""A resident's message through the resident service and back to the chat.

:meth:`ResidentService.ask` never comes back empty: the assistant's answer, "a person will
answer" while staff hold the conversation, or the recovery reply (an emergency gets
119/110/120 first). What Telegram adds: while the assistant is unavailable (Rasa or its action
server down) the resident reads the recovery reply once and the message stays at the head of
the chat's queue, asked again with backoff until it is answered; later messages meanwhile are
told they are kept, and an emergency among them gets its numbers at once (and reaches staff).
"""

from __future__ import annotations

import asyncio
import logging

from bot.resident.service import Answer, ResidentService
from bot.telegram import texts
from bot.telegram.chats import CHANNEL, sender_id
from bot.telegram.delivery import Delivery
from bot.telegram.queues import ChatQueues
from bot.telegram.settings import TelegramSettings
from community.recovery import looks_like_emergency

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self, settings: TelegramSettings, service: ResidentService, delivery: Delivery, queues: ChatQueues
    ) -> None:
        self.settings = settings
        self.service = service
        self.delivery = delivery
        self.queues = queues

    async def route(
        self, chat_id: int, message: str, *, question: str, spoke: bool = False,
        rate: bool = True, empty: str | None = None, **metadata: str,
    ) -> None:
        """Ask the assistant ``message`` (``question`` is what the resident wrote, said or tapped)
        and show the answer. When the assistant answered nothing, ``empty`` (if given) is shown
        instead of the recovery reply."""
        answer = await self.ask(chat_id, message, said=question, **metadata)
        messages = [m for m in answer.messages if m.get("text") or m.get("buttons")]
        if answer.held:
            messages, rate = [{"text": texts.HELD}], False  # the assistant is silent while staff hold it
        elif answer.recovering:
            if empty is not None:
                messages = [{"text": empty}]
            rate = False
        await self.delivery.answer(
            chat_id, messages, question=question, spoke=spoke, rate=rate, empty=empty or texts.NOT_UNDERSTOOD
        )

    async def ask(self, chat_id: int, message: str, *, said: str, **metadata: str) -> Answer:
        """The service's answer; while the assistant is unavailable, the recovery reply once, then
        the same message again with backoff until it is answered."""
        delay = self.settings.retry_first_delay
        try:
            while True:
                answer = await self.service.ask(sender_id(chat_id), message, CHANNEL, said=said, **metadata)
                if not answer.unavailable:
                    if self.queues.waiting(chat_id):
                        log.info("chat %s: assistant back, answering the kept message", chat_id)
                    return answer
                log.warning("chat %s: assistant unavailable; asking again in %.1f s", chat_id, delay)
                if not self.queues.waiting(chat_id):
                    self.queues.set_waiting(chat_id, True)
                    await self.delivery.send_text(chat_id, answer.text)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_delay)
        finally:
            self.queues.set_waiting(chat_id, False)

    async def kept(self, chat_id: int, said: str) -> None:
        """A message arrived while the one before waits for the assistant: say it is kept; an
        emergency gets its numbers now (and the staff inbox) instead of waiting its turn."""
        if said and looks_like_emergency(said):
            answer = await self.service.recovery(sender_id(chat_id), said, CHANNEL)
            await self.delivery.notice(chat_id, answer.text)
        else:
            await self.delivery.notice(chat_id, texts.KEPT)
