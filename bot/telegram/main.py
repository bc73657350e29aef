"""Start-up of the Telegram front end: settings, speech engines, then long polling (the default)
or, with ``TELEGRAM_WEBHOOK_URL``, a webhook server."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram import Update

from bot.telegram.app import TelegramChannel
from bot.telegram.settings import TelegramSettings
from community.privacy import install_log_masking
from voice.asr import Recognizer, VoskRecognizer, find_vosk_model
from voice.errors import VoiceError
from voice.settings import VoiceSettings
from voice.tts import Pyttsx3Synthesizer, Synthesizer

log = logging.getLogger("bot.telegram")


def load_recognizer(settings: VoiceSettings) -> Recognizer | None:
    """Vosk with the Chinese model, or None (voice messages then get a polite text reply)."""
    path = find_vosk_model(settings.vosk_model_path)
    if path is None:
        where = settings.vosk_model_path
        log.info("no Chinese Vosk model at %s: voice messages will get a text reply", where)
        return None
    try:
        return VoskRecognizer(path)
    except VoiceError as err:
        log.warning("speech recognition is off: %s", err)
        return None


def load_synthesizer(settings: VoiceSettings) -> Synthesizer | None:
    synthesizer = Pyttsx3Synthesizer.from_settings(settings)
    try:
        synthesizer.start()
    except VoiceError as err:
        log.warning("voice replies are off: %s", err)
        synthesizer.close()
        return None
    return synthesizer


def main() -> int:
    install_log_masking()
    settings = TelegramSettings.from_env()
    if not settings.enabled:
        log.info("TELEGRAM_BOT_TOKEN is not set: Telegram is off")
        return 0
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    voice_settings = VoiceSettings.from_env()
    channel = TelegramChannel(
        settings, recognizer=load_recognizer(voice_settings), synthesizer=load_synthesizer(voice_settings)
    )
    application = channel.build_application()
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
        if channel.synthesizer is not None:
            channel.synthesizer.close()
    return 0
