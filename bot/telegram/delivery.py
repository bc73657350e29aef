"""Everything the channel sends to a chat, and what it does when Telegram won't take it.

* Calls to the Bot API honour 429 ``retry_after`` and retry 5xx/network errors
  (:func:`~bot.telegram.retry.with_retry`); long texts are split at line boundaries.
* A chat's answer (all its parts and its voice version) and a pushed message never interleave:
  both are sent holding the chat's send lock.
* An answer Telegram would not take (it was down longer than the retries wait) is not dropped:
  what was not sent is kept, sealed, as a notification of kind ``answer`` and delivered with the
  pushed messages when Telegram is back (:mod:`bot.telegram.pushes`).
* Answers are spoken too (:mod:`bot.telegram.voice`) when the resident spoke or asked for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Message
from telegram.error import NetworkError, RetryAfter

from bot.resident.service import ResidentService
from bot.telegram import texts, voice
from bot.telegram.chats import CHANNEL, Chats, sender_id
from bot.telegram.keyboards import Part, Step, answer_keyboard
from bot.telegram.retry import with_retry
from community.answers import ShortAnswer, short_answer_for
from community.catalogue import Catalogue
from community.records.notifications import Notifications
from community.sealed import Sealer, is_sealed
from voice.errors import VoiceError

log = logging.getLogger(__name__)


class Delivery:
    def __init__(
        self, bot: Bot, chats: Chats, service: ResidentService, notifications: Notifications, sealer: Sealer,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.bot = bot
        self.catalogue = catalogue  # finds a service's answer to shorten (None: answers shown whole)
        self.chats = chats
        self.service = service
        self.notifications = notifications
        self.sealer = sealer  # seals the answers kept in the store
        self._push_parts: dict[int, int] = {}  # notification id → parts Telegram already accepted

    async def send_text(self, chat_id: int, text: str, reply_markup: Any = None) -> list[Message]:
        """Send ``text`` (split at Telegram's limit); the markup goes with the last part."""
        parts = texts.split_message(text)
        sent = []
        for index, part in enumerate(parts):
            markup = reply_markup if index == len(parts) - 1 else None
            sent.append(
                await with_retry(lambda p=part, m=markup: self.bot.send_message(chat_id, p, reply_markup=m))
            )
        return sent

    async def say(self, chat_id: int, text: str, reply_markup: Any = None, *, spoke: bool = False) -> None:
        """A reply of the channel's own (help, a mode switched, an apology): sent holding the
        chat's send lock, and spoken when the resident spoke or has voice replies on."""
        state = self.chats[chat_id]
        async with state.sending:
            await self.send_text(chat_id, text, reply_markup)
            if spoke or state.voice:
                await self.speak(chat_id, text)

    async def notice(self, chat_id: int, text: str) -> None:
        """Send ``text`` now (spoken with voice replies on); a failure is logged (a notice is not
        worth keeping)."""
        try:
            await self.send_text(chat_id, text)
            if self.chats[chat_id].voice:
                await self.speak(chat_id, text)
        except Exception as err:
            log.warning("chat %s: notice not sent: %s", chat_id, type(err).__name__)

    async def locked_text(self, chat_id: int, text: str, reply_markup: Any = None) -> None:
        """Send ``text`` holding the chat's send lock (never inside an answer or a push)."""
        await self.say(chat_id, text, reply_markup)

    def short_form(self, message: dict[str, Any]) -> ShortAnswer | None:
        """The short form of a message that is exactly a service's full answer (None otherwise,
        or without a catalogue)."""
        if self.catalogue is None:
            return None
        return short_answer_for(self.catalogue, str(message.get("text") or ""), message.get("buttons"))

    async def answer(
        self, chat_id: int, messages: list[dict[str, Any]], *, question: str, spoke: bool,
        rated: int | None = None, waiting: Sequence[bool] = (), empty: str = texts.NOT_UNDERSTOOD,
    ) -> None:
        """Show the assistant's messages: 👍/👎 under message ``rated`` (the final answer) only;
        the buttons of messages that wait for the resident (``waiting``) act once. A service's
        answer is spoken as its essentials (the kiosk's 20 s) with the rest offered as buttons,
        and in 长辈模式 it is shown so too (what, where, what to bring and the phone). Spoken
        when the resident spoke or chose voice replies."""
        state = self.chats[chat_id]
        if not messages:
            messages = [{"text": empty}]
        speaking = spoke or state.voice
        step = Step() if any(waiting) else None
        async with state.sending:
            if step is not None:
                state.moved_on()
                state.step = step
            said = []
            for number, message in enumerate(messages):
                text = str(message.get("text") or "").strip()
                short = self.short_form(message) if (state.elder or speaking) else None
                shown = texts.elder_text(short) if short is not None and state.elder else text
                markup = answer_keyboard(
                    message, question,
                    rated_text=shown if number == rated else "",
                    step=step if number < len(waiting) and waiting[number] else None,
                    parts=short.details if short is not None else (),
                )
                parts = texts.split_message(shown or "请选择：")
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    try:
                        await with_retry(
                            lambda p=part, m=markup if last else None: self.bot.send_message(
                                chat_id, p, reply_markup=m
                            )
                        )
                    except (NetworkError, RetryAfter) as err:  # Telegram is down: keep the rest
                        rest = ["\n".join(parts[index:])] + [
                            str(m.get("text") or "").strip() for m in messages[number + 1 :]
                        ]
                        await self.keep(chat_id, [r for r in rest if r], question, err)
                        return
                if shown:
                    said.append(texts.spoken_text(short) if short is not None else shown)
            if said and speaking:
                await self.speak(chat_id, "\n".join(said))

    async def part(self, chat_id: int, part: Part) -> None:
        """A tapped part of a short answer (办理时间, 电话, 更多), from the catalogue."""
        await self.say(chat_id, part.text)

    async def keep(self, chat_id: int, kept: list[str], question: str, error: Exception) -> None:
        """Keep what Telegram would not take (sealed: answers can hold what the resident told us)
        as notifications of kind ``answer``, delivered with the pushed messages when it is back."""
        if not kept:
            return
        heading = texts.LATE_ANSWER.format(question=texts.clip(question, 30))
        bodies = [heading + "\n" + kept[0], *kept[1:]] if question else kept

        def keep() -> None:
            for body in bodies:
                self.notifications.notify(CHANNEL, sender_id(chat_id), self.sealer.seal(body), kind="answer")

        try:
            await asyncio.to_thread(keep)
        except Exception as err:
            log.error(
                "chat %s: answer not delivered (%s) and not kept either (%s)",
                chat_id, type(error).__name__, type(err).__name__,
            )
            return
        log.warning(
            "chat %s: Telegram unavailable (%s); %d answer(s) kept for later",
            chat_id, type(error).__name__, len(bodies),
        )

    async def speak(self, chat_id: int, text: str) -> None:
        """The voice version of what was just sent: the text has gone out, so nothing is raised."""
        if not self.service.can_speak:
            return
        try:
            ogg, seconds = await voice.spoken(self.service, text)
            await with_retry(lambda: self.bot.send_voice(chat_id, voice=ogg, duration=seconds))
        except VoiceError as err:
            log.warning("chat %s: no voice reply: %s", chat_id, err.code)
        except Exception as err:
            log.warning("chat %s: voice reply not sent: %s", chat_id, type(err).__name__)

    # --- pushed messages ---------------------------------------------------------------------

    async def notification(self, chat_id: int, row: dict[str, Any]) -> None:
        """Send one queued notification (a row of ``notifications``) to its chat; returns once
        Telegram accepted all of its text, raises otherwise. A part already accepted is not sent
        again when the row is retried. Spoken too when the chat has voice replies on."""
        row_id = int(row["id"])
        text = str(row.get("text") or "")
        if is_sealed(text):  # a kept answer
            unsealed = self.sealer.unseal(text)
            if unsealed is None:  # sealed with a key this run does not have
                raise ValueError("kept answer sealed with another key")
            text = str(unsealed)
        body = texts.notification_text(str(row.get("kind") or ""), text, resend=bool(row.get("resend")))
        parts = texts.split_message(body) if body else []
        state = self.chats[chat_id]
        async with state.sending:
            for index in range(self._push_parts.get(row_id, 0), len(parts)):
                await with_retry(lambda p=parts[index]: self.bot.send_message(chat_id, p))
                self._push_parts[row_id] = index + 1
            self._push_parts.pop(row_id, None)
            if body and state.voice:
                await self.speak(chat_id, body)
        log.info("chat %s: notification %s (%s) delivered", chat_id, row_id, row.get("kind"))
