"""`python -m bot.webchat`: serve the resident web chat on WEB_PORT (default 8000)."""

import logging

from aiohttp import web

from bot.webchat.app import create_app
from community.privacy import install_log_masking
from community.settings import Settings
from voice.settings import VoiceSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    install_log_masking()
    settings = Settings.from_env()
    app = create_app(settings, voice_settings=VoiceSettings.from_env())
    web.run_app(app, host=settings.host, port=settings.web_port, print=None, shutdown_timeout=5)


if __name__ == "__main__":
    main()
