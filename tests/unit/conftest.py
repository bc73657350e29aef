"""Fixtures for the unit tests (tests/support/); the phone's own harness is in bot/phone/."""

from tests.support.console import *  # noqa: F401,F403
from tests.support.kiosk import *  # noqa: F401,F403
from tests.support.review import *  # noqa: F401,F403
from tests.support.telegram import *  # noqa: F401,F403
from tests.support.voice import *  # noqa: F401,F403
