"""``python -m bot.console create-user NAME --role staff|admin`` and other account commands."""

import sys

from bot.console.cli import main

sys.exit(main())
