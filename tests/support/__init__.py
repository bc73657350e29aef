"""What the tests share: fixtures by area (imported by the conftest.py files of tests/unit and
tests/e2e), fakes at the edge of the machine (Telegram's Bot API, SIPp scripts), a browser and a
private PostgreSQL."""
