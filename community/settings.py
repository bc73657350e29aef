"""Settings for the assistant's processes, read from the environment (a ``.env`` file too).

Every value has an embedded default, so ``make run`` works on a fresh machine with no
configuration. See ``.env.example`` for the variables.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Rasa's HTTP API token when RASA_AUTH_TOKEN is not set: made at first start (mode 600) and
# read from here by the project's own processes, tools and tests.
TOKEN_FILE = "rasa_auth_token"


def load_dotenv(path: Path = PROJECT_ROOT / ".env") -> None:
    """Set variables from ``.env`` that are not already in the environment."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(env: dict[str, str], key: str, default: int) -> int:
    raw = env.get(key, str(default))
    try:
        port = int(raw)
    except ValueError as err:
        raise ValueError(f"{key} must be a port number, got {raw!r}") from err
    if not 0 < port < 65536:
        raise ValueError(f"{key} must be between 1 and 65535, got {port}")
    return port


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
        if env is None:
            load_dotenv()
            env = dict(os.environ)
        root = PROJECT_ROOT
        var_dir = Path(env.get("VAR_DIR", root / "var"))
        host = env.get("HOST", "127.0.0.1")
        # The token made in var/ serves loopback; off loopback the operator sets one.
        token = env.get("RASA_AUTH_TOKEN", "") or (_read_token(var_dir) if is_loopback(host) else "")
        return cls(
            host=host,
            rasa_port=_port(env, "RASA_PORT", 5005),
            action_port=_port(env, "ACTION_PORT", 5055),
            web_port=_port(env, "WEB_PORT", 8000),
            rasa_auth_token=token,
            database_url=env.get("DATABASE_URL", ""),
            tracker_database_url=env.get("TRACKER_DATABASE_URL", ""),
            var_dir=var_dir,
            catalogue_dir=Path(env.get("CATALOGUE_DIR", root / "catalogue")),
            model_dir=Path(env.get("MODEL_DIR", root / "models")),
            community_phone=env.get("COMMUNITY_PHONE", "010-8765-4300"),
            staff_hours=env.get("STAFF_HOURS", "周一至周五 8:30-17:30"),
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
        return f"http://127.0.0.1:{self.rasa_port}" if is_loopback(self.host) or self.host == "0.0.0.0" else f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"


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
