"""`python -m bot.webchat`: serve the resident web chat on WEB_PORT (default 8000)."""

import logging

from aiohttp import web

from bot.webchat.app import create_app
from community.privacy import install_log_masking
from community.settings import Settings

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
install_log_masking()
settings = Settings.from_env()
web.run_app(create_app(settings), host=settings.host, port=settings.web_port, print=None)
