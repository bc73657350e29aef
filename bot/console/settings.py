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

from dataclasses import dataclass
from pathlib import Path

from community.config import PROJECT_ROOT, environment, path, read_section

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
        return read_section(
            cls,
            environment() if env is None else env,
            {
                "secure_cookies": ("CONSOLE_SECURE_COOKIES", lambda raw: raw.lower()),
                "session_hours": ("CONSOLE_SESSION_HOURS", float),
                "idle_minutes": ("CONSOLE_IDLE_MINUTES", float),
                "lockout_attempts": ("CONSOLE_LOCKOUT_ATTEMPTS", int),
                "lockout_minutes": ("CONSOLE_LOCKOUT_MINUTES", float),
                "ip_lockout_attempts": ("CONSOLE_IP_LOCKOUT_ATTEMPTS", int),
                "training_root": ("CONSOLE_TRAINING_ROOT", path),
            },
        )
