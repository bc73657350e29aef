"""The core settings of every process (ports, stores, the community), and the launcher's.

Read through :mod:`community.config` (``.env`` read once; each default written once, on its
field). Every value has an embedded default, so ``make run`` works on a fresh machine with no
configuration. See ``.env.example`` for the variables.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from community.config import PROJECT_ROOT, environment, path, port, read_section, text

# Rasa's HTTP API token when RASA_AUTH_TOKEN is not set: made at first start (mode 600) and
# read from here by the project's own processes, tools and tests.
TOKEN_FILE = "rasa_auth_token"


def load_dotenv() -> None:
    """Read ``.env`` into the environment (once); kept for scripts that only need that."""
    environment()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int = 8000
    rasa_auth_token: str = ""
    database_url: str = ""
    tracker_database_url: str = ""
    var_dir: Path = PROJECT_ROOT / "var"
    catalogue_dir: Path = PROJECT_ROOT / "catalogue"
    model_dir: Path = PROJECT_ROOT / "models"
    community_phone: str = "010-8765-4300"
    staff_hours: str = "周一至周五 8:30-17:30"
    # Where the channels reach Rasa when it is not on this machine (Kubernetes: the rasa Service).
    rasa_server_url: str = ""

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.rasa_auth_token:
            raise ValueError(
                f"HOST={self.host} is not a loopback address: set RASA_AUTH_TOKEN so that the "
                "Rasa HTTP API is not open to the network (Rasa 绑定到非本机地址时必须设置 RASA_AUTH_TOKEN)."
            )
        ports = {self.rasa_port, self.action_port, self.web_port}
        if len(ports) != 3:
            raise ValueError("RASA_PORT, ACTION_PORT and WEB_PORT must all be different")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = environment() if env is None else env
        host = env.get("HOST") or cls.host
        var_dir = path(env["VAR_DIR"]) if env.get("VAR_DIR") else cls.var_dir
        # The token made in var/ serves loopback; off loopback the operator sets one.
        token = env.get("RASA_AUTH_TOKEN", "") or (_read_token(var_dir) if is_loopback(host) else "")
        return read_section(
            cls, env, _VARIABLES, host=host, var_dir=var_dir, rasa_auth_token=token
        )

    @property
    def store_url(self) -> str:
        """Where requests, unanswered questions and handoffs are kept."""
        return self.database_url or f"sqlite:///{self.var_dir / 'community.db'}"

    @property
    def tracker_url(self) -> str:
        """Where Rasa keeps conversations: TRACKER_DATABASE_URL, else the store's database.

        A local tracker (``sqlite:///var/tracker.db``) keeps conversations going while a remote
        DATABASE_URL is down; confirmed requests then wait in the outbox.
        """
        return self.tracker_database_url or self.database_url

    @property
    def rasa_url(self) -> str:
        if self.rasa_server_url:
            return self.rasa_server_url.rstrip("/")
        return f"http://127.0.0.1:{self.rasa_port}" if is_loopback(self.host) or self.host == "0.0.0.0" else f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"


_VARIABLES = {
    "rasa_port": ("RASA_PORT", port),
    "action_port": ("ACTION_PORT", port),
    "web_port": ("WEB_PORT", port),
    "database_url": ("DATABASE_URL", text),
    "tracker_database_url": ("TRACKER_DATABASE_URL", text),
    "catalogue_dir": ("CATALOGUE_DIR", path),
    "model_dir": ("MODEL_DIR", path),
    "community_phone": ("COMMUNITY_PHONE", text),
    "staff_hours": ("STAFF_HOURS", text),
    "rasa_server_url": ("RASA_URL", text),
}


@dataclass(frozen=True)
class LauncherSettings:
    """``python -m bot``: how long servers may take to start (``READY_TIMEOUT``), how long Rasa
    waits for a custom action (``ACTION_TIMEOUT``), and whether Telegram runs (a token)."""

    ready_timeout: float = 240.0
    action_timeout: float = 15.0
    telegram_token: str = ""

    def __post_init__(self) -> None:
        if self.ready_timeout <= 0 or self.action_timeout <= 0:
            raise ValueError("READY_TIMEOUT and ACTION_TIMEOUT must be positive")

    @property
    def telegram(self) -> bool:
        return bool(self.telegram_token.strip())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LauncherSettings:
        return read_section(
            cls,
            environment() if env is None else env,
            {
                "ready_timeout": ("READY_TIMEOUT", float),
                "action_timeout": ("ACTION_TIMEOUT", float),
                "telegram_token": ("TELEGRAM_BOT_TOKEN", text),
            },
        )


def _read_token(var_dir: Path) -> str:
    try:
        return (var_dir / TOKEN_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def with_api_token(settings: Settings) -> Settings:
    """``settings`` with a Rasa HTTP API token: RASA_AUTH_TOKEN, or the one in
    ``var/rasa_auth_token``, made (mode 600) if there is none yet. Rasa's API is never open."""
    if settings.rasa_auth_token:
        return settings
    path = settings.var_dir / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = _read_token(settings.var_dir)
        if not token:
            raise ValueError(f"{path} is empty or unreadable: delete it to make a new token") from None
        return replace(settings, rasa_auth_token=token)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return replace(settings, rasa_auth_token=token)
