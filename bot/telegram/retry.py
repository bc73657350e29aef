"""Calls to the Bot API that honour Telegram's 429 ``retry_after`` and retry 5xx/network errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter

log = logging.getLogger(__name__)
T = TypeVar("T")


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def with_retry(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 6,
    first_delay: float = 0.5,
    max_delay: float = 30.0,
    max_retry_after: float = 300.0,
) -> T:
    """``await call()``, retried: after a 429 it waits ``retry_after`` seconds (as Telegram asks);
    after a 5xx or network error it backs off exponentially. A 400 (BadRequest) is not retried."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as err:
            if attempt == attempts:
                raise
            wait = min(retry_seconds(err), max_retry_after)
            log.warning("Telegram asked to wait %.1f s (429)", wait)
            await asyncio.sleep(wait)
        except BadRequest:
            raise
        except NetworkError as err:  # 5xx, timeouts, connection errors
            if attempt == attempts:
                raise
            log.warning("Telegram call failed (%s), retrying in %.1f s", err, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")
