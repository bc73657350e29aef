"""The console's data layer on SQLite and PostgreSQL: accounts, lockout, sessions, audit,
handoff take/release, the review queue and the daily statistics."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from bot.console.tracker import resident_messages
from community.records import ConsoleError
from community.records.accounts import Accounts, Lockout
from community.records.requests import NewRequest
from community.records.review_queue import IntentScore
from community.store import Store

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.timezone.utc)  # 11:00 in Beijing


@pytest.fixture()
def store(store_url):
    store = Store.from_url(store_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def console(store):
    return Accounts(store.engine, lockout=Lockout(3, dt.timedelta(minutes=15), dt.timedelta(minutes=15)))


def name() -> str:
    return "u" + uuid.uuid4().hex[:8]


def test_passwords_are_stored_as_argon2_hashes_never_in_clear(console, store):
    user = name()
    console.create_user(user, PASSWORD, "staff")
    with store.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT password_hash FROM console_users WHERE username = :u"), {"u": user}
        ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert console.authenticate(user, PASSWORD).user["username"] == user
    assert console.authenticate(user, "wrong password!").user is None
    assert "password_hash" not in console.get_user(user)


@pytest.mark.parametrize(
    "username, password, role, code",
    [
        ("a", PASSWORD, "staff", "bad-username"),
        ("<script>", PASSWORD, "staff", "bad-username"),
        ("okname", "short", "staff", "weak-password"),
        ("okname", PASSWORD, "root", "bad-role"),
    ],
)
def test_bad_accounts_are_refused(console, username, password, role, code):
    with pytest.raises(ConsoleError) as err:
        console.create_user(username, password, role)
    assert err.value.code == code


def test_an_account_name_is_taken_once(console):
    user = name()
    console.create_user(user, PASSWORD, "admin")
    with pytest.raises(ConsoleError, match="已存在"):
        console.create_user(user, PASSWORD, "staff")


def test_repeated_failures_lock_the_account_even_for_the_right_password_then_it_unlocks(console):
    user = name()
    console.create_user(user, PASSWORD, "staff")
    for i in range(2):
        result = console.authenticate(user, "nope-nope-nope", now=NOW + dt.timedelta(seconds=i))
        assert result.user is None and result.locked_until is None
    third = console.authenticate(user, "nope-nope-nope", now=NOW + dt.timedelta(seconds=2))
    assert third.locked_until == NOW + dt.timedelta(seconds=2, minutes=15)
    locked = console.authenticate(user, PASSWORD, now=NOW + dt.timedelta(minutes=5))
    assert locked.user is None and locked.locked_until is not None
    later = console.authenticate(user, PASSWORD, now=NOW + dt.timedelta(minutes=16))
    assert later.user is not None


def test_a_success_resets_the_failure_count(console):
    user = name()
    console.create_user(user, PASSWORD, "staff")
    console.authenticate(user, "nope-nope-nope", now=NOW)
    console.authenticate(user, "nope-nope-nope", now=NOW + dt.timedelta(seconds=1))
    assert console.authenticate(user, PASSWORD, now=NOW + dt.timedelta(seconds=2)).user
    assert (
        console.authenticate(user, "nope-nope-nope", now=NOW + dt.timedelta(seconds=3)).locked_until is None
    )


def test_unknown_users_are_locked_out_too_so_names_cannot_be_probed(console):
    ghost = name()
    results = [console.authenticate(ghost, "x" * 12, now=NOW + dt.timedelta(seconds=i)) for i in range(3)]
    assert results[-1].locked_until is not None


def test_sessions_expire_end_and_die_with_a_disabled_account(console):
    user = name()
    account = console.create_user(user, PASSWORD, "staff")
    token, csrf = console.create_session(account["id"], hours=1, now=NOW)
    assert console.session(token, now=NOW + dt.timedelta(minutes=30))["csrf"] == csrf
    assert console.session(token, now=NOW + dt.timedelta(minutes=61)) is None
    token, _ = console.create_session(account["id"], hours=1)
    assert console.session(token)["username"] == user
    assert console.session(token + "x") is None
    console.set_active(user, False)
    assert console.session(token) is None
    assert console.authenticate(user, PASSWORD).user is None
    console.set_active(user, True)
    token, _ = console.create_session(account["id"])
    console.end_session(token)
    assert console.session(token) is None


def test_only_a_hash_of_the_session_token_is_stored(console, store):
    account = console.create_user(name(), PASSWORD, "staff")
    token, _ = console.create_session(account["id"])
    with store.engine.connect() as connection:
        stored = [r[0] for r in connection.execute(sa.text("SELECT token_hash FROM console_sessions"))]
    assert token not in stored and len(stored[-1]) == 64


def test_a_new_password_ends_the_old_sessions(console):
    user = name()
    account = console.create_user(user, PASSWORD, "staff")
    token, _ = console.create_session(account["id"])
    console.set_password(user, "another long password")
    assert console.session(token) is None
    assert console.authenticate(user, "another long password").user


def test_audit_log_keeps_who_did_what_and_when(store):
    actor = name()
    store.audit.record(actor, "request_status", "SQ-20261129-0001", {"status": "done"})
    [entry] = store.audit.list(actor=actor)
    assert entry["action"] == "request_status" and entry["target"] == "SQ-20261129-0001"
    assert '"done"' in entry["detail"] and entry["at"] is not None


def test_inbox_puts_emergencies_first_then_the_longest_waiting(console, store):
    tag = name()
    first = store.handoffs.create(conversation_id=f"{tag}-a", channel="web", reason="asked", text="找人")
    second = store.handoffs.create(
        conversation_id=f"{tag}-b", channel="telegram", reason="failed_twice", text="听不懂"
    )
    urgent = store.handoffs.create(
        conversation_id=f"{tag}-c", channel="web", reason="emergency", text="着火了", emergency=True
    )
    order = [h["id"] for h in store.handoffs.inbox() if h["conversation_id"].startswith(tag)]
    assert order == [urgent, first, second]


def test_one_holder_per_conversation_and_release_hands_it_back(console, store):
    conversation = name()
    a = store.handoffs.create(conversation_id=conversation, channel="web", reason="asked", text="找人")
    b = store.handoffs.create(conversation_id=conversation, channel="web", reason="asked", text="还在吗")
    taken = store.handoffs.take(a, "wang")
    assert taken["status"] == "taken" and taken["taken_by"] == "wang" and taken["taken_at"]
    assert store.handoffs.get(b)["status"] == "taken"  # the same resident's other request goes along
    with pytest.raises(ConsoleError, match="wang"):
        store.handoffs.take(a, "li")
    assert store.handoffs.held(conversation)["taken_by"] == "wang"
    store.handoffs.responded(a, now=NOW)
    store.handoffs.responded(a, now=NOW + dt.timedelta(minutes=5))
    assert store.handoffs.get(a)["first_response_at"] == NOW
    released = store.handoffs.release(a, "wang")
    assert released["status"] == "released" and released["released_by"] == "wang"
    assert store.handoffs.held(conversation) is None
    with pytest.raises(ConsoleError):
        store.handoffs.release(a, "wang")
    with pytest.raises(ConsoleError):
        store.handoffs.take(a, "li")


def test_review_closes_only_questions_still_waiting(console, store):
    text = f"小区停车怎么收费{name()}"
    ids = [
        store.review_queue.record(
            text=text,
            channel="web",
            conversation_id=name(),
            reason="fallback",
            top_intents=[IntentScore("community_affairs", 0.3)],
        )
        for _ in range(3)
    ]
    assert {q["id"] for q in store.review_queue.pending()} >= set(ids)
    assert store.review_queue.review(ids[:2], "assigned", reviewer="wang", intent="community_affairs") == 2
    assert store.review_queue.review(ids, "noise", reviewer="li") == 1  # two were already done by wang
    rows = {q["id"]: q for q in store.review_queue.questions(ids)}
    assert rows[ids[0]]["status"] == "assigned" and rows[ids[0]]["reviewed_by"] == "wang"
    assert rows[ids[2]]["status"] == "noise" and rows[ids[2]]["top_intents"][0]["name"] == "community_affairs"
    assert not {q["id"] for q in store.review_queue.pending()} & set(ids)


def test_daily_stats_from_the_store(tmp_path):
    """Counts per Beijing day: unanswered and handoff rates, median first response,
    satisfaction, request volume and backlog (SQLite tracker store as Rasa writes it)."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'stats.db'}")
    tracker = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    with tracker.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL,"
                " intent_name TEXT, action_name TEXT, data TEXT)"
            )
        )
        today = NOW.timestamp()
        rows = [
            ("web-a", "elderly_meal"),
            ("web-a", "elderly_allowance"),
            ("web-b", "cert_apply"),
            ("web-c", "nlu_fallback"),
            ("web-d", "greet"),
        ]
        for sender, intent in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name)"
                    " VALUES (:s, 'user', :t, :i)"
                ),
                {"s": sender, "t": today, "i": intent},
            )
        connection.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, action_name)"
                " VALUES ('web-a', 'action', :t, 'x')"
            ),
            {"t": today},
        )
    with store.engine.begin() as connection:
        from community.records.handoffs import handoffs
        from community.records.ratings import ratings
        from community.records.review_queue import unanswered

        connection.execute(
            unanswered.insert(),
            [
                {
                    "created_at": NOW,
                    "channel": "web",
                    "conversation_id": "web-c",
                    "text": "？",
                    "reason": "fallback",
                    "top_intents": "[]",
                }
            ],
        )
        connection.execute(
            handoffs.insert(),
            [
                {
                    "created_at": NOW,
                    "channel": "web",
                    "conversation_id": "web-c",
                    "reason": "asked",
                    "text": "人",
                    "first_response_at": NOW + dt.timedelta(minutes=4),
                },
                {
                    "created_at": NOW,
                    "channel": "web",
                    "conversation_id": "web-c",
                    "reason": "asked",
                    "text": "人",
                    "first_response_at": NOW + dt.timedelta(minutes=10),
                },
            ],
        )
        connection.execute(
            ratings.insert(),
            [
                {
                    "created_at": NOW,
                    "channel": "web",
                    "conversation_id": "web-a",
                    "question": "q",
                    "answer": "a",
                    "rating": r,
                }
                for r in ("up", "up", "up", "down")
            ],
        )
    store.requests.create(
        NewRequest(
            kind="cert",
            title="开证明",
            channel="web",
            conversation_id="web-b",
            fields={},
            summary="开证明",
            due_days=1,
        ),
        now=NOW - dt.timedelta(days=3),
    )
    data = store.statistics.daily(7, now=NOW, messages=resident_messages(tracker))
    today_row = data["days"][-1]
    assert data["source"] == "tracker" and today_row["date"] == dt.date(2026, 11, 29)
    assert today_row["conversations"] == 4 and today_row["messages"] == 5
    assert today_row["domains"] == {"elderly": 1, "cert": 1, "fallback": 1, "meta": 1}
    assert today_row["unanswered_rate"] == pytest.approx(1 / 5)
    assert today_row["handoff_rate"] == pytest.approx(1 / 4)
    assert today_row["median_response_minutes"] == pytest.approx(7.0)
    assert today_row["satisfaction"] == pytest.approx(0.75)
    assert data["days"][-4]["requests"] == 1
    assert data["backlog"] == {"submitted": 1} and data["overdue"] == 1
    # Without a readable tracker store the page still works, from the store's own records.
    fallback = store.statistics.daily(7, now=NOW, messages=resident_messages(None))
    assert fallback["source"] == "store" and fallback["days"][-1]["conversations"] == 2
    assert fallback["days"][-1]["unanswered_rate"] is None
    tracker.dispose()
    store.engine.dispose()
