"""The one door to Rasa: every process of the project that talks HTTP to the Rasa server does it
through :class:`RasaClient`, and every failure is one error type, :class:`RasaUnavailable`.

Residents' messages go to the REST channel (``/webhooks/rest/webhook``, open); the staff
console and the retrainer use the HTTP API (trackers, events, status, model), which always
needs the token (``community.settings``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from community.settings import Settings

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached, refused, or answered with something unusable.

    ``code``: ``rasa-down`` (no connection, timeout), ``rasa-auth`` (401/403), ``rasa-status``
    (another HTTP error), ``rasa-bad-answer`` (not the JSON expected)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RasaClient:
    """Rasa's REST channel and HTTP API over one aiohttp session.

    Pass a session the caller owns, or let the client open (and :meth:`close`) its own; use it
    as ``async with RasaClient(...) as rasa:`` for a short job."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        action_health_url: str = "",
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.action_health_url = action_health_url  # the action server's /health ("": not checked)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = session is None

    @classmethod
    def from_settings(
        cls, settings: Settings, session: aiohttp.ClientSession | None = None, timeout: float = 30.0
    ) -> RasaClient:
        return cls(
            settings.rasa_url, token=settings.rasa_auth_token, session=session, timeout=timeout,
            action_health_url=settings.action_url.rsplit("/", 1)[0] + "/health",
        )

    async def __aenter__(self) -> RasaClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- residents ------------------------------------------------------------------------------
    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The assistant's answers to ``text`` from ``sender`` (``[{"text", "buttons"?}, …]``)."""
        payload = {"sender": sender, "message": text, "metadata": metadata or {}}
        answer = await self._call("POST", "/webhooks/rest/webhook", payload)
        if not isinstance(answer, list):
            raise RasaUnavailable("rasa-bad-answer", "the REST channel did not answer with a list")
        return [m for m in answer if isinstance(m, dict)]

    async def actions_up(self) -> bool:
        """Whether Rasa's action server answers its health check (True when none is set): an
        empty answer while it is down means the assistant is unavailable, not silent."""
        if not self.action_health_url:
            return True
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(
                self.action_health_url, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return False

    # -- the HTTP API ---------------------------------------------------------------------------
    async def parse(self, text: str) -> dict[str, Any]:
        """NLU only: ``{"intent", "intent_ranking", "entities", …}``."""
        return await self._dict("POST", "/model/parse", {"text": text})

    async def tracker(self, conversation_id: str, include_events: str = "ALL") -> dict[str, Any]:
        return await self._dict(
            "GET", self._tracker_path(conversation_id), params={"include_events": include_events}
        )

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        await self._call("POST", self._tracker_path(conversation_id) + "/events", events)

    async def status(self) -> dict[str, Any]:
        """Which model the server has loaded (``model_file``)."""
        return await self._dict("GET", "/status")

    async def load_model(self, model_file: str, timeout: float = 300.0) -> None:
        """``PUT /model``: the server loads the model, then swaps it in; it keeps answering."""
        await self._call("PUT", "/model", {"model_file": model_file}, timeout=timeout)

    # -- plumbing -------------------------------------------------------------------------------
    @staticmethod
    def _tracker_path(conversation_id: str) -> str:
        return f"/conversations/{quote(conversation_id, safe='')}/tracker"

    async def _dict(self, method: str, path: str, payload: Any = None, **kwargs: Any) -> dict[str, Any]:
        answer = await self._call(method, path, payload, **kwargs)
        if not isinstance(answer, dict):
            raise RasaUnavailable("rasa-bad-answer", f"{path} did not answer with an object")
        return answer

    async def _call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        query = dict(params or {})
        if self.token:
            query["token"] = self.token
        limit = aiohttp.ClientTimeout(total=timeout) if timeout else self.timeout
        try:
            async with self._session.request(
                method, self.url + path, json=payload, params=query or None, timeout=limit
            ) as response:
                if response.status in (401, 403):
                    raise RasaUnavailable(
                        "rasa-auth", f"{path}: refused (check RASA_AUTH_TOKEN)", response.status
                    )
                if response.status >= 300:
                    detail = (await response.text())[-300:]
                    raise RasaUnavailable(
                        "rasa-status", f"{path}: HTTP {response.status} {detail}", response.status
                    )
                body = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            raise RasaUnavailable("rasa-down", f"{path}: {type(err).__name__}") from err
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError as err:
            raise RasaUnavailable("rasa-bad-answer", f"{path}: not JSON") from err
