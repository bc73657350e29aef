"""The project's one configuration module.

* :func:`environment`: the process environment with ``.env`` read once (the first time it is
  asked for, never at import); variables already set win over the file.
* :func:`read_section`: a frozen settings dataclass built from the variables it declares: a
  variable that is unset or empty keeps the field's default, so each default is written once,
  on the field; a value that does not parse names its variable.
The sections are the frozen dataclasses next to the code they configure; each validates itself
in ``__post_init__`` and builds itself with ``from_env(env=None)`` through this module:
:class:`community.settings.Settings` (ports, stores, the community),
:class:`community.settings.LauncherSettings`, :class:`bot.console.settings.ConsoleSettings`,
:class:`bot.telegram.settings.TelegramSettings`, :class:`voice.settings.VoiceSettings` and
:class:`voice.kiosk.KioskSettings`. Nothing else reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
Parser = Callable[[str], Any]

_lock = threading.Lock()
_dotenv_read = False


def parse_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (comments, blank lines and quotes handled)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def environment(dotenv: Path = PROJECT_ROOT / ".env") -> dict[str, str]:
    """The environment, with ``.env``'s variables added once (it never overrides a variable
    that is already set)."""
    global _dotenv_read
    with _lock:
        if not _dotenv_read:
            for key, value in parse_dotenv(dotenv).items():
                os.environ.setdefault(key, value)
            _dotenv_read = True
    return dict(os.environ)


def read_section(
    cls: type[T], env: Mapping[str, str], variables: Mapping[str, tuple[str, Parser]], **given: Any
) -> T:
    """``cls`` from ``env``: field name → (variable, parser); ``given`` are set directly."""
    values: dict[str, Any] = dict(given)
    for field_name, (variable, parse) in variables.items():
        raw = env.get(variable)
        if raw is None or not str(raw).strip():
            continue  # the field's default
        try:
            values[field_name] = parse(str(raw).strip())
        except ValueError as err:
            raise ValueError(f"{variable} is not valid ({raw!r}): {err}") from err
    return cls(**values)


def text(raw: str) -> str:
    return raw


def path(raw: str) -> Path:
    """A path; relative ones are relative to the project."""
    value = Path(raw).expanduser()
    return value if value.is_absolute() else PROJECT_ROOT / value


def port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be between 1 and 65535")
    return value


def field_default(cls: type, name: str) -> Any:
    """The default written on ``cls``'s field ``name`` (for code that needs it elsewhere)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
    raise KeyError(name)
