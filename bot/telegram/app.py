"""The Telegram front end: a python-telegram-bot v22 application wired to the resident service.

Only wiring and lifecycle live here. What the bot does is in its own modules:

* :mod:`.handlers`: updates (commands, text, voice notes, button taps) → the resident service,
  and PTB's error handler;
* :mod:`.conversation`: one message through :meth:`ResidentService.ask`, kept and asked again
  while the assistant is unavailable;
* :mod:`.queues`: per-chat ordering and the flood limit;
* :mod:`.delivery`: sending (retries, long texts, the send lock, answers kept while Telegram is
  down); :mod:`.keyboards` and :mod:`.voice` for what it sends;
* :mod:`.pushes`: queued notifications (staff replies, status changes, kept answers).

Inline buttons carry their data through PTB's ``arbitrary_callback_data`` cache. Long polling
(:meth:`TelegramChannel.start_polling`) or a webhook (:meth:`TelegramChannel.start_webhook`).
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.fernet import Fernet
from telegram import BotCommand, Update
from telegram.ext import Application

from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from bot.telegram.chats import Chats
from bot.telegram.delivery import Delivery
from bot.telegram.handlers import Handlers, commands
from bot.telegram.pushes import PushPump
from bot.telegram.retry import with_retry
from bot.telegram.settings import TelegramSettings
from community.catalogue import Catalogue
from community.sealed import Sealer
from community.settings import Settings
from community.store import Store
from voice.asr import Recognizer
from voice.tts import Synthesizer

log = logging.getLogger(__name__)

CALLBACK_KEYBOARDS = 5000  # inline keyboards whose button data PTB keeps (older ones expire)


class TelegramChannel:
    def __init__(
        self,
        settings: TelegramSettings,
        *,
        store: Store,
        recognizer: Recognizer | None = None,
        synthesizer: Synthesizer | None = None,
        sealer: Sealer | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rasa = RasaClient(
            settings.rasa_url, token=settings.rasa_auth_token,
            action_health_url=settings.action_health_url, timeout=settings.rasa_timeout,
        )
        core = Settings(
            community_phone=settings.community_phone, var_dir=settings.var_dir or Settings.var_dir
        )
        self.service = ResidentService(core, self.rasa, store, recognizer=recognizer, synthesizer=synthesizer)
        self.application: Application = (
            Application.builder()
            .token(settings.token)
            .base_url(settings.api_url)
            .base_file_url(settings.file_url)
            .arbitrary_callback_data(CALLBACK_KEYBOARDS)
            .job_queue(None)
            .post_init(self._post_init)
            .post_stop(self._post_stop)
            .post_shutdown(self._post_shutdown)
            .build()
        )
        # Without a key directory, answers kept now can be read by this run only.
        sealer = sealer or Sealer(Fernet.generate_key())
        self.chats = Chats()
        # With the catalogue, a service's answer is spoken (and shown in 长辈模式) as its essentials.
        self.delivery = Delivery(
            self.application.bot, self.chats, self.service, store.notifications, sealer, catalogue
        )
        self.handlers = Handlers(settings, self.service, self.delivery, self.chats, store.requests)
        self.handlers.install(self.application)
        self.pushes = PushPump(
            self.delivery.notification, store.notifications,
            interval=settings.notify_interval, max_attempts=settings.notify_max_attempts,
        )

    # --- lifecycle (PTB's hooks when it runs the loop; called by start/stop otherwise) --------

    async def _post_init(self, application: Application) -> None:
        menu = [BotCommand(c, d) for c, d in commands(self.service.can_speak)]
        try:
            await with_retry(lambda: application.bot.set_my_commands(menu), attempts=3)
        except Exception as err:  # the menu of commands is a nicety
            log.warning("could not set the bot's commands: %s", type(err).__name__)
        self.pushes.start()

    async def _post_stop(self, application: Application) -> None:
        await self.stop_tasks()

    async def _post_shutdown(self, application: Application) -> None:
        await self.close()

    async def stop_tasks(self) -> None:
        """Stop the push pump and the chats' workers (before the bot's HTTP client closes)."""
        await self.pushes.stop()
        await self.handlers.queues.stop()

    async def close(self) -> None:
        await self.stop_tasks()
        await self.rasa.close()

    async def start_polling(self) -> Application:
        """Start the application and long polling inside a running event loop (tests, launchers)."""
        application = self.application
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
        if not self.settings.webhook:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL")
        application = self.application
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
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await self.stop_tasks()
        if application.running:
            await application.stop()
        await application.shutdown()
        await self.close()

    stop = stop_polling

