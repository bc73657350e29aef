"""Webhook mode: `python -m bot.telegram` with TELEGRAM_WEBHOOK_URL sets the webhook at the (fake)
Bot API, answers updates POSTed to it with the secret token, refuses the others, and pushes."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from bot.telegram.app import TelegramChannel
from bot.telegram.settings import TelegramSettings
from community.store import Store
from tests.support.fake_telegram_api import text_update
from tests.support.telegram import TOKEN, started_fakes
from tests.support.telegram_process import module_env, run_module, stop_module
from tools.stack import free_port

SECRET = "webhook-Secret_123"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def post_update(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_module_in_webhook_mode_answers_posted_updates_and_refuses_a_wrong_secret(loop, tmp_path):
    harness = started_fakes(loop)
    api, rasa = harness.api, harness.rasa
    assert rasa is not None
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    env = module_env(
        api, rasa, tmp_path, TELEGRAM_WEBHOOK_URL=hook, TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_LISTEN="127.0.0.1", TELEGRAM_NOTIFY_INTERVAL="0.2",
    )
    process = run_module(env)
    try:
        harness.wait_for(lambda: api.webhook.get("url"), timeout=60, what="setWebhook")
        # PTB sets the webhook just before its server listens (Telegram retries; a test must wait).
        harness.wait_for(lambda: listening(port), timeout=30, what="the webhook server")
        assert api.webhook["url"] == hook and api.webhook["secret_token"] == SECRET
        assert not any(c.method == "getUpdates" for c in api.calls)  # no long polling

        assert post_update(hook, {"update_id": 1, **text_update(66, "不该回答")}, "wrong-secret") == 403
        assert post_update(hook, {"update_id": 2, **text_update(66, "也不该回答")}, None) == 403
        assert post_update(hook, {"update_id": 3, **text_update(66, "老年食堂在哪")}, SECRET) == 200
        harness.wait_text("答：老年食堂在哪", chat_id=66, timeout=30)

        # pushed messages are delivered in webhook mode too
        Store.from_url(f"sqlite:///{tmp_path / 'community.db'}", migrate=False).notifications.notify(
            "telegram", "tg-66", "您的申请已受理。", kind="status"
        )
        harness.wait_text("您的申请已受理", chat_id=66, timeout=30)
        assert api.texts(66) == ["答：老年食堂在哪", "您的申请已受理。"]
        assert [r["message"] for r in rasa.received] == ["老年食堂在哪"]  # the refused ones never arrived
    finally:
        out = stop_module(process, harness)
    assert process.returncode == 0, out
    assert TOKEN not in out and SECRET not in out
    assert "webhook at 127.0.0.1:" in out


def test_start_webhook_in_process_then_stop(loop, sqlite_url):
    """The same through TelegramChannel.start_webhook (what a launcher inside an event loop uses)."""
    harness = started_fakes(loop)
    api, rasa = harness.api, harness.rasa
    assert rasa is not None
    port = free_port()
    settings = TelegramSettings(
        token=TOKEN, api_url=f"{api.url}/bot", rasa_url=rasa.url, action_health_url=f"{rasa.url}/health",
        store_url=sqlite_url, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret=SECRET,
        webhook_port=port, notify_interval=0.2,
    )
    channel = TelegramChannel(settings, store=Store.from_url(sqlite_url))

    async def start() -> None:
        await channel.start_webhook()

    harness.run(start())
    try:
        assert api.webhook["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/hook"
        assert post_update(url, {"update_id": 7, **text_update(67, "/help")}, SECRET) == 200
        harness.wait_text("/elder", chat_id=67)
        assert post_update(url, {"update_id": 8, **text_update(67, "/help")}, SECRET[:-1]) == 403
    finally:
        harness.run(channel.stop())
        harness.run(api.stop())
        harness.run(rasa.stop())
    assert len(api.texts(67)) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.cn/tg"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.cn/tg", "TELEGRAM_WEBHOOK_SECRET": "有中文"},
         "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_URL": "bot.example.cn/tg", "TELEGRAM_WEBHOOK_SECRET": "s"}, "http"),
        ({"TELEGRAM_WEBHOOK_URL": "https://b.cn/tg", "TELEGRAM_WEBHOOK_SECRET": "s",
          "TELEGRAM_WEBHOOK_PORT": "70000"}, "TELEGRAM_WEBHOOK_PORT"),
    ],
)
def test_webhook_settings_are_checked(env, message):
    with pytest.raises(ValueError, match=message):
        TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **env})


def test_webhook_settings_default_to_polling_and_derive_the_path():
    assert not TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).webhook
    settings = TelegramSettings.from_env({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "https://bot.example.cn/tg/hook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    })
    assert settings.webhook and settings.webhook_path == "tg/hook"
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8443)
    behind_proxy = TelegramSettings.from_env({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "https://bot.example.cn/tg/hook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_WEBHOOK_PATH": "/hook", "TELEGRAM_WEBHOOK_PORT": "9000",
    })
    assert (behind_proxy.webhook_path, behind_proxy.webhook_port) == ("hook", 9000)
