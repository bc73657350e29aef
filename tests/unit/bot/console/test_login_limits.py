"""Login under abuse, over real HTTP and on SQLite and PostgreSQL: parallel wrong passwords are
checked at most as often as the lockout allows, one address is limited across accounts, idle
sessions end with a notice, and an admin cannot disable their own account."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid

import aiohttp
import pytest
from argon2 import PasswordHasher

from bot.console.settings import ConsoleSettings
from community.records import ConsoleError
from community.records.accounts import Accounts, Lockout
from community.store import Store
from tests.support.console import PASSWORD

NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.timezone.utc)
WRONG = "wrong password 123"


class CheckCounter:
    """Counts argon2 password checks (every instance, every thread)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        real = PasswordHasher.verify

        def counting(hasher, password_hash, password):  # type: ignore[no-untyped-def]
            with self._lock:
                self.count += 1
            return real(hasher, password_hash, password)

        monkeypatch.setattr(PasswordHasher, "verify", counting)


async def parallel_logins(h, username: str, password: str, n: int) -> list[tuple[int, str]]:
    """``n`` logins posted at once, each with its own valid login-form token and no cookie jar
    (so one answer's new form cookie cannot spoil the others)."""
    response = await h.client.get("/staff/login")
    token = response.cookies["sqa_staff_login"].value
    url = h.client.make_url("/staff/login")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def one() -> tuple[int, str]:
            async with session.post(
                url,
                data={"username": username, "password": password, "csrf": token},
                headers={"Cookie": f"sqa_staff_login={token}"},
                allow_redirects=False,
            ) as reply:
                return reply.status, await reply.text()

        return await asyncio.gather(*(one() for _ in range(n)))


def test_thirty_parallel_wrong_passwords_get_at_most_five_checks(harness, store_url, monkeypatch):
    checks = CheckCounter(monkeypatch)

    async def scenario(h):
        victim = "v" + uuid.uuid4().hex[:8]
        await asyncio.to_thread(h.accounts.create_user, victim, PASSWORD, "staff")
        checks.count = 0
        results = await parallel_logins(h, victim, WRONG, 30)
        statuses = sorted(status for status, _ in results)
        print(f"\npassword checks for 30 parallel wrong logins ({store_url.split(':')[0]}): {checks.count}")
        assert checks.count <= 5, statuses
        # Those checked were told "wrong password" or, once the five were claimed, "locked".
        assert set(statuses) <= {401, 429} and statuses.count(429) >= 30 - checks.count
        assert all("锁定" in text for status, text in results if status == 429)
        # The account is locked: even the right password is refused, and not checked.
        before = checks.count
        response = await h.login(victim, PASSWORD)
        assert response.status == 429 and "锁定" in await response.text()
        assert checks.count == before

    harness(scenario, store_url=store_url)


def test_one_address_is_limited_across_accounts(harness):
    settings = ConsoleSettings(secure_cookies="never", ip_lockout_attempts=4)

    async def scenario(h):
        for i in range(4):  # four different (unknown) accounts: each fails once
            response = await h.login(f"ghost{i}", WRONG)
            assert response.status == 401
        response = await h.login("wang", PASSWORD)  # even the right password, from this address
        text = await response.text()
        assert response.status == 429 and "这个网络地址" in text and "sqa_staff" not in response.cookies
        # The account itself was not locked by this address's tries.
        assert h.accounts.authenticate("wang", PASSWORD, ip="10.0.0.9").user is not None

    harness(scenario, console_settings=settings)


@pytest.fixture()
def store(store_url):
    store = Store.from_url(store_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def console(store):
    minutes = dt.timedelta(minutes=15)
    return Accounts(store.engine, lockout=Lockout(3, minutes, minutes, ip_max_failures=5))


def name() -> str:
    return "u" + uuid.uuid4().hex[:8]


def test_address_limit_counts_failures_not_successes_and_expires(console):
    ip = f"10.{uuid.uuid4().int % 250}.0.1"
    user = name()
    console.create_user(user, PASSWORD, "staff")
    for i in range(3):  # successes from the address do not count
        assert console.authenticate(user, PASSWORD, ip=ip, now=NOW + dt.timedelta(seconds=i)).user
    for i in range(5):
        result = console.authenticate(name(), WRONG, ip=ip, now=NOW + dt.timedelta(seconds=10 + i))
        assert result.user is None and result.scope == "account"
    limited = console.authenticate(user, PASSWORD, ip=ip, now=NOW + dt.timedelta(seconds=20))
    assert limited.user is None and limited.scope == "address"
    assert limited.locked_until == NOW + dt.timedelta(seconds=10, minutes=15)
    # Tries while limited are not counted against the account they name.
    for i in range(5):
        console.authenticate(user, WRONG, ip=ip, now=NOW + dt.timedelta(seconds=30 + i))
    assert console.authenticate(user, PASSWORD, ip="10.255.255.1", now=NOW + dt.timedelta(seconds=40)).user
    later = NOW + dt.timedelta(minutes=16)
    assert console.authenticate(user, PASSWORD, ip=ip, now=later).user is not None


def test_a_check_in_flight_counts_as_a_failure_until_it_succeeds(console, monkeypatch):
    """The attempt is claimed (recorded as failed) before the password is checked."""
    user = name()
    console.create_user(user, PASSWORD, "staff")
    seen: list[dt.datetime | None] = []
    real = console._verify

    def verify(password_hash: str, password: str) -> bool:
        seen.append(console.locked_until(user, NOW))
        return real(password_hash, password)

    monkeypatch.setattr(console, "_verify", verify)
    for _ in range(3):
        console.authenticate(user, WRONG, now=NOW)
    assert seen[:2] == [None, None] and seen[2] is not None  # the third claim locks at once


def test_idle_sessions_end_and_activity_keeps_them(console):
    account = console.create_user(name(), PASSWORD, "staff")
    idle = dt.timedelta(minutes=30)
    token, _ = console.create_session(account["id"], hours=8, idle=idle, now=NOW)
    t = NOW
    for _ in range(6):  # a request every 25 minutes for 2.5 hours
        t += dt.timedelta(minutes=25)
        found, why = console.check_session(token, idle=idle, hours=8, now=t)
        assert found is not None and why == "ok"
    found, why = console.check_session(token, idle=idle, hours=8, now=t + dt.timedelta(minutes=31))
    assert found is None and why == "idle"
    # Activity never stretches a session beyond its hours.
    token, _ = console.create_session(account["id"], hours=1, idle=idle, now=NOW)
    for minutes in (20, 40, 59):
        assert console.check_session(token, idle=idle, hours=1, now=NOW + dt.timedelta(minutes=minutes))[0]
    assert console.check_session(token, idle=idle, hours=1, now=NOW + dt.timedelta(minutes=61)) == (
        None,
        "expired",
    )
    assert console.check_session("no-such-token", idle=idle, hours=1) == (None, "missing")


def test_an_admin_cannot_disable_their_own_account(console):
    admin = name()
    console.create_user(admin, PASSWORD, "admin")
    with pytest.raises(ConsoleError) as err:
        console.set_active(admin, False, actor=admin)
    assert err.value.code == "self" and "不能停用自己" in str(err.value)
    assert console.get_user(admin)["active"]
    other = name()
    console.create_user(other, PASSWORD, "staff")
    console.set_active(other, False, actor=admin)
    assert not console.get_user(other)["active"]


def test_an_idle_console_page_goes_to_the_login_page_with_a_notice(harness):
    settings = ConsoleSettings(secure_cookies="never", idle_minutes=0.05)  # 3 seconds

    async def scenario(h):
        await h.login("wang")
        for _ in range(3):  # active: a request every 2 s keeps the session
            await asyncio.sleep(2)
            status, _ = await h.page("/staff/handoffs", allow_redirects=False)
            assert status == 200
        # Background refreshes of an open page are not activity.
        for _ in range(2):
            await asyncio.sleep(1.6)
            await h.client.get("/staff/handoffs", headers={"X-Console-Refresh": "1"})
        response = await h.client.get("/staff/handoffs", allow_redirects=False)
        assert response.status == 302 and "/staff/login" in response.headers["Location"]
        assert "idle=1" in response.headers["Location"]
        status, html = await h.page(response.headers["Location"])
        assert status == 200 and "没有操作" in html and "自动退出" in html
        posted = await h.client.post("/staff/logout", data={"csrf": "x"}, allow_redirects=False)
        assert posted.status == 401 and "没有操作" in await posted.text()

    harness(scenario, console_settings=settings)


def test_settings_read_the_idle_timeout_and_address_limit():
    settings = ConsoleSettings.from_env({"CONSOLE_IDLE_MINUTES": "45", "CONSOLE_IP_LOCKOUT_ATTEMPTS": "12"})
    assert settings.idle_minutes == 45 and settings.ip_lockout_attempts == 12
    defaults = ConsoleSettings.from_env({})
    assert defaults.idle_minutes == 30 and defaults.ip_lockout_attempts == 20
    with pytest.raises(ValueError):
        ConsoleSettings.from_env({"CONSOLE_IDLE_MINUTES": "0"})

