"""Fixtures for the end-to-end tests (tests/support/)."""

from tests.support.console import *  # noqa: F401,F403
from tests.support.review import *  # noqa: F401,F403
from tests.support.telegram import *  # noqa: F401,F403
from tests.support.voice import *  # noqa: F401,F403
