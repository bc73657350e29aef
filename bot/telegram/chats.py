"""Who a Telegram chat is to the rest of the assistant, and what the channel remembers per chat."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.telegram.keyboards import Step

CHANNEL = "telegram"
PREFIX = "tg-"  # a chat's conversation id (Rasa's sender, the store's conversation_id)


def sender_id(chat_id: int) -> str:
    """The conversation id of a Telegram chat."""
    return f"{PREFIX}{chat_id}"


def chat_id_of(conversation: int | str) -> int:
    """A chat id from a chat id or a conversation id (``tg-<chat_id>``)."""
    if isinstance(conversation, int):
        return conversation
    text = str(conversation).strip()
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    try:
        return int(text)
    except ValueError as err:
        raise ValueError(f"not a Telegram chat: {conversation!r}") from err


@dataclasses.dataclass
class ChatState:
    elder: bool = False  # 长辈模式: big buttons, service answers as their essentials, spoken
    voice: bool = False  # answers are spoken too
    sending: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)  # one answer or push at a time
    step: Step | None = None  # the question the assistant waits on, while its buttons still act

    def moved_on(self) -> None:
        """The resident answered (typed, spoke or tapped): the open step's buttons stop acting."""
        if self.step is not None:
            self.step.done = True
            self.step = None


class Chats:
    """The chats' settings and send locks, made on first sight (kept for the run)."""

    def __init__(self) -> None:
        self._states: dict[int, ChatState] = {}

    def __getitem__(self, chat_id: int) -> ChatState:
        return self._states.setdefault(chat_id, ChatState())
