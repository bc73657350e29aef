"""The bits of Rasa's HTTP API the console uses: transcripts, pause/resume, staff replies."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from community.settings import Settings

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa's HTTP API did not answer as expected."""


class RasaClient:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession, timeout: float = 10):
        self.settings = settings
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _url(self, conversation_id: str, suffix: str = "") -> str:
        return f"{self.settings.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker{suffix}"

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.settings.rasa_auth_token:
            params["token"] = self.settings.rasa_auth_token
        return params

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        try:
            async with self.session.get(
                self._url(conversation_id), params=self._params(include_events="ALL"), timeout=self.timeout
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"tracker: HTTP {response.status}")
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            raise RasaUnavailable(f"tracker: {type(err).__name__}") from err

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        try:
            async with self.session.post(
                self._url(conversation_id, "/events"),
                json=events,
                params=self._params(),
                timeout=self.timeout,
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"append events: HTTP {response.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise RasaUnavailable(f"append events: {type(err).__name__}") from err

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
