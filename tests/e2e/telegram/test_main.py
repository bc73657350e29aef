"""`python -m bot.telegram` as a process: off without a token, polling the (fake) Bot API with one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.fake_telegram_api import FakeRasa, FakeTelegram, text_update
from tests.support.telegram import TOKEN, Harness, started_fakes
from tools.stack import free_port

ROOT = Path(__file__).resolve().parents[3]


def run_module(env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.telegram"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, **kwargs,
    )


def module_env(api: FakeTelegram, rasa: FakeRasa, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of `python -m bot.telegram` against the fakes, with a store in ``tmp_path``."""
    return {
        **os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": f"{api.url}/bot",
        "RASA_PORT": rasa.url.rsplit(":", 1)[1],
        "ACTION_PORT": str(free_port()), "WEB_PORT": str(free_port()),
        "VAR_DIR": str(tmp_path), "DATABASE_URL": "", "VOSK_MODEL_PATH": str(tmp_path / "no-model"),
        **extra,
    }


def stop_module(process: subprocess.Popen, harness: Harness) -> str:
    """Stop the process as Ctrl-C would, then the fakes; the process's output."""
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    harness.run(harness.api.stop())
    if harness.rasa is not None:
        harness.run(harness.rasa.stop())
    return out


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
