"""Sealing residents' personal details while a form is being filled in.

Form answers (names, phone numbers, 身份证号, addresses) travel in Rasa slots, which Rasa keeps
in its tracker store. They are kept there sealed (Fernet: AES-128-CBC + HMAC-SHA256), so the
conversation store never holds them in clear; the action server unseals them to build the
request, and the tracker store unseals them only to mask them wherever they were typed.

The key comes from ``COMMUNITY_SECRET_KEY`` or, by default, from ``var/secret.key`` (created on
first use, readable by its owner only).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from community.config import environment

PREFIX = "sealed:"
KEY_ENV = "COMMUNITY_SECRET_KEY"


class Sealer:
    def __init__(self, key: bytes | str):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{KEY_ENV} must be a Fernet key (32 url-safe base64-encoded bytes); generate one with: "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from err

    @classmethod
    def from_env(cls, var_dir: Path, env: dict[str, str] | None = None) -> Sealer:
        env = environment() if env is None else env
        if env.get(KEY_ENV):
            return cls(env[KEY_ENV])
        return cls(load_or_create_key(var_dir / "secret.key"))

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def unseal(self, value: object) -> object:
        """The clear value of a sealed string; anything else is returned as it is."""
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            return None  # sealed with another key (the key was rotated): the answer is asked again


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def load_or_create_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Exclusive create: two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key
