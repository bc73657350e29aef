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

from bot.resident.service import Answer, ResidentService, rated_message, waits
from bot.telegram import texts
from bot.telegram.chats import CHANNEL, sender_id
from bot.telegram.delivery import Delivery
from bot.telegram.modes import Modes
from bot.telegram.queues import ChatQueues
from bot.telegram.settings import TelegramSettings
from community.recovery import looks_like_emergency

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self, settings: TelegramSettings, service: ResidentService, delivery: Delivery, queues: ChatQueues,
        modes: Modes,
    ) -> None:
        self.modes = modes
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
        instead of the recovery reply. ``rate=False``: nothing of it is rated (a command's reply).
        Which message is the final answer to rate, and which wait for the resident, is the
        resident service's rule (:func:`~bot.resident.service.rated_message`)."""
        answer = await self.ask(chat_id, message, said=question, spoke=spoke, **metadata)
        kinds = [str(m["custom"].get("interface")) for m in answer.messages
                 if isinstance(m.get("custom"), dict) and m["custom"].get("interface")]
        if kinds and not (answer.held or answer.recovering):  # 字太小, 读给我听…: switched on here
            await self.modes.interface(chat_id, kinds[0], spoke=spoke)
            return
        shown = Answer(
            [m for m in answer.messages if m.get("text") or m.get("buttons")],
            held=answer.held, recovering=answer.recovering, unavailable=answer.unavailable,
        )
        messages = shown.messages
        if answer.held:
            messages = [{"text": texts.HELD}]  # the assistant is silent while staff hold it
        elif answer.recovering and empty is not None:
            messages = [{"text": empty}]
        asking = await self.service.asking(sender_id(chat_id), shown)
        rated = rated_message(shown, asking) if rate else None
        await self.delivery.answer(
            chat_id, messages, question=question, spoke=spoke, rated=rated,
            waiting=[waits(m, asking) for m in messages], empty=empty or texts.NOT_UNDERSTOOD,
        )

    async def ask(
        self, chat_id: int, message: str, *, said: str, spoke: bool = False, **metadata: str
    ) -> Answer:
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
                    await self.delivery.say(chat_id, answer.text, spoke=spoke)
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
