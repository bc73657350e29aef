"""A durable outbox for what must reach the database while it can't be written: requests a
resident confirmed, and handoffs to staff (emergencies, "找人工").

An entry is written here (sealed, fsync'd, renamed into place: it survives a crash of the action
server) and delivered by :class:`OutboxFlusher` as soon as the database is back. Delivering a
request is idempotent (the entry's id is the request's ``client_key``) and the resident is then
told the reference number on their channel; a handoff delivered twice is merged by the store.
If even the outbox can't be written (a full disk), the entry is kept in memory and retried: a
handoff must reach staff whatever the disk does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from community.records.notifications import Notifications
from community.records.requests import NewRequest, Requests
from community.sealed import Sealer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingHandoff:
    """A handoff to staff that could not be written to the database yet."""

    conversation_id: str
    channel: str
    reason: str
    text: str
    emergency: bool
    created_at: float  # seconds since the epoch, when the resident asked

    def as_dict(self) -> dict:
        return {"type": "handoff", **asdict(self)}


HandoffSink = Callable[..., int]  # Handoffs.create


class Outbox:
    def __init__(self, directory: Path, sealer: Sealer):
        self.directory = Path(directory)
        self.sealer = sealer
        self._lock = threading.Lock()
        self._memory: list[PendingHandoff] = []  # handoffs the disk would not take

    def put(self, new: NewRequest) -> NewRequest:
        """Keep ``new`` durably; returns it with the ``client_key`` it will be stored under."""
        if not new.client_key:
            new = NewRequest.from_dict({**new.as_dict(), "client_key": f"outbox-{uuid.uuid4().hex}"})
        self._write(new.as_dict(), new.client_key)
        return new

    def put_handoff(self, handoff: PendingHandoff) -> bool:
        """Keep ``handoff`` on disk, or in memory if the disk refuses; True if it is on disk."""
        try:
            self._write(handoff.as_dict(), f"handoff-{uuid.uuid4().hex}")
            return True
        except OSError as err:
            log.error("Outbox: handoff kept in memory only, the disk refused it (%s)", type(err).__name__)
            with self._lock:
                self._memory.append(handoff)
            return False

    def _write(self, entry: dict, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = self.sealer.seal(json.dumps(entry, ensure_ascii=False))
        name = f"{time.time_ns():020d}-{key}.json"
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

    @contextlib.contextmanager
    def _flushing(self) -> Iterator[bool]:
        """Whether this process may deliver now: one process at a time per outbox folder."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(self.directory / ".flush.lock", "a")  # noqa: SIM115 - closed below
        except OSError:
            yield True  # no lock file on a full or read-only disk: deliver from this process
            return
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            handle.close()

    def pending(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.glob("*.json"))

    def __len__(self) -> int:
        return len(self.pending()) + len(self._memory)

    def flush(
        self, requests: Requests, notifications: Notifications, handoffs: HandoffSink | None = None
    ) -> list[dict]:
        """Deliver what is waiting, oldest first; stops at the first database error.

        Returns the requests delivered (each resident is told, in ``notifications``; handoffs go
        to ``handoffs``, the store's ``handoffs.create``)."""
        delivered: list[dict] = []
        with self._lock, self._flushing() as mine:
            if not mine:
                return delivered  # another process (Rasa, the action server) is delivering
            while self._memory and handoffs is not None:
                _deliver_handoff(handoffs, self._memory[0])  # raises while the database is down
                self._memory.pop(0)
            for path in self.pending():
                clear = self.sealer.unseal(path.read_text(encoding="ascii"))
                if not isinstance(clear, str):
                    log.error(
                        "Outbox entry %s cannot be unsealed (was COMMUNITY_SECRET_KEY changed?)", path.name
                    )
                    continue
                entry = json.loads(clear)
                if entry.get("type") == "handoff":
                    if handoffs is None:
                        continue
                    entry.pop("type")
                    _deliver_handoff(handoffs, PendingHandoff(**entry))
                else:
                    new = NewRequest.from_dict(entry)
                    delivered.append(self._deliver_request(requests, notifications, new))
                path.unlink()
        return delivered

    @staticmethod
    def _deliver_request(requests: Requests, notifications: Notifications, new: NewRequest) -> dict:
        row = requests.create(new)  # raises while the database is still down
        notifications.notify(
            row["channel"],
            row["conversation_id"],
            f"您之前提交的{row['title']}已正式登记，编号 {row['ref']}。"
            f"发“查询进度 {row['ref']}”可以看办理进度。",
            kind="outbox",
            ref=row["ref"],
        )
        return row


def _deliver_handoff(sink: HandoffSink, handoff: PendingHandoff) -> int:
    handoff_id = sink(
        conversation_id=handoff.conversation_id,
        channel=handoff.channel,
        reason=handoff.reason,
        text=handoff.text,
        emergency=handoff.emergency,
        created_at=dt.datetime.fromtimestamp(handoff.created_at, dt.timezone.utc),
    )
    log.info("Outbox: handoff %s (%s) reached the staff inbox", handoff_id, handoff.reason)
    return handoff_id


class OutboxFlusher:
    """Delivers the outbox in the background every ``interval`` seconds while it is not empty."""

    def __init__(
        self,
        outbox: Outbox,
        requests: Requests,
        notifications: Notifications,
        interval: float = 5.0,
        handoffs: HandoffSink | None = None,
    ):
        self.outbox = outbox
        self.requests = requests
        self.notifications = notifications
        self.handoffs = handoffs
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
            if not len(self.outbox):
                continue
            try:
                for row in self.outbox.flush(self.requests, self.notifications, self.handoffs):
                    log.info("Outbox: request %s stored after the database came back", row["ref"])
            except Exception as err:  # the database is still down: try again later
                log.warning(
                    "Outbox: %d request(s) waiting, database still unavailable (%s)",
                    len(self.outbox),
                    type(err).__name__,
                )
