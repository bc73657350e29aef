"""The keyboards residents tap: the big-button menu, Rasa's buttons and 👍/👎 under an answer.

Inline buttons carry Python objects (:class:`Choice`, :class:`Rating`) as callback data:
python-telegram-bot's ``arbitrary_callback_data`` keeps them in its cache and sends Telegram
only a key; a key it no longer has comes back as ``InvalidCallbackData`` (the button expired).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.telegram import texts


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of Rasa's buttons: ``payload`` goes to the assistant, ``title`` is what was tapped."""

    payload: str
    title: str


@dataclasses.dataclass
class Rated:
    """An answer that can be rated once (shared by its 👍 and 👎)."""

    question: str
    answer: str
    done: bool = False


@dataclasses.dataclass(frozen=True)
class Rating:
    rated: Rated
    value: Literal["up", "down"]


def menu_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [list(row) for row in texts.MENU_ROWS], resize_keyboard=True, input_field_placeholder="请说您想办的事"
    )


def answer_keyboard(answer: dict[str, Any], question: str, rated_text: str) -> InlineKeyboardMarkup | None:
    """Rasa's buttons of ``answer``, one a row, and 👍/👎 when ``rated_text`` deserves them."""
    rows = []
    for button in answer.get("buttons") or []:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if title and payload:
            rows.append([InlineKeyboardButton(title, callback_data=Choice(payload, title))])
    if texts.is_substantive(rated_text):
        rated = Rated(question, rated_text)
        rows.append([
            InlineKeyboardButton("👍 有用", callback_data=Rating(rated, "up")),
            InlineKeyboardButton("👎 没用", callback_data=Rating(rated, "down")),
        ])
    return InlineKeyboardMarkup(rows) if rows else None
