"""`python -m bot.telegram` run as a process against the fake Bot API and the fake Rasa."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.fake_telegram_api import FakeRasa, FakeTelegram
from tests.support.telegram import TOKEN, Harness
from tools.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


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
