"""Telegram updates → the resident service: commands, text, voice notes, button taps, errors.

Every message a resident sends is queued for its chat (:mod:`bot.telegram.queues`); the job
asks the assistant through :class:`~bot.telegram.conversation.Conversation`. Button taps carry
their :mod:`~bot.telegram.keyboards` objects; a rating is stored at once with
:meth:`ResidentService.rate`. A handler that fails is logged (masked) and the resident is told
to try again (:meth:`Handlers.on_error`, PTB's error handler).
"""

from __future__ import annotations

import asyncio
import logging
import traceback

from telegram import CallbackQuery, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InvalidCallbackData,
    MessageHandler,
    filters,
)

from bot.resident.service import ResidentService
from bot.telegram import texts, voice
from bot.telegram.chats import CHANNEL, Chats, sender_id
from bot.telegram.conversation import Conversation
from bot.telegram.delivery import Delivery
from bot.telegram.keyboards import Choice, Part, Rating, rated_keyboard
from bot.telegram.modes import Modes
from bot.telegram.queues import ChatQueues, Job
from bot.telegram.retry import with_retry
from bot.telegram.settings import TelegramSettings
from community.privacy import mask_text
from community.records.requests import Requests
from voice.errors import VoiceError

log = logging.getLogger(__name__)

def commands(can_speak: bool) -> list[tuple[str, str]]:
    """The bot's menu of commands (no /voice where nothing can be spoken)."""
    return [
        ("start", "开始，显示大按钮菜单"),
        ("help", "能做什么"),
        ("elder", "长辈模式：大按钮，只说要紧的" + ("，语音朗读" if can_speak else "")),
        *([("voice", "打开/关闭语音回复")] if can_speak else []),
        ("cancel", "取消正在办的事"),
        ("myrequests", "我的办事记录"),
    ]


CANCEL_INTENT = "/cancel"  # Rasa reads a leading slash as an intent: ``cancel`` leaves any form
ELDER_REQUESTS_SHOWN = 3


class Handlers:
    def __init__(
        self,
        settings: TelegramSettings,
        service: ResidentService,
        delivery: Delivery,
        chats: Chats,
        requests: Requests,
    ) -> None:
        self.settings = settings
        self.service = service
        self.delivery = delivery
        self.chats = chats
        self.requests = requests
        self.queues = ChatQueues(
            settings.flood_messages, settings.flood_seconds,
            on_flood=lambda chat_id: delivery.notice(chat_id, texts.FLOOD),
            on_kept=lambda chat_id, said: self.conversation.kept(chat_id, said),
            on_failure=self.failed,
        )
        self.modes = Modes(settings, service, delivery, chats)
        self.conversation = Conversation(settings, service, delivery, self.queues, self.modes)

    def install(self, application: Application) -> None:
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("help", self.on_help))
        application.add_handler(CommandHandler("elder", self.on_elder))
        application.add_handler(CommandHandler("voice", self.on_voice_toggle))
        application.add_handler(CommandHandler("cancel", self.on_cancel))
        application.add_handler(CommandHandler("myrequests", self.on_myrequests))
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, self.on_voice_message))
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(filters.COMMAND, self.on_help))
        application.add_handler(MessageHandler(filters.ALL, self.on_other))
        application.add_error_handler(self.on_error)

    def _accept(self, update: Update, job: Job, said: str = "") -> None:
        if update.effective_chat is not None:
            self.queues.accept(update.effective_chat.id, job, said)

    # --- commands ----------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        text = texts.welcome(self.service.can_hear)
        self._accept(update, lambda: self.delivery.say(chat_id, text, self.modes.keyboard(chat_id)))

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        s = self.service
        text = texts.help_text(s.can_hear, s.can_speak, self.settings.community_phone)
        self._accept(update, lambda: self.delivery.say(chat_id, text, self.modes.keyboard(chat_id)))

    async def on_elder(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.modes.elder(chat_id))

    async def on_voice_toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.modes.voice(chat_id))

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self.chats[chat_id].moved_on()
        # The ``cancel`` intent leaves any form; the assistant's own reply is shown (not rated).
        # Like any message it is kept and sent when Rasa is back, if Rasa is down.
        self._accept(update, lambda: self.conversation.route(
            chat_id, CANCEL_INTENT, question="/cancel", rate=False, empty=texts.CANCELLED
        ))

    async def on_myrequests(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.my_requests(chat_id))

    async def my_requests(self, chat_id: int) -> None:
        """/myrequests: the newest of the resident's service requests with their status."""
        shown = self.settings.my_requests_shown
        if self.chats[chat_id].elder:
            shown = min(shown, ELDER_REQUESTS_SHOWN)
        try:
            rows = await asyncio.to_thread(
                self.requests.list, conversation_id=sender_id(chat_id), limit=shown + 1
            )
        except Exception as err:  # the database is down
            log.warning("chat %s: requests not read: %s", chat_id, type(err).__name__)
            await self.delivery.say(chat_id, texts.REQUESTS_UNAVAILABLE, self.modes.keyboard(chat_id))
            return
        text = texts.format_requests(rows[:shown], more=len(rows) > shown)
        await self.delivery.say(chat_id, text, self.modes.keyboard(chat_id))

    # --- messages ----------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None or not message.text:
            return
        chat_id, text = update.effective_chat.id, message.text.strip()
        elder = texts.elder_words(text)
        if elder is not None:  # 长辈模式 by its button or in words: the conversation stays where it was
            self._accept(update, lambda: self.modes.elder(chat_id, elder), said=text)
            return
        self.chats[chat_id].moved_on()
        payload = texts.MENU.get(text, text)
        self._accept(update, lambda: self.conversation.route(chat_id, payload, question=text), said=text)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None or update.effective_message is None:
            return
        chat_id = update.effective_chat.id
        self._accept(update, lambda: self.delivery.say(chat_id, texts.ONLY_TEXT_OR_VOICE))

    async def on_voice_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        audio = message.voice or message.audio
        if audio is None:
            return
        chat_id = update.effective_chat.id
        self.chats[chat_id].moved_on()
        self._accept(update, lambda: self.hear(chat_id, audio.file_id, audio.duration))

    async def hear(self, chat_id: int, file_id: str, duration: object = None) -> None:
        """A voice note: recognise it, echo what was heard, then answer it like text."""
        try:
            heard = await voice.hear(
                self.delivery.bot, self.service, file_id, duration,
                max_seconds=self.settings.max_voice_seconds,
            )
        except VoiceError as err:  # the resident spoke: the apology is spoken too
            log.info("chat %s: voice message not heard: %s", chat_id, err.code)
            await self.delivery.say(chat_id, voice.reply_for(err), spoke=True)
            return
        await self.delivery.send_text(chat_id, texts.HEARD.format(text=heard))
        elder = texts.elder_words(heard)
        if elder is not None:
            await self.modes.elder(chat_id, elder, spoke=True)
            return
        await self.conversation.route(chat_id, heard, question=heard, spoke=True, input="voice")

    # --- buttons -----------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        chat_id, data = update.effective_chat.id, query.data
        if isinstance(data, Rating):
            reply = await self.rate(chat_id, data)
            await with_retry(lambda: query.answer(reply))
            if reply in (texts.RATED_UP, texts.RATED_DOWN):  # stored now: the thumbs say so
                await self.show_rated(query, data)
        elif isinstance(data, Choice):
            if data.step is not None and data.step.done:  # e.g. 确认提交 after the submission
                await with_retry(lambda: query.answer(texts.STEP_DONE))
                return
            self.chats[chat_id].moved_on()
            await with_retry(query.answer)
            self._accept(update, lambda: self.conversation.route(chat_id, data.payload, question=data.title))
        elif isinstance(data, Part):
            await with_retry(query.answer)
            self._accept(update, lambda: self.delivery.part(chat_id, data))
        else:  # InvalidCallbackData: the cache forgot it (or it never was ours)
            if not isinstance(data, InvalidCallbackData):
                log.info("chat %s: a button of unknown kind %s", chat_id, type(data).__name__)
            await with_retry(lambda: query.answer(texts.BUTTON_EXPIRED))

    async def show_rated(self, query: CallbackQuery, rating: Rating) -> None:
        """Edit the rated answer's buttons: 👍/👎 become "已评价 👍" (or 👎)."""
        try:
            await with_retry(lambda: query.edit_message_reply_markup(rated_keyboard(rating)))
        except Exception as err:  # the message is too old to edit, or gone: the rating is stored
            log.info("rated message not edited: %s", type(err).__name__)

    async def rate(self, chat_id: int, rating: Rating) -> str:
        """Store 👍/👎 for an answer, once; what the resident is told."""
        rated = rating.rated
        if rated.done:
            return texts.RATED_ALREADY
        try:
            await self.service.rate(
                sender_id(chat_id), CHANNEL, question=rated.question, answer=rated.answer, rating=rating.value
            )
        except Exception as err:  # the database is down or refused the row
            log.warning("rating not stored: %s", type(err).__name__)
            return texts.RATING_FAILED
        rated.done = True
        return texts.RATED_UP if rating.value == "up" else texts.RATED_DOWN

    # --- failures ----------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's error handler: a handler raised."""
        chat = update.effective_chat if isinstance(update, Update) else None
        await self.failed(chat.id if chat is not None else None, context.error)

    async def failed(self, chat_id: int | None, err: BaseException | None) -> None:
        """Something failed while handling a chat's message: log it masked, tell the resident."""
        if err is None:
            return
        trace = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        log.error("chat %s: a message could not be handled:\n%s", chat_id, mask_text(trace))
        if chat_id is not None:
            await self.delivery.notice(chat_id, texts.FAILED)
