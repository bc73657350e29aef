"""The action server's shared resources, opened on first use (never at import time)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from community.catalogue import Catalogue, load_catalogue
from community.forms import Forms, forms_path, load_forms
from community.outbox import Outbox, OutboxFlusher
from community.sealed import Sealer
from community.settings import Settings
from community.store import Store


@dataclass
class Runtime:
    settings: Settings
    catalogue: Catalogue
    store: Store
    forms: Forms = field(default=None)  # type: ignore[assignment]
    sealer: Sealer = field(default=None)  # type: ignore[assignment]
    outbox: Outbox = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.forms is None:
            self.forms = load_forms(forms_path(self.settings.catalogue_dir))
        if self.sealer is None:
            self.sealer = Sealer.from_env(self.settings.var_dir)
        if self.outbox is None:
            self.outbox = Outbox(self.settings.var_dir / "outbox", self.sealer)


log = logging.getLogger(__name__)
_lock = threading.Lock()
_runtime: Runtime | None = None
_flusher: OutboxFlusher | None = None


def configure(runtime: Runtime | None) -> None:
    """Use ``runtime`` (tests pass their own); ``None`` means: open from the environment."""
    global _runtime
    with _lock:
        _runtime = runtime


def get() -> Runtime:
    global _runtime, _flusher
    with _lock:
        if _runtime is None:
            settings = Settings.from_env()
            store = Store.from_url(settings.store_url, migrate=False)
            try:
                store.migrate()
            except Exception as err:  # the database is down: answers still work, requests wait
                log.warning("Store not reachable at start (%s); requests go to the outbox",
                            type(err).__name__)
            catalogue = load_catalogue(settings.catalogue_dir)
            _runtime = Runtime(settings=settings, catalogue=catalogue, store=store)
            # Requests and handoffs kept while the database was down are delivered when it is back.
            _flusher = OutboxFlusher(
                _runtime.outbox,
                _runtime.store.requests,
                _runtime.store.notifications,
                handoffs=_runtime.store.handoffs.create,
            )
            _flusher.start()
        return _runtime
