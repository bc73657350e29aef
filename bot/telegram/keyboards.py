"""The keyboards residents tap: the big-button menu, Rasa's buttons, the parts of a short
answer, and 👍/👎 under a final answer.

Inline buttons carry Python objects (:class:`Choice`, :class:`Part`, :class:`Rating`) as callback
data: python-telegram-bot's ``arbitrary_callback_data`` keeps them in its cache and sends
Telegram only a key; a key it no longer has comes back as ``InvalidCallbackData`` (the button
expired). Objects shared by a message's buttons (:class:`Step`, :class:`Rated`) remember what
happened, so a finished step's buttons and a rated answer's thumbs stop acting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.telegram import texts
from community.answers import Detail


@dataclasses.dataclass
class Step:
    """A question the assistant waits on (a form's question, yes/no, the summary to confirm):
    done once the resident answered it, by a button or in words."""

    done: bool = False


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of Rasa's buttons: ``payload`` goes to the assistant, ``title`` is what was tapped;
    ``step`` when it answers a question (it acts once)."""

    payload: str
    title: str
    step: Step | None = None


@dataclasses.dataclass(frozen=True)
class Part:
    """A part of a service answer left out of its short form (办理时间, 电话, 更多), told from
    the catalogue when tapped (the conversation does not move)."""

    title: str
    text: str


@dataclasses.dataclass
class Rated:
    """An answer that can be rated once (shared by its 👍 and 👎); ``rows``: the message's other
    buttons, kept when the thumbs become "已评价"."""

    question: str
    answer: str
    rows: list[list[InlineKeyboardButton]] = dataclasses.field(default_factory=list)
    done: bool = False


@dataclasses.dataclass(frozen=True)
class Rating:
    rated: Rated
    value: Literal["up", "down"]


def menu_keyboard(elder: bool = False) -> ReplyKeyboardMarkup:
    """The big buttons. In 长辈模式 without ``resize_keyboard``: Telegram then draws the keyboard
    as tall as the standard one, so each button is as big as it gets."""
    rows = texts.ELDER_MENU_ROWS if elder else texts.MENU_ROWS
    return ReplyKeyboardMarkup(
        [list(row) for row in rows], resize_keyboard=None if elder else True,
        input_field_placeholder="请说您想办的事",
    )


def answer_keyboard(
    message: dict[str, Any],
    question: str,
    *,
    rated_text: str = "",
    step: Step | None = None,
    parts: Sequence[Detail] = (),
) -> InlineKeyboardMarkup | None:
    """Rasa's buttons of ``message``, one a row (``step`` when they answer a question); with
    ``parts`` (a short answer), those parts as buttons instead of Rasa's detail buttons; 👍/👎
    when ``rated_text`` is the final answer to rate."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in message.get("buttons") or []:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if not (title and payload) or (parts and '"aspect"' in payload):
            continue  # a detail the parts below cover
        if parts and payload == "/human_handoff":
            rows.extend([InlineKeyboardButton(p.title, callback_data=Part(p.title, p.text))] for p in parts)
            parts = ()
        rows.append([InlineKeyboardButton(title, callback_data=Choice(payload, title, step))])
    rows.extend([InlineKeyboardButton(p.title, callback_data=Part(p.title, p.text))] for p in parts)
    if rated_text:
        rated = Rated(question, rated_text, rows=[list(row) for row in rows])
        rows.append([
            InlineKeyboardButton("👍 有用", callback_data=Rating(rated, "up")),
            InlineKeyboardButton("👎 没用", callback_data=Rating(rated, "down")),
        ])
    return InlineKeyboardMarkup(rows) if rows else None


def rated_keyboard(rating: Rating) -> InlineKeyboardMarkup:
    """The answer's buttons after a rating: the thumbs become one "已评价 👍" (or 👎)."""
    label = texts.RATED_LABELS[rating.value]
    done = [InlineKeyboardButton(label, callback_data=rating)]
    return InlineKeyboardMarkup([*rating.rated.rows, done])
