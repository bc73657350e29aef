"""`python -m bot.telegram`: run the Telegram front end alone (long polling, or a webhook
with ``TELEGRAM_WEBHOOK_URL``)."""

import logging
import sys

from bot.telegram.main import main

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
sys.exit(main())
