"""A small client of Rasa's REST channel for the Telegram front end."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class AssistantUnavailable(Exception):
    """Rasa or the action server cannot answer now; the message should be tried again later."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RasaClient:
    """POSTs residents' messages to ``{rasa_url}/webhooks/rest/webhook``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        rasa_url: str,
        *,
        auth_token: str = "",
        action_health_url: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.session = session
        self.rasa_url = rasa_url.rstrip("/")
        self.auth_token = auth_token
        self.action_health_url = action_health_url
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, message: str, **metadata: str) -> list[dict[str, Any]]:
        """Rasa's answers (``[{"text", "buttons"?}, …]``); raises AssistantUnavailable."""
        payload = {"sender": sender, "message": message, "metadata": {"channel": "telegram", **metadata}}
        params = {"token": self.auth_token} if self.auth_token else None
        try:
            async with self.session.post(
                f"{self.rasa_url}/webhooks/rest/webhook", json=payload, params=params, timeout=self.timeout
            ) as response:
                if response.status != 200:
                    raise AssistantUnavailable("rasa-status", f"Rasa answered HTTP {response.status}")
                answers = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            raise AssistantUnavailable("rasa-down", f"Rasa unreachable: {type(err).__name__}") from err
        if not isinstance(answers, list):
            raise AssistantUnavailable("rasa-bad-answer", "Rasa's answer is not a list")
        answers = [a for a in answers if isinstance(a, dict) and (a.get("text") or a.get("buttons"))]
        if not answers and message.strip() and not await self.actions_healthy():
            # Rasa took the message but its custom action failed: the action server is down.
            raise AssistantUnavailable("actions-down", "the action server is not answering")
        return answers

    async def actions_healthy(self) -> bool:
        if not self.action_health_url:
            return True
        try:
            async with self.session.get(
                self.action_health_url, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
