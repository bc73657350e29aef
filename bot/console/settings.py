"""The staff console's settings, read from the environment (``.env`` too).

* ``CONSOLE_SECURE_COOKIES``: ``auto`` (default: Secure when the request came over https),
  ``always`` (behind an https reverse proxy), or ``never`` (plain-http development only).
* ``CONSOLE_SESSION_HOURS``: how long a login lasts (default 8, one working day).
* ``CONSOLE_IDLE_MINUTES``: a session with no request for this long ends; the next page asks to
  log in again with a notice (default 30). Pages refreshing themselves do not count as use.
* ``CONSOLE_LOCKOUT_ATTEMPTS`` / ``CONSOLE_LOCKOUT_MINUTES``: failed logins in a row that lock an
  account, and for how long (default 5 and 15).
* ``CONSOLE_IP_LOCKOUT_ATTEMPTS``: failed logins from one client address, whatever the accounts,
  within ``CONSOLE_LOCKOUT_MINUTES`` after which that address may not try again until the
  oldest of them is that old (default 20). Behind a reverse proxy every client has the proxy's
  address: raise it there.
* ``CONSOLE_TRAINING_ROOT``: the project whose ``nlu_data/``, ``domain/`` and ``config.yml``
  reviewed questions are written to and retrained from (default: this project).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from community.settings import PROJECT_ROOT, load_dotenv

SECURE_MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class ConsoleSettings:
    secure_cookies: str = "auto"
    session_hours: float = 8.0
    idle_minutes: float = 30.0
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    ip_lockout_attempts: int = 20
    training_root: Path = PROJECT_ROOT

    def __post_init__(self) -> None:
        if self.secure_cookies not in SECURE_MODES:
            raise ValueError(
                f"CONSOLE_SECURE_COOKIES must be one of {SECURE_MODES}, got {self.secure_cookies!r}"
            )
        if not 0 < self.session_hours <= 24 * 7:
            raise ValueError("CONSOLE_SESSION_HOURS must be between 0 and 168")
        if self.idle_minutes <= 0:  # longer than CONSOLE_SESSION_HOURS: the hours end it first
            raise ValueError("CONSOLE_IDLE_MINUTES must be positive")
        if self.lockout_attempts < 1 or self.lockout_minutes <= 0 or self.ip_lockout_attempts < 1:
            raise ValueError(
                "CONSOLE_LOCKOUT_ATTEMPTS and CONSOLE_IP_LOCKOUT_ATTEMPTS must be >= 1 "
                "and CONSOLE_LOCKOUT_MINUTES > 0"
            )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ConsoleSettings:
        if env is None:
            load_dotenv()
            env = dict(os.environ)
        try:
            return cls(
                secure_cookies=env.get("CONSOLE_SECURE_COOKIES", "auto").strip().lower(),
                session_hours=float(env.get("CONSOLE_SESSION_HOURS", "8")),
                idle_minutes=float(env.get("CONSOLE_IDLE_MINUTES", "30")),
                lockout_attempts=int(env.get("CONSOLE_LOCKOUT_ATTEMPTS", "5")),
                lockout_minutes=float(env.get("CONSOLE_LOCKOUT_MINUTES", "15")),
                ip_lockout_attempts=int(env.get("CONSOLE_IP_LOCKOUT_ATTEMPTS", "20")),
                training_root=Path(env.get("CONSOLE_TRAINING_ROOT") or PROJECT_ROOT),
            )
        except ValueError as err:
            raise ValueError(f"console settings: {err}") from err
