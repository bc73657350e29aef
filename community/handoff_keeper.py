"""Handoffs to staff that must not be lost, whatever the database does.

:class:`HandoffKeeper` writes a handoff to the store; if the store can't take it in time (a
locked, full or stopped database), to the durable outbox, which delivers it when the store is
back (or to memory, if even the disk refuses). Used by the actions (emergencies, "找人工",
repeated failures) and by Rasa's REST channel when a turn failed before any action ran.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from community.outbox import Outbox, OutboxFlusher, PendingHandoff
from community.records.handoffs import Handoffs
from community.sealed import Sealer
from community.store import Store

log = logging.getLogger(__name__)
# A store write that takes longer is given up: the resident's reply must not wait on it.
STORE_TIMEOUT_S = 3.0


class HandoffKeeper:
    def __init__(self, handoffs: Handoffs, outbox: Outbox, timeout: float = STORE_TIMEOUT_S):
        self.handoffs = handoffs
        self.outbox = outbox
        self.timeout = timeout

    @classmethod
    def for_process(cls, store: Store, var_dir: Path) -> HandoffKeeper:
        """The keeper of a process that hands over outside the action server (Rasa's REST
        channel, the web chat, Telegram): the outbox under ``var_dir``, and a flusher that
        delivers what this process had to keep in memory (a full disk)."""
        outbox = Outbox(var_dir / "outbox", Sealer.from_env(var_dir))
        OutboxFlusher(outbox, store.requests, store.notifications, handoffs=store.handoffs.create).start()
        return cls(store.handoffs, outbox)

    async def keep(
        self, *, conversation_id: str, channel: str, reason: str, text: str, emergency: bool = False
    ) -> bool:
        """Put the conversation in the staff inbox; never raises.

        True if it is in the store now, False if it waits in the outbox."""
        filed = await self.file(
            conversation_id=conversation_id, channel=channel, reason=reason, text=text, emergency=emergency
        )
        return filed is not None

    async def file(
        self, *, conversation_id: str, channel: str, reason: str, text: str, emergency: bool = False
    ) -> int | None:
        """:meth:`keep`, telling the handoff's number in the inbox (None: it waits in the outbox)."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(
                    self.handoffs.create,
                    conversation_id=conversation_id,
                    channel=channel,
                    reason=reason,
                    text=text,
                    emergency=emergency,
                ),
                self.timeout,
            )
        except Exception as err:  # noqa: BLE001 - any store failure: keep the handoff anyway
            log.error("Handoff (%s) not stored (%s); keeping it in the outbox", reason, type(err).__name__)
        pending = PendingHandoff(
            conversation_id=conversation_id,
            channel=channel,
            reason=reason,
            text=text,
            emergency=emergency,
            created_at=time.time(),
        )
        await asyncio.to_thread(self.outbox.put_handoff, pending)
        return None
