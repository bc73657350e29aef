"""Failed tries limited in time (guessing the phone digits of someone else's request).

Kept in the action server's memory: one action server per site today. With several action
servers each keeps its own count (so the limit is per server); see issue 15 for moving it
to the shared store."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class AttemptLimiter:
    def __init__(self, limit: int, window_s: float):
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def allowed(self, *keys: str) -> bool:
        """No key has reached the limit of failures within the window."""
        now = time.monotonic()
        with self._lock:
            return all(len(self._recent(key, now)) < self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
