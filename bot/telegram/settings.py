"""Settings of the Telegram channel, read from the environment (a ``.env`` file too).

| Variable | Default | Meaning |
|---|---|---|
| ``TELEGRAM_BOT_TOKEN`` | – | the bot's token; without it the channel is off |
| ``TELEGRAM_API_URL`` | ``https://api.telegram.org/bot`` | Bot API base URL (the token is appended) |
| ``TELEGRAM_FILE_URL`` | derived from the API URL (``…/file/bot``) | base URL for file downloads |
| ``TELEGRAM_FLOOD_MESSAGES`` / ``TELEGRAM_FLOOD_SECONDS`` | 10 / 10 | per-chat flood limit |
| ``TELEGRAM_NOTIFY_INTERVAL`` | 1 | seconds between looks at the store for pushed messages |
| ``TELEGRAM_NOTIFY_MAX_ATTEMPTS`` | 8 | times Telegram may refuse a pushed message before it is given up |
| ``TELEGRAM_WEBHOOK_URL`` | – | public HTTPS URL for updates: set → webhook mode, else polling |
| ``TELEGRAM_WEBHOOK_SECRET`` | – | needed with a webhook URL: ``secret_token``, 1–256 of A-Z a-z 0-9 _ - |
| ``TELEGRAM_WEBHOOK_LISTEN`` | 127.0.0.1 | address the webhook server listens on (behind a proxy) |
| ``TELEGRAM_WEBHOOK_PORT`` | 8443 | port the webhook server listens on |
| ``TELEGRAM_WEBHOOK_PATH`` | the URL's path | the path the webhook server serves, when a proxy rewrites it |

Rasa's address, its token, the store, the community's phone number (told while the assistant
is down) and the directory of the sealing key come from :class:`community.settings.Settings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from community.config import environment, read_section, text
from community.settings import Settings

DEFAULT_API_URL = "https://api.telegram.org/bot"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def file_url_for(api_url: str) -> str:
    """The file-download base URL that goes with a Bot API base URL (``…/bot`` → ``…/file/bot``)."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def _positive(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    api_url: str = DEFAULT_API_URL
    file_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: str = ""
    action_health_url: str = "http://127.0.0.1:5055/health"
    store_url: str = ""
    flood_messages: int = 10
    flood_seconds: float = 10.0
    retry_first_delay: float = 1.0  # seconds before the first retry of a message Rasa could not answer
    retry_max_delay: float = 30.0
    rasa_timeout: float = 30.0
    max_voice_seconds: float = 60.0
    poll_timeout: int = 10  # long polling: seconds getUpdates may wait
    notify_interval: float = 1.0  # seconds between looks at the notifications table
    notify_max_attempts: int = 8  # refusals (4xx) of one pushed message before it is given up
    community_phone: str = Settings.community_phone
    var_dir: Path | None = None  # where the key sealing kept answers lives (None: a key per run)
    catalogue_dir: Path | None = None  # the service catalogue (short answers); None: answers shown whole
    my_requests_shown: int = 5  # /myrequests: how many of the newest requests are listed
    webhook_url: str = ""  # set: webhook mode; empty: long polling
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = ""  # default: the path of webhook_url

    def __post_init__(self) -> None:
        if not self.api_url.startswith(("http://", "https://")):
            raise ValueError(f"TELEGRAM_API_URL must be an http(s) URL, got {self.api_url!r}")
        if not self.file_url:
            object.__setattr__(self, "file_url", file_url_for(self.api_url))
        if self.flood_messages < 1 or self.flood_seconds <= 0:
            raise ValueError("the flood limit needs at least one message per positive number of seconds")
        if not 0 < self.retry_first_delay <= self.retry_max_delay:
            raise ValueError("need 0 < retry_first_delay <= retry_max_delay")
        if self.rasa_timeout <= 0 or self.max_voice_seconds <= 0 or self.poll_timeout < 0:
            raise ValueError("timeouts and the voice limit must be positive")
        if self.notify_interval <= 0 or self.my_requests_shown < 1 or self.notify_max_attempts < 1:
            raise ValueError("the notification interval and the number of requests shown must be positive")
        if self.webhook_url:
            if not self.webhook_url.startswith(("http://", "https://")):
                raise ValueError(f"TELEGRAM_WEBHOOK_URL must be an http(s) URL, got {self.webhook_url!r}")
            if not _SECRET.fullmatch(self.webhook_secret):
                raise ValueError(
                    "webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -"
                )
            if not self.webhook_path:
                object.__setattr__(self, "webhook_path", urlsplit(self.webhook_url).path)
        object.__setattr__(self, "webhook_path", self.webhook_path.strip("/"))
        if not 0 < self.webhook_port < 65536:
            raise ValueError(f"TELEGRAM_WEBHOOK_PORT must be between 1 and 65535, got {self.webhook_port}")

    @property
    def enabled(self) -> bool:
        return bool(self.token.strip())

    @property
    def webhook(self) -> bool:
        """Webhook mode (updates posted to us) rather than long polling."""
        return bool(self.webhook_url)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TelegramSettings:
        env = environment() if env is None else env
        core = Settings.from_env(env)
        return read_section(
            cls,
            env,
            {
                "token": ("TELEGRAM_BOT_TOKEN", text),
                "api_url": ("TELEGRAM_API_URL", text),
                "file_url": ("TELEGRAM_FILE_URL", text),
                "flood_messages": ("TELEGRAM_FLOOD_MESSAGES", lambda raw: int(_positive(raw))),
                "flood_seconds": ("TELEGRAM_FLOOD_SECONDS", _positive),
                "notify_interval": ("TELEGRAM_NOTIFY_INTERVAL", _positive),
                "notify_max_attempts": ("TELEGRAM_NOTIFY_MAX_ATTEMPTS", lambda raw: int(_positive(raw))),
                "webhook_url": ("TELEGRAM_WEBHOOK_URL", text),
                "webhook_secret": ("TELEGRAM_WEBHOOK_SECRET", text),
                "webhook_listen": ("TELEGRAM_WEBHOOK_LISTEN", text),
                "webhook_port": ("TELEGRAM_WEBHOOK_PORT", lambda raw: int(_positive(raw))),
                "webhook_path": ("TELEGRAM_WEBHOOK_PATH", text),
            },
            rasa_url=core.rasa_url,
            rasa_auth_token=core.rasa_auth_token,
            action_health_url=core.action_url.rsplit("/", 1)[0] + "/health",
            store_url=core.store_url,
            community_phone=core.community_phone,
            var_dir=core.var_dir,
            catalogue_dir=core.catalogue_dir,
        )
