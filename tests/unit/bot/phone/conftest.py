"""The phone line's harness (tests/support/phone.py): SIPp calls against the channel."""

from tests.support.phone import *  # noqa: F401,F403
