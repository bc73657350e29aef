"""The phone-style keypad: what each key does, and entry of a callback number.

| Key | Action |
|---|---|
| 1 2 3 4 | 证明 / 养老 / 托育 / 就业: the domain menu (a quick-reply payload sent to Rasa) |
| \\* | 重听: repeat the last answer |
| 0 | 慢一点: slower speech for the rest of the session |
| 9 | 大声一点: louder |
| # | 转人工: type a callback number, end it with #, hear it read back, press 1 to confirm |

After an answer about a service, only its essentials are spoken and 1 2 3 offer the rest
(按一听办理时间，按二听电话，按三听更多) until the resident asks something else; any other
key (8: 回主菜单) ends the offer and does what it always does.

Pure logic, no I/O: :class:`CallbackEntry` collects digits; the session speaks and stores.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from voice.spoken_numbers import read_phone

KEYS = "0123456789*#"


class Action(str, enum.Enum):
    MENU = "menu"
    REPEAT = "repeat"
    SLOWER = "slower"
    LOUDER = "louder"
    HANDOFF = "handoff"
    NONE = "none"


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    payload: str

    def __post_init__(self) -> None:
        if self.key not in "1234" or not self.payload.startswith("/"):
            raise ValueError(f"bad menu item {self.key!r} {self.payload!r}")


MENU: dict[str, MenuItem] = {
    item.key: item
    for item in (
        MenuItem("1", "证明", '/cert_apply{"menu":"domain"}'),
        MenuItem("2", "养老", '/elderly_meal{"menu":"domain"}'),
        MenuItem("3", "托育", '/childcare_nursery{"menu":"domain"}'),
        MenuItem("4", "就业", '/employment_jobs{"menu":"domain"}'),
    )
}
MENU_PROMPT = "办证明按一，养老按二，托育按三，就业按四。"
AFTER_ANSWER_PROMPT = "重听请按星号，转人工请按井号。"
HANDOFF_PROMPT = "找人工按井号。"
BACK_TO_MENU_PROMPT = "回主菜单请按八。"
MAX_DETAILS = 3  # details of an answer offered on 1-3 (8 is never one: it goes back to the menu)


def detail_offer(titles: list[str]) -> str:
    """``["办理时间", "电话"]`` → ``按一听办理时间，按二听电话。``"""
    if not 1 <= len(titles) <= MAX_DETAILS:
        raise ValueError(f"offer 1-{MAX_DETAILS} details, got {len(titles)}")
    return "，".join(f"按{'一二三'[i]}听{title}" for i, title in enumerate(titles)) + "。"


def action_for(key: str) -> Action:
    if key not in KEYS or len(key) != 1:
        raise ValueError(f"not a keypad key: {key!r}")
    if key in MENU:
        return Action.MENU
    return {"*": Action.REPEAT, "0": Action.SLOWER, "9": Action.LOUDER, "#": Action.HANDOFF}.get(
        key, Action.NONE
    )


def parse_keys(script: str) -> list[str]:
    """``"2*0#"`` → ``["2", "*", "0", "#"]``; spaces and commas are ignored, anything else is an error."""
    keys = [c for c in script if c not in " ,"]
    bad = sorted({c for c in keys if c not in KEYS})
    if bad:
        raise ValueError(f"--keys may only use 0-9, * and #; got {''.join(bad)!r}")
    return keys


class EntryState(str, enum.Enum):
    DIGITS = "digits"  # typing the number; # ends it
    CONFIRM = "confirm"  # read back; 1 confirms, * types it again
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass
class CallbackEntry:
    """A callback number typed on the keypad. ``press`` returns what to say next."""

    max_digits: int = 15
    digits: str = ""
    state: EntryState = EntryState.DIGITS
    _history: list[str] = field(default_factory=list, repr=False)

    PROMPT = "请输入您的回电号码，输完按井号。不留号码，直接按井号。"

    def read_back(self) -> str:
        if not self.digits:
            return "您没有留号码。确认转人工请按一，重新输入请按星号。"
        return f"您输入的号码是：{read_phone(self.digits)}。对的请按一，重新输入请按星号。"

    def press(self, key: str) -> str | None:
        if key not in KEYS or len(key) != 1:
            raise ValueError(f"not a keypad key: {key!r}")
        if self.state is EntryState.DIGITS:
            if key.isdigit():
                if len(self.digits) < self.max_digits:
                    self.digits += key
                return None
            if key == "*":
                self.digits = self.digits[:-1]  # backspace
                return None
            self.state = EntryState.CONFIRM
            return self.read_back()
        if self.state is EntryState.CONFIRM:
            if key == "1":
                self.state = EntryState.DONE
                return None
            if key == "*":
                self.digits = ""
                self.state = EntryState.DIGITS
                return self.PROMPT
            if key == "#":
                self.state = EntryState.CANCELLED
                return "已取消转人工。"
            return self.read_back()
        return None

    def confirm(self) -> None:
        """A spoken 是/对 at the read-back."""
        if self.state is EntryState.CONFIRM:
            self.state = EntryState.DONE

    @property
    def finished(self) -> bool:
        return self.state in (EntryState.DONE, EntryState.CANCELLED)
