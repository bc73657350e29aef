"""What Rasa's resident REST channel accepts, checked before NLU runs.

* the body is a JSON object (not nested deeper than a message needs) with a string ``sender``
  and a string ``message`` of at most :data:`MAX_INPUT_CHARS` characters (an empty one is
  answered by the assistant: "您还没有输入…");
* a message that starts with ``/`` is a button payload only when it names an intent a resident's
  button may carry (:func:`command_or_text`); anything else (``/restart``, ``/session_start``,
  slots smuggled in as entities) is read as the words it is, never as an internal command.

Pure functions, no Rasa imports: the channel (``bot.rest_channel``) turns :class:`InputRefused`
into a 400/413 with a Chinese message for the resident and an English one for the operator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

# The web chat's cap too: one resident's message, not a document.
MAX_INPUT_CHARS = 2000
MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 128
MAX_JSON_DEPTH = 8
MAX_ENTITY_CHARS = 100
# Rasa's own intents that a resident must never trigger by typing them.
INTERNAL_INTENTS = frozenset({"restart", "session_start", "back", "nlu_fallback"})

_COMMAND = re.compile(r"^/(?P<intent>[A-Za-z_][A-Za-z0-9_]*)(?P<entities>\{.*\})?$", re.S)


@dataclass(frozen=True)
class InputRefused(Exception):
    status: int
    resident: str  # what the resident is told (Chinese)
    operator: str  # what the log and an API client are told (English)


BAD_BODY = InputRefused(400, "请求格式不对，请刷新页面后再试。", "body must be a JSON object")
NO_MESSAGE = InputRefused(400, "请先输入您的问题。", "'message' must be a string")
BAD_SENDER = InputRefused(
    400, "请求格式不对，请刷新页面后再试。", f"'sender' must be a string of 1-{MAX_SENDER_CHARS} characters"
)
TOO_LONG = InputRefused(
    413, f"您输入的内容太长了（最多{MAX_INPUT_CHARS}字），请分几次说。",
    f"'message' is longer than {MAX_INPUT_CHARS} characters",
)
BODY_TOO_LARGE = InputRefused(413, TOO_LONG.resident, f"body is larger than {MAX_BODY_BYTES} bytes")


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    metadata: dict[str, Any]
    input_channel: str


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests, counting no further than ``limit + 1``."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(c, limit - 1) for c in children), default=0)


def parse_body(raw: bytes) -> RestMessage:
    """The resident's message from a REST request body; raises :class:`InputRefused`."""
    if len(raw) > MAX_BODY_BYTES:
        raise BODY_TOO_LARGE
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise BAD_BODY from err
    if not isinstance(body, dict) or _depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BAD_BODY
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        raise BAD_SENDER
    if not isinstance(text, str):
        raise NO_MESSAGE  # an empty one goes on: the assistant itself says "您还没有输入"
    if len(text) > MAX_INPUT_CHARS:
        raise TOO_LONG
    metadata = body.get("metadata")
    channel = body.get("input_channel")
    return RestMessage(
        sender=sender,
        text=text,
        metadata=metadata if isinstance(metadata, dict) else {},
        input_channel=channel if isinstance(channel, str) and channel else "rest",
    )


def command_or_text(text: str, intents: Iterable[str], entities: Iterable[str]) -> str:
    """``text`` as Rasa should read it.

    A button payload (``/intent`` or ``/intent{"entity": "value"}``) passes when the intent is
    one of the assistant's own (not Rasa's internal ones) and its entities are known, short
    strings. Anything else that starts with ``/`` loses its slashes and is read as words.
    """
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    match = _COMMAND.match(stripped)
    if match and _allowed(match, frozenset(intents) - INTERNAL_INTENTS, frozenset(entities)):
        return stripped
    words = stripped.lstrip("/").strip()
    return words or "？"


def _allowed(match: re.Match[str], intents: frozenset[str], entities: frozenset[str]) -> bool:
    if match.group("intent") not in intents:
        return False
    if not match.group("entities"):
        return True
    try:
        values = json.loads(match.group("entities"))
    except ValueError:
        return False
    return isinstance(values, dict) and all(
        key in entities and isinstance(value, str) and len(value) <= MAX_ENTITY_CHARS
        for key, value in values.items()
    )
