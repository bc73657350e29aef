"""bot.tracker_window: a turn reads a bounded window, and the tracker it gets holds the same
state (slots, the active form and its start time, a pause) as the whole session would."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.tracker_window import (
    COMPACT_AFTER_TURNS,
    WindowedSQLTrackerStore,
    install_cached_event_types,
    window_start,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def run(coro):
    return asyncio.run(coro)


def turn(n: int) -> list[Event]:
    return [
        UserUttered(f"问题{n}", {"name": "greet", "confidence": 1.0}, timestamp=1000.0 + n),
        ActionExecuted("utter_greet", timestamp=1000.1 + n),
        BotUttered(f"回答{n}", timestamp=1000.2 + n),
        ActionExecuted("action_listen", timestamp=1000.3 + n),
    ]


def talk(
    store: SQLTrackerStore, sender: str, turns: range, extra: dict[int, list[Event]] | None = None
) -> None:
    for n in turns:
        tracker = run(store.retrieve(sender))
        if tracker is None:
            tracker = run(store.create_tracker(sender))
            tracker.update(SessionStarted(timestamp=999.0))
            tracker.update(ActionExecuted("action_listen", timestamp=999.1))
        for event in turn(n) + (extra or {}).get(n, []):
            tracker.update(event)
        run(store.save(tracker))


def test_a_long_conversation_is_read_as_a_bounded_window_with_the_same_state(tmp_path, domain):
    install_cached_event_types()
    store = WindowedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    form_started = ActiveLoop("request_form", timestamp=1005.5)
    talk(store, "r1", range(60), {
        3: [SlotSet("request_kind", "meal", timestamp=1003.5)],
        5: [form_started, SlotSet("requested_slot", "person_name", timestamp=1005.6)],
        40: [SlotSet("request_kind", "repair", timestamp=1040.5)],
        41: [ConversationPaused(timestamp=1041.5)],
    })
    tracker = run(store.retrieve("r1"))
    full = run(store.retrieve_full_tracker("r1"))
    users = [e for e in tracker.events if isinstance(e, UserUttered)]
    assert len(users) <= COMPACT_AFTER_TURNS + 1, "the window is bounded"
    assert len([e for e in full.events if isinstance(e, UserUttered)]) == 60, "nothing is lost"
    assert tracker.current_slot_values() == full.current_slot_values()
    assert tracker.slots["request_kind"].value == "repair"
    assert tracker.active_loop_name == "request_form"
    loops = [e for e in tracker.events if isinstance(e, ActiveLoop)]
    assert loops[-1].timestamp == form_started.timestamp, "the form keeps its key (start time)"
    assert tracker.is_paused() and full.is_paused()
    assert tracker.latest_message.text == "问题59"


def test_each_event_is_written_once(tmp_path, domain):
    store = WindowedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    talk(store, "r2", range(40))
    full = run(store.retrieve_full_tracker("r2"))
    texts = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert texts == [f"问题{n}" for n in range(40)]


def test_a_new_session_inside_the_window_starts_from_there(tmp_path, domain):
    store = WindowedSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    talk(store, "r3", range(30), {2: [SlotSet("request_kind", "meal", timestamp=1002.5)]})
    tracker = run(store.retrieve("r3"))
    tracker.update(SessionStarted(timestamp=5000.0))
    tracker.update(ActionExecuted("action_listen", timestamp=5000.1))
    run(store.save(tracker))
    talk(store, "r3", range(100, 102))
    tracker = run(store.retrieve("r3"))
    assert isinstance(tracker.events[0], SessionStarted) and tracker.events[0].timestamp == 5000.0
    assert tracker.slots["request_kind"].value is None


def test_window_starts_at_the_listen_before_a_turn():
    events: list[Event] = [SessionStarted(), ActionExecuted("action_listen")]
    for n in range(10):
        events += turn(n)
    cut = window_start(events, 0, 3)
    assert isinstance(events[cut], ActionExecuted) and isinstance(events[cut + 1], UserUttered)
    assert events[cut + 1].text == "问题7"
    assert window_start(events, 0, 20) is None
