"""Start-up of the Telegram front end: settings, the store, speech engines, then long polling (the default)
or, with ``TELEGRAM_WEBHOOK_URL``, a webhook server."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram import Update

from bot.telegram.app import TelegramChannel
from bot.telegram.settings import TelegramSettings
from community.catalogue import load_catalogue
from community.privacy import install_log_masking
from community.sealed import Sealer
from community.store import Store
from voice.asr import load_recognizer
from voice.settings import VoiceSettings
from voice.tts import load_synthesizer

log = logging.getLogger("bot.telegram")


def main() -> int:
    install_log_masking()
    settings = TelegramSettings.from_env()
    if not settings.enabled:
        log.info("TELEGRAM_BOT_TOKEN is not set: Telegram is off")
        return 0
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    voice_settings = VoiceSettings.from_env()
    store = Store.from_url(settings.store_url)  # migrated before the first update
    sealer = Sealer.from_env(settings.var_dir) if settings.var_dir is not None else None
    catalogue = load_catalogue(settings.catalogue_dir) if settings.catalogue_dir is not None else None
    channel = TelegramChannel(
        settings, store=store, sealer=sealer, catalogue=catalogue,
        recognizer=load_recognizer(voice_settings.vosk_model_path),
        synthesizer=load_synthesizer(voice_settings),
    )
    application = channel.application
    try:
        if settings.webhook:
            log.info(  # the host only: a webhook path may hold a secret
                "Telegram channel is running (webhook at %s, listening on %s:%s)",
                urlsplit(settings.webhook_url).netloc, settings.webhook_listen, settings.webhook_port,
            )
            application.run_webhook(**channel.webhook_options())
        else:
            log.info("Telegram channel is running (long polling %s…)", settings.api_url)
            application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=settings.poll_timeout)
    finally:
        if channel.service.synthesizer is not None:
            channel.service.synthesizer.close()
        store.engine.dispose()
    return 0
