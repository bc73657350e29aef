"""The action server's shared resources, opened on first use (never at import time)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from community.catalogue import Catalogue, load_catalogue
from community.settings import Settings
from community.store import Store


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue
    store: Store


_lock = threading.Lock()
_runtime: Runtime | None = None


def configure(runtime: Runtime | None) -> None:
    """Use ``runtime`` (tests pass their own); ``None`` means: open from the environment."""
    global _runtime
    with _lock:
        _runtime = runtime


def get() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            settings = Settings.from_env()
            _runtime = Runtime(
                settings=settings,
                catalogue=load_catalogue(settings.catalogue_dir),
                store=Store.from_url(settings.store_url),
            )
        return _runtime
