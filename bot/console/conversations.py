"""What staff do to a conversation (through the one Rasa client, :mod:`bot.resident.rasa`):
read its transcript, pause and resume the assistant, record staff replies."""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.resident.rasa import RasaClient

log = logging.getLogger(__name__)


class ConversationControl:
    """Staff's hand on a conversation, through the project's one Rasa client: read it, pause
    and resume the assistant, and put staff replies in the transcript."""

    def __init__(self, rasa: RasaClient):
        self.rasa = rasa

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        return await self.rasa.tracker(conversation_id)

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        await self.rasa.append(conversation_id, events)

    async def pause(self, conversation_id: str) -> None:
        """Rasa's ConversationPaused: the assistant logs the resident's messages but does not
        answer them until :meth:`resume`."""
        await self.append(conversation_id, [{"event": "pause", "timestamp": time.time()}])

    async def resume(self, conversation_id: str) -> None:
        await self.append(conversation_id, [{"event": "resume", "timestamp": time.time()}])

    async def record_staff_reply(self, conversation_id: str, text: str, staff: str) -> None:
        """Put a staff reply in the transcript (as a bot utterance marked ``staff``)."""
        await self.append(
            conversation_id,
            [{"event": "bot", "text": text, "timestamp": time.time(), "metadata": {"staff": staff}}],
        )


def transcript(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation as lines: who (resident/assistant/staff/system), text, time, intent."""
    lines: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        at = event.get("timestamp")
        if kind == "user":
            text = event.get("text") or ""
            intent = (event.get("parse_data") or {}).get("intent") or {}
            lines.append(
                {
                    "who": "resident",
                    "text": text,
                    "at": at,
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                }
            )
        elif kind == "bot":
            staff = (event.get("metadata") or {}).get("staff")
            lines.append(
                {
                    "who": "staff" if staff else "assistant",
                    "text": event.get("text") or "",
                    "at": at,
                    "staff": staff,
                }
            )
        elif kind == "pause":
            lines.append({"who": "system", "text": "人工接管，助手暂停回答", "at": at})
        elif kind == "resume":
            lines.append({"who": "system", "text": "交回智能助手", "at": at})
    return lines
