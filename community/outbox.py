"""A durable outbox for requests confirmed while the database is unreachable.

A request that can't be stored is written here (sealed, fsync'd, renamed into place: it survives
a crash of the action server) and delivered by :class:`OutboxFlusher` as soon as the database is
back. Delivery is idempotent (the entry's id is the request's ``client_key``), and the resident
is then told the reference number on their channel.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path

from community.request_store import NewRequest, RequestStore
from community.sealed import Sealer

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, directory: Path, sealer: Sealer):
        self.directory = Path(directory)
        self.sealer = sealer
        self._lock = threading.Lock()

    def put(self, new: NewRequest) -> NewRequest:
        """Keep ``new`` durably; returns it with the ``client_key`` it will be stored under."""
        if not new.client_key:
            new = NewRequest.from_dict({**new.as_dict(), "client_key": f"outbox-{uuid.uuid4().hex}"})
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = self.sealer.seal(json.dumps(new.as_dict(), ensure_ascii=False))
        name = f"{time.time_ns():020d}-{new.client_key}.json"
        tmp = self.directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / name)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return new

    def pending(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.glob("*.json"))

    def __len__(self) -> int:
        return len(self.pending())

    def flush(self, requests: RequestStore) -> list[dict]:
        """Deliver what is waiting, oldest first; stops at the first database error."""
        delivered: list[dict] = []
        with self._lock:
            for path in self.pending():
                clear = self.sealer.unseal(path.read_text(encoding="ascii"))
                if not isinstance(clear, str):
                    log.error(
                        "Outbox entry %s cannot be unsealed (was COMMUNITY_SECRET_KEY changed?)", path.name
                    )
                    continue
                new = NewRequest.from_dict(json.loads(clear))
                row = requests.create(new)  # raises while the database is still down
                requests.notify(
                    row["channel"],
                    row["conversation_id"],
                    f"您之前提交的{row['title']}已正式登记，编号 {row['ref']}。"
                    f"发“查询进度 {row['ref']}”可以看办理进度。",
                    kind="outbox",
                    ref=row["ref"],
                )
                path.unlink()
                delivered.append(row)
        return delivered


class OutboxFlusher:
    """Delivers the outbox in the background every ``interval`` seconds while it is not empty."""

    def __init__(self, outbox: Outbox, requests: RequestStore, interval: float = 5.0):
        self.outbox = outbox
        self.requests = requests
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-flusher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.outbox.pending():
                continue
            try:
                for row in self.outbox.flush(self.requests):
                    log.info("Outbox: request %s stored after the database came back", row["ref"])
            except Exception as err:  # the database is still down: try again later
                log.warning(
                    "Outbox: %d request(s) waiting, database still unavailable (%s)",
                    len(self.outbox),
                    type(err).__name__,
                )
