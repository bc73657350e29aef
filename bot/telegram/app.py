"""The Telegram front end: a python-telegram-bot v22 application that is a client of Rasa.

* Every chat has its own queue, worked through in order by one task (per-chat ordering), and a
  flood limit (``flood_messages`` per ``flood_seconds``; the resident is told "请慢一点" once).
* When Rasa or the action server cannot answer, the resident reads
  :func:`community.recovery.recovery_reply` once (an emergency gets 119/110/120 first; anything
  else "系统正在恢复…" with the community's phone number) and the message stays at the head of the
  chat's queue, retried with backoff until it is answered. Later messages meanwhile are told they
  are kept, an emergency again gets its numbers at once. An empty answer while staff do not hold
  the chat gets the recovery reply too: never nothing.
* An answer Telegram would not take (it was down longer than :func:`with_retry` waits) is not
  dropped: what was not sent is kept, sealed, as a notification of kind ``answer`` and delivered
  with the pushed messages when Telegram is back.
* Rasa buttons become inline keyboards; a substantive answer gets 👍/👎 (stored with
  :meth:`community.records.ratings.Ratings.record`). Long answers are split at line boundaries.
* Voice messages are downloaded, decoded by :func:`voice.audio.decode_audio`, recognised with the
  Chinese Vosk model (when present), echoed ("我听到的是：……") and routed like text. Voice replies
  (:mod:`voice.speech_text` → TTS → OGG/Opus) go out when the resident spoke or asked for them.
* Pushed messages (staff replies, request status changes, 接诉即办 acknowledgements) are queued
  by other components in the store's ``notifications`` table; :class:`bot.telegram.pushes.PushPump`
  delivers them while the application runs. :meth:`TelegramChannel.push` (and :func:`push_text`
  for other processes) sends a message directly.
* A chat's answer (all its parts and its voice version) and a pushed message never interleave:
  both are sent holding the chat's send lock.
* ``/myrequests`` lists the resident's newest service requests; ``/cancel`` sends the ``cancel``
  intent to Rasa (it leaves a form) and shows the assistant's reply.
* Long polling (:meth:`TelegramChannel.start_polling`) or a webhook (:meth:`start_webhook`).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from cryptography.fernet import Fernet
from telegram import Bot as TelegramBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram import texts
from bot.telegram.pushes import PushPump
from bot.telegram.rasa import AssistantUnavailable, RasaClient
from bot.telegram.retry import with_retry
from bot.telegram.settings import TelegramSettings
from community.recovery import looks_like_emergency, recovery_reply
from community.sealed import Sealer, is_sealed
from community.store import Store
from voice.asr import Recognizer, transcribe_pcm
from voice.asr_text import normalize_asr_text
from voice.audio import decode_audio, encode_ogg_opus, read_wav
from voice.errors import VoiceError
from voice.speech_text import speech_text
from voice.tts import MAX_TEXT_CHARS, Synthesizer

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_CALLBACKS = 20000  # button payloads and rated answers remembered for inline keyboards
COMMANDS = [
    ("start", "开始，显示大按钮菜单"),
    ("help", "能做什么"),
    ("elder", "长辈模式：回答更短，语音朗读"),
    ("voice", "打开/关闭语音回复"),
    ("cancel", "取消正在办的事"),
    ("myrequests", "我的办事记录"),
]
Job = Callable[[], Awaitable[None]]
CANCEL_INTENT = "/cancel"  # Rasa reads a leading slash as an intent: ``cancel`` leaves any form


def sender_id(chat_id: int) -> str:
    """The Rasa conversation id of a Telegram chat."""
    return f"tg-{chat_id}"


def chat_id_of(conversation: int | str) -> int:
    """A chat id from a chat id or a conversation id (``tg-<chat_id>``)."""
    if isinstance(conversation, int):
        return conversation
    text = str(conversation).strip()
    if text.startswith("tg-"):
        text = text[3:]
    try:
        return int(text)
    except ValueError as err:
        raise ValueError(f"not a Telegram chat: {conversation!r}") from err


def menu_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [list(row) for row in texts.MENU_ROWS], resize_keyboard=True, input_field_placeholder="请说您想办的事"
    )


@dataclasses.dataclass
class ChatState:
    elder: bool = False
    voice: bool = False
    jobs: collections.deque[Job] = dataclasses.field(default_factory=collections.deque)
    worker: asyncio.Task[None] | None = None
    recent: collections.deque[float] = dataclasses.field(default_factory=collections.deque)
    flood_warned: bool = False
    waiting: bool = False  # a message is waiting for Rasa or the action server to come back
    sending: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)  # one answer or push at a time


class TelegramChannel:
    """The bot's behaviour; :meth:`build_application` wires it into a PTB Application."""

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        store: Store | None = None,
        recognizer: Recognizer | None = None,
        synthesizer: Synthesizer | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sealer = sealer  # seals kept answers in the store (opened in open() when None)
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.chats: dict[int, ChatState] = {}
        self._callbacks: collections.OrderedDict[str, tuple[str, str]] = collections.OrderedDict()
        self._rated: set[str] = set()
        self._keys = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self.rasa: RasaClient | None = None
        self.application: Application | None = None
        self.pushes: PushPump | None = None
        self._push_parts: dict[int, int] = {}  # notification id → parts Telegram already accepted

    # --- wiring ------------------------------------------------------------------------------

    def build_application(self) -> Application:
        s = self.settings
        application = (
            Application.builder()
            .token(s.token)
            .base_url(s.api_url)
            .base_file_url(s.file_url)
            .job_queue(None)
            .post_init(self._post_init)
            .post_stop(self._post_stop)
            .post_shutdown(self._post_shutdown)
            .build()
        )
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
        self.application = application
        return application

    async def _post_init(self, application: Application) -> None:
        await self.open()
        try:
            await with_retry(
                lambda: application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS]), attempts=3
            )
        except Exception as err:  # the menu of commands is a nicety
            log.warning("could not set the bot's commands: %s", err)
        self.start_pushes()

    async def _post_stop(self, application: Application) -> None:
        await self.stop_tasks()

    async def _post_shutdown(self, application: Application) -> None:
        await self.close()

    def start_pushes(self) -> None:
        """Start delivering queued notifications (needs the store)."""
        if self.store is None:
            log.warning("no store: pushed messages (staff replies, status changes) are off")
            return
        if self.pushes is None:
            self.pushes = PushPump(
                self, self.store.notifications, interval=self.settings.notify_interval,
                max_attempts=self.settings.notify_max_attempts,
            )
        self.pushes.start()

    async def stop_tasks(self) -> None:
        """Stop the push pump and the chats' workers (before the bot's HTTP client closes)."""
        if self.pushes is not None:
            await self.pushes.stop()
        pending = sum(len(c.jobs) for c in self.chats.values())
        if pending:
            log.warning("stopping with %d message(s) not yet answered", pending)
        workers = [c.worker for c in self.chats.values() if c.worker and not c.worker.done()]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def open(self) -> None:
        """Open the HTTP session to Rasa and the store (migrated)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self.rasa = RasaClient(
                self._session, self.settings.rasa_url, auth_token=self.settings.rasa_auth_token,
                action_health_url=self.settings.action_health_url, timeout=self.settings.rasa_timeout,
            )
        if self.store is None and self.settings.store_url:
            self.store = await asyncio.to_thread(Store.from_url, self.settings.store_url)
        if self.sealer is None:
            if self.settings.var_dir is not None:
                self.sealer = await asyncio.to_thread(Sealer.from_env, self.settings.var_dir)
            else:  # no key directory configured: answers kept now can be read by this run only
                self.sealer = Sealer(Fernet.generate_key())

    async def close(self) -> None:
        await self.stop_tasks()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def start_polling(self) -> Application:
        """Start the application and long polling inside a running event loop (tests, launchers)."""
        application = self.application or self.build_application()
        await application.initialize()
        await self._post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=self.settings.poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        return application

    async def start_webhook(self) -> Application:
        """Start the application and its webhook server (settings ``webhook_*``) inside a running
        event loop; sets the webhook at the Bot API with the secret token."""
        s = self.settings
        if not s.webhook:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL")
        application = self.application or self.build_application()
        await application.initialize()
        await self._post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(**self.webhook_options())
        return application

    def webhook_options(self) -> dict[str, Any]:
        s = self.settings
        return {
            "listen": s.webhook_listen, "port": s.webhook_port, "url_path": s.webhook_path,
            "webhook_url": s.webhook_url, "secret_token": s.webhook_secret,
            "allowed_updates": Update.ALL_TYPES, "bootstrap_retries": 5,
        }

    async def stop_polling(self) -> None:
        """Stop what :meth:`start_polling` or :meth:`start_webhook` started."""
        application = self.application
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await self.stop_tasks()
        if application.running:
            await application.stop()
        await application.shutdown()
        await self.close()

    stop = stop_polling

    @property
    def bot(self) -> TelegramBot:
        assert self.application is not None, "build the application first"
        return self.application.bot

    # --- per-chat queue and flood limit ------------------------------------------------------

    def state(self, chat_id: int) -> ChatState:
        return self.chats.setdefault(chat_id, ChatState())

    def admit(self, chat_id: int) -> bool:
        """Count a message against the chat's flood limit; False (and one warning) when over it."""
        state = self.state(chat_id)
        now = time.monotonic()
        while state.recent and now - state.recent[0] > self.settings.flood_seconds:
            state.recent.popleft()
        if len(state.recent) >= self.settings.flood_messages:
            if not state.flood_warned:
                state.flood_warned = True
                log.info("chat %s is over the flood limit", chat_id)
                self._notify(chat_id, texts.FLOOD)
            return False
        state.flood_warned = False
        state.recent.append(now)
        return True

    def _notify(self, chat_id: int, text: str) -> None:
        """Send ``text`` now, ahead of the chat's queue (failures are logged)."""

        async def send() -> None:
            try:
                await self.send_text(chat_id, text)
            except Exception as err:
                log.warning("chat %s: notice not sent: %s", chat_id, err)

        asyncio.get_running_loop().create_task(send())

    def enqueue(self, chat_id: int, job: Job, said: str = "") -> None:
        state = self.state(chat_id)
        if state.waiting:  # the assistant is down: say the message is kept, not lost
            if said and looks_like_emergency(said):  # an emergency must not wait for the assistant
                self._notify(chat_id, self.recovery_text(said))
            else:
                self._notify(chat_id, texts.KEPT)
        state.jobs.append(job)
        if state.worker is None or state.worker.done():
            state.worker = asyncio.get_running_loop().create_task(self._drain(chat_id, state))

    async def _drain(self, chat_id: int, state: ChatState) -> None:
        while state.jobs:
            job = state.jobs[0]
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("chat %s: a message could not be handled", chat_id)
            state.jobs.popleft()

    def _accept(self, update: Update, job: Job, said: str = "") -> None:
        chat = update.effective_chat
        if chat is None:
            return
        if self.admit(chat.id):
            self.enqueue(chat.id, job, said)

    # --- sending -----------------------------------------------------------------------------

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

    async def send_speech(self, chat_id: int, text: str) -> Message | None:
        """Say ``text`` (rewritten for the ear) as a voice message; None if there is nothing to say
        or no synthesiser. Failures are logged, not raised: the text has gone out already."""
        if self.synthesizer is None:
            return None
        spoken = speech_text(text)[:MAX_TEXT_CHARS]
        if not spoken.strip():
            return None
        try:
            wav = await self.synthesizer.synthesize_async(spoken)
            ogg, seconds = await asyncio.to_thread(_wav_to_ogg, wav)
        except VoiceError as err:
            log.warning("chat %s: no voice reply: %s", chat_id, err)
            return None
        return await with_retry(lambda: self.bot.send_voice(chat_id, voice=ogg, duration=seconds))

    def _remember(self, value: tuple[str, str]) -> str:
        key = str(next(self._keys))
        self._callbacks[key] = value
        while len(self._callbacks) > MAX_CALLBACKS:
            self._callbacks.popitem(last=False)
        return key

    def _keyboard(self, answer: dict[str, Any], question: str, text: str) -> InlineKeyboardMarkup | None:
        rows = []
        for button in answer.get("buttons") or []:
            title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
            if title and payload:
                data = "b:" + self._remember((payload, title))
                rows.append([InlineKeyboardButton(title, callback_data=data)])
        if texts.is_substantive(text):
            key = self._remember((question, text))
            rows.append([
                InlineKeyboardButton("👍 有用", callback_data=f"r:up:{key}"),
                InlineKeyboardButton("👎 没用", callback_data=f"r:down:{key}"),
            ])
        return InlineKeyboardMarkup(rows) if rows else None

    async def deliver(
        self, chat_id: int, answers: list[dict[str, Any]], *, question: str, spoke: bool,
        rate: bool = True, empty: str = texts.NOT_UNDERSTOOD,
    ) -> None:
        """Show Rasa's answers; in 长辈模式 only the first, shortened; speak them when asked.
        Holds the chat's send lock: a pushed message never cuts into an answer."""
        state = self.state(chat_id)
        if not answers:
            answers = [{"text": empty}]
        if state.elder:
            answers = [{**answers[0], "text": texts.shorten_for_elders(str(answers[0].get("text") or ""))}]
        async with state.sending:
            said = []
            for number, answer in enumerate(answers):
                text = str(answer.get("text") or "").strip()
                markup = self._keyboard(answer, question, text if rate else "")
                parts = texts.split_message(text or "请选择：")
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
                            str(a.get("text") or "").strip() for a in answers[number + 1 :]
                        ]
                        await self.keep_answers(chat_id, [r for r in rest if r], question, err)
                        return
                if text:
                    said.append(text)
            if said and (spoke or state.voice):
                try:
                    await self.send_speech(chat_id, "\n".join(said))
                except Exception as err:  # the text went out: the voice version is a nicety
                    log.warning("chat %s: voice reply not sent: %s", chat_id, err)

    async def keep_answers(self, chat_id: int, kept: list[str], question: str, error: Exception) -> None:
        """Telegram would not take an answer: keep what was not sent (sealed: answers can hold
        what the resident told us) as notifications of kind ``answer``, delivered with the
        pushed messages once Telegram is back."""
        if not kept:
            return
        if self.store is None or self.sealer is None:
            log.error("chat %s: answer not delivered (%s) and no store to keep it in", chat_id, error)
            return
        notifications, sealer = self.store.notifications, self.sealer
        heading = texts.LATE_ANSWER.format(question=texts.clip(question, 30))
        bodies = [heading + "\n" + kept[0], *kept[1:]] if question else kept

        def keep() -> None:
            for body in bodies:
                notifications.notify(CHANNEL, sender_id(chat_id), sealer.seal(body), kind="answer")

        try:
            await asyncio.to_thread(keep)
        except Exception as err:
            log.error(
                "chat %s: answer not delivered (%s) and not kept either (%s)",
                chat_id, error, type(err).__name__,
            )
            return
        log.warning(
            "chat %s: Telegram unavailable (%s); %d answer(s) kept for later", chat_id, error, len(bodies)
        )

    def recovery_text(self, said: str) -> str:
        """What the resident reads while the assistant cannot answer (emergencies first)."""
        return "\n".join(recovery_reply(said, self.settings.community_phone).lines)

    async def ask(
        self, chat_id: int, message: str, *, said: str = "", **metadata: str
    ) -> list[dict[str, Any]]:
        """Rasa's answers; while Rasa or the actions are down, give the recovery reply once (for
        ``said``, what the resident wrote: an emergency gets 119/110/120 first) and retry with
        backoff."""
        assert self.rasa is not None, "open() the channel first"
        delay = self.settings.retry_first_delay
        state = self.state(chat_id)
        try:
            while True:
                try:
                    answers = await self.rasa.send(sender_id(chat_id), message, **metadata)
                except AssistantUnavailable as err:
                    log.warning("chat %s: assistant unavailable (%s); retry in %.1f s", chat_id, err, delay)
                    if not state.waiting:
                        state.waiting = True
                        await self.send_text(chat_id, self.recovery_text(said or message))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.settings.retry_max_delay)
                    continue
                if state.waiting:
                    log.info("chat %s: assistant back, answering the kept message", chat_id)
                return answers
        finally:
            state.waiting = False

    async def route(
        self, chat_id: int, message: str, *, question: str, spoke: bool = False,
        rate: bool = True, empty: str | None = None, **meta: str,
    ) -> None:
        """Ask Rasa and show its answers. No answer: while staff hold the chat, say so; else
        ``empty`` if given, or the recovery reply (the assistant failed to answer)."""
        answers = await self.ask(chat_id, message, said=question, **meta)
        if not answers:
            if await self.with_staff(chat_id):
                empty, rate = texts.HELD, False  # the assistant is silent while staff hold the chat
            elif empty is None:
                log.warning("chat %s: the assistant gave no answer; recovery reply", chat_id)
                empty, rate = self.recovery_text(question), False
        await self.deliver(
            chat_id, answers, question=question, spoke=spoke, rate=rate, empty=empty or texts.NOT_UNDERSTOOD
        )

    async def with_staff(self, chat_id: int) -> bool:
        """Whether a staff member holds this chat in the handoff inbox."""
        if self.store is None:
            return False
        handoffs = self.store.handoffs
        try:
            return await asyncio.to_thread(lambda: handoffs.held(sender_id(chat_id)) is not None)
        except Exception as err:  # the store is away: say nothing special
            log.warning("handoff state unknown: %s", type(err).__name__)
            return False

    # --- pushed messages ---------------------------------------------------------------------

    async def push(self, conversation: int | str, text: str, *, staff: bool = True) -> list[Message]:
        """Send a staff reply (``staff=True``) or a status text to a chat (id or ``tg-<id>``);
        also spoken when the resident chose voice replies."""
        chat_id = chat_id_of(conversation)
        body = texts.STAFF_REPLY.format(text=text) if staff else text
        state = self.state(chat_id)
        async with state.sending:
            sent = await self.send_text(chat_id, body)
            if state.voice:
                await self._say_pushed(chat_id, text)
        return sent

    async def push_notification(self, chat_id: int, row: dict[str, Any]) -> None:
        """Send one queued notification (a row of ``notifications``) to its chat; returns once
        Telegram accepted all of its text, raises otherwise. A part already accepted is not sent
        again when the row is retried. Spoken too when the chat has voice replies on."""
        row_id = int(row["id"])
        text = str(row.get("text") or "")
        if is_sealed(text):  # a kept answer
            unsealed = self.sealer.unseal(text) if self.sealer is not None else None
            if unsealed is None:  # sealed with a key this run does not have
                raise ValueError("kept answer sealed with another key")
            text = str(unsealed)
        body = texts.notification_text(str(row.get("kind") or ""), text, resend=bool(row.get("resend")))
        parts = texts.split_message(body) if body else []
        state = self.state(chat_id)
        async with state.sending:
            for index in range(self._push_parts.get(row_id, 0), len(parts)):
                await with_retry(lambda p=parts[index]: self.bot.send_message(chat_id, p))
                self._push_parts[row_id] = index + 1
            self._push_parts.pop(row_id, None)
            if body and state.voice:
                await self._say_pushed(chat_id, body)
        log.info("chat %s: notification %s (%s) delivered", chat_id, row_id, row.get("kind"))

    async def _say_pushed(self, chat_id: int, text: str) -> None:
        """The voice version of a pushed message: its text has gone out, so failures are logged."""
        try:
            await self.send_speech(chat_id, text)
        except Exception as err:
            log.warning("chat %s: voice version of a pushed message not sent: %s", chat_id, err)

    # --- handlers ----------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.send_text(chat_id, texts.WELCOME, menu_keyboard()))

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.send_text(chat_id, texts.HELP, menu_keyboard()))

    async def on_elder(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]

        async def toggle() -> None:
            state = self.state(chat_id)
            state.elder = not state.elder
            state.voice = state.elder
            await self.send_text(chat_id, texts.ELDER_ON if state.elder else texts.ELDER_OFF, menu_keyboard())

        self._accept(update, toggle)

    async def on_voice_toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]

        async def toggle() -> None:
            state = self.state(chat_id)
            state.voice = not state.voice
            await self.send_text(chat_id, texts.VOICE_ON if state.voice else texts.VOICE_OFF)

        self._accept(update, toggle)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]

        # The ``cancel`` intent leaves any form; the assistant's own reply is shown (not rated).
        # Like any message it is kept and sent when Rasa is back, if Rasa is down.
        self._accept(
            update,
            lambda: self.route(chat_id, CANCEL_INTENT, question="/cancel", rate=False, empty=texts.CANCELLED),
        )

    async def on_myrequests(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        self._accept(update, lambda: self.my_requests(chat_id))

    async def my_requests(self, chat_id: int) -> None:
        """/myrequests: the newest of the resident's service requests with their status."""
        shown = self.settings.my_requests_shown
        if self.state(chat_id).elder:
            shown = min(shown, 3)
        if self.store is None:
            await self.send_text(chat_id, texts.REQUESTS_UNAVAILABLE, menu_keyboard())
            return
        try:
            rows = await asyncio.to_thread(
                self.store.requests.list, conversation_id=sender_id(chat_id), limit=shown + 1
            )
        except Exception as err:  # the database is down
            log.warning("chat %s: requests not read: %s", chat_id, type(err).__name__)
            await self.send_text(chat_id, texts.REQUESTS_UNAVAILABLE, menu_keyboard())
            return
        text = texts.format_requests(rows[:shown], more=len(rows) > shown)
        async with self.state(chat_id).sending:
            await self.send_text(chat_id, text, menu_keyboard())

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None or not message.text:
            return
        chat_id, text = update.effective_chat.id, message.text.strip()
        payload = texts.MENU.get(text, text)
        self._accept(update, lambda: self.route(chat_id, payload, question=text), said=text)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None or update.effective_message is None:
            return
        chat_id = update.effective_chat.id
        self._accept(update, lambda: self.send_text(chat_id, texts.ONLY_TEXT_OR_VOICE))

    async def on_voice_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        audio = message.voice or message.audio
        if audio is None:
            return
        chat_id = update.effective_chat.id
        self._accept(update, lambda: self.hear(chat_id, audio.file_id, audio.duration))

    async def hear(self, chat_id: int, file_id: str, duration: Any = None) -> None:
        """A voice message: download, decode, recognise, echo, then answer like text."""
        if self.recognizer is None:
            await self.send_text(chat_id, texts.VOICE_UNAVAILABLE)
            return
        limit = self.settings.max_voice_seconds
        seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
        if seconds is not None and float(seconds) > limit:
            await self.send_text(chat_id, texts.VOICE_TOO_LONG)
            return
        telegram_file = await with_retry(lambda: self.bot.get_file(file_id))
        data = bytes(await with_retry(telegram_file.download_as_bytearray))
        try:
            pcm = await asyncio.to_thread(decode_audio, data, max_seconds=limit)
        except VoiceError as err:
            log.info("chat %s: voice message rejected: %s", chat_id, err.code)
            await self.send_text(chat_id, texts.VOICE_TOO_LONG if err.code == "too-long" else texts.VOICE_BAD)
            return
        try:
            final = await asyncio.to_thread(transcribe_pcm, self.recognizer, pcm)
        except VoiceError as err:
            log.warning("chat %s: recognition failed: %s", chat_id, err)
            await self.send_text(chat_id, texts.VOICE_FAILED)
            return
        heard = normalize_asr_text(final.text)
        if not heard:
            await self.send_text(chat_id, texts.VOICE_NOT_HEARD)
            return
        await self.send_text(chat_id, texts.HEARD.format(text=heard))
        await self.route(chat_id, heard, question=heard, spoke=True, input="voice")

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        chat_id, data = update.effective_chat.id, query.data or ""
        if data.startswith("r:"):
            await self.rate(chat_id, query.id, data)
            return
        entry = self._callbacks.get(data[2:]) if data.startswith("b:") else None
        if entry is None:
            await with_retry(lambda: query.answer(texts.BUTTON_EXPIRED))
            return
        await with_retry(query.answer)
        payload, title = entry
        self._accept(update, lambda: self.route(chat_id, payload, question=title))

    async def rate(self, chat_id: int, query_id: str, data: str) -> None:
        _, rating, key = (data.split(":", 2) + ["", ""])[:3]
        entry = self._callbacks.get(key)
        if rating not in ("up", "down") or entry is None:
            reply = texts.BUTTON_EXPIRED
        elif key in self._rated:
            reply = texts.RATED_ALREADY
        elif self.store is None:
            reply = texts.RATING_FAILED
        else:
            question, answer = entry
            try:
                await asyncio.to_thread(
                    self.store.ratings.record, conversation_id=sender_id(chat_id), channel=CHANNEL,
                    question=question, answer=answer, rating=rating,
                )
            except Exception as err:  # the database is down or refused the row
                log.warning("rating not stored: %s", type(err).__name__)
                reply = texts.RATING_FAILED
            else:
                self._rated.add(key)
                reply = texts.RATED_UP if rating == "up" else texts.RATED_DOWN
        await with_retry(lambda: self.bot.answer_callback_query(query_id, reply))


def _wav_to_ogg(wav: bytes) -> tuple[bytes, int]:
    audio = read_wav(wav)
    pcm = audio.pcm if audio.channels == 1 else decode_audio(wav, max_seconds=3600)
    rate = audio.sample_rate if audio.channels == 1 else 16000
    return encode_ogg_opus(pcm, rate), max(int(round(audio.duration)), 1)


async def push_text(
    settings: TelegramSettings, conversation: int | str, text: str, *, staff: bool = True
) -> None:
    """Push a message to a chat from another process (the staff console): no polling needed."""
    body = texts.STAFF_REPLY.format(text=text) if staff else text
    async with TelegramBot(settings.token, base_url=settings.api_url, base_file_url=settings.file_url) as bot:
        for part in texts.split_message(body):
            await with_retry(lambda p=part: bot.send_message(chat_id_of(conversation), p))
