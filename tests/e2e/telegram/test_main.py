"""`python -m bot.telegram` as a process: off without a token, polling the (fake) Bot API with one."""

from __future__ import annotations

import os

from tests.support.fake_telegram_api import text_update
from tests.support.telegram import TOKEN, started_fakes
from tests.support.telegram_process import module_env, run_module, stop_module


def test_without_a_token_telegram_is_off_and_exits_0(tmp_path):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "VAR_DIR": str(tmp_path)}
    process = run_module(env)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Telegram is off" in out


def test_the_module_polls_the_bot_api_and_answers(loop, tmp_path):
    harness = started_fakes(loop)
    api, rasa = harness.api, harness.rasa
    assert rasa is not None
    process = run_module(module_env(api, rasa, tmp_path))
    try:
        harness.send(text_update(55, "老年食堂在哪"))
        harness.wait_text("答：老年食堂在哪", timeout=60)
    finally:
        out = stop_module(process, harness)
    assert process.returncode == 0, out
    assert TOKEN not in out  # the token is never logged
    assert (tmp_path / "community.db").exists()  # the store was migrated at start-up
