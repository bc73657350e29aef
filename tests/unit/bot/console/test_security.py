"""Security of the console over real HTTP: every route refuses anonymous users and the wrong
role, every POST needs the session's CSRF token, resident text is escaped, logins lock out,
cookies are HttpOnly/SameSite=Strict (Secure when configured), no open redirects."""

from __future__ import annotations

import re

import pytest

from bot.console.app import PREFIX, ROUTES
from bot.console.settings import ConsoleSettings
from community.records.review_queue import IntentScore
from tests.support.console import CSRF_FIELD, PASSWORD

ADMIN_ONLY = {path for method, path, handler in ROUTES if handler.role == "admin"}
SAMPLE = {
    "{key:[A-Za-z0-9_-]{1,64}}": "abc123",
    "{id:\\d+}": "1",
    "{ref:SQ-\\d{8}-\\d{4}}": "SQ-20261129-0001",
}


def concrete(path: str) -> str:
    for pattern, value in SAMPLE.items():
        path = path.replace(pattern, value)
    return PREFIX + path


def test_every_route_declares_its_role():
    assert all(getattr(handler, "role", None) in ("staff", "admin") for _, _, handler in ROUTES)
    assert {"/retrain", "/retrain/status", "/users", "/audit"} <= ADMIN_ONLY


def test_every_route_refuses_anonymous_users(harness):
    async def scenario(h):
        for method, path, _ in ROUTES:
            url = concrete(path)
            response = await h.client.request(method, url, data={"csrf": "x"}, allow_redirects=False)
            body = await response.text()
            if method == "GET":
                assert response.status == 302, url
                assert response.headers["Location"].startswith("/staff/login?next="), url
            else:
                assert response.status == 401 and "请先登录" in body, url
        assert h.rasa.requests == []  # nothing reached Rasa either

    harness(scenario)


def test_staff_cannot_use_admin_routes_but_admin_can(harness):
    async def scenario(h):
        assert (await h.login("wang")).status == 302
        token = await h.csrf()
        for method, path, handler in ROUTES:
            if handler.role != "admin":
                continue
            url = concrete(path)
            response = await h.client.request(method, url, data={"csrf": token}, allow_redirects=False)
            assert response.status == 403, url
            assert "只有管理员" in await response.text()
        _, html = await h.page("/staff/handoffs")
        assert "重新训练" not in html and "账号" not in html  # not even offered
        await h.logout()
        assert (await h.login("boss")).status == 302
        for path in ("/staff/users", "/staff/audit", "/staff/retrain"):
            status, _ = await h.page(path)
            assert status == 200, path

    harness(scenario)


def test_every_post_needs_the_sessions_csrf_token(harness):
    async def scenario(h):
        await h.login("boss")
        good = await h.csrf()
        for method, path, _ in ROUTES:
            if method != "POST":
                continue
            url = concrete(path)
            for data in ({}, {"csrf": "wrong"}, {"csrf": good + "x"}):
                response = await h.client.post(url, data=data, allow_redirects=False)
                assert response.status == 403, (url, data)
                assert "CSRF" in await response.text()
            # The right token from another origin is refused too.
            response = await h.client.post(
                url, data={"csrf": good}, headers={"Origin": "http://evil.example"}, allow_redirects=False
            )
            assert response.status == 403, url
        # Nothing happened: still logged in, no user created.
        assert (await h.page("/staff/users"))[0] == 200

    harness(scenario)


def test_login_form_needs_its_csrf_token(harness):
    async def scenario(h):
        await h.page("/staff/login")
        response = await h.client.post(
            "/staff/login", data={"username": "boss", "password": PASSWORD}, allow_redirects=False
        )
        assert response.status == 403 and "CSRF" in await response.text()
        response = await h.client.post(
            "/staff/login",
            data={"username": "boss", "password": PASSWORD, "csrf": "forged"},
            allow_redirects=False,
        )
        assert response.status == 403
        assert "sqa_staff" not in response.cookies

    harness(scenario)


def test_resident_script_is_shown_as_text_everywhere(harness):
    attack = "<script>alert(1)</script>"

    async def scenario(h):
        h.store.review_queue.record(
            text=attack,
            channel="web",
            conversation_id="web-x1",
            reason="fallback",
            top_intents=[IntentScore("out_of_scope", 0.2)],
        )
        handoff = h.store.handoffs.create(
            conversation_id="web-x1", channel="web", reason="asked", text=attack
        )
        h.rasa.events["web-x1"].append({"event": "user", "text": attack, "timestamp": 1.0})
        from community.records.requests import NewRequest

        request = h.store.requests.create(
            NewRequest(
                kind="report",
                title="反映问题",
                channel="web",
                conversation_id="web-x1",
                fields={attack: attack},
                summary=attack,
                contact_name=attack,
                address=attack,
            )
        )
        await h.login("boss")
        _, queue = await h.page("/staff/review")
        key = re.search(r'href="/staff/review/([^"]+)"', queue).group(1)
        pages = [
            "/staff/review",
            f"/staff/review/{key}",
            "/staff/handoffs",
            f"/staff/handoffs/{handoff}",
            f"/staff/handoffs/{handoff}/transcript",
            "/staff/requests",
            f"/staff/requests/{request['ref']}",
            "/staff/stats",
        ]
        for path in pages:
            status, html = await h.page(path)
            assert status == 200, path
            assert attack not in html and "<script>" not in html, path
            if path != "/staff/requests":  # the list masks the name: <******>
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        # The same on the login page's echo of a username.
        _, html = await h.page("/staff/login")
        token = CSRF_FIELD.search(html).group(1)
        response = await h.client.post(
            "/staff/login", data={"username": attack, "password": "x", "csrf": token}
        )
        assert attack not in await response.text()

    harness(scenario)


def test_pages_forbid_inline_script_and_framing(harness):
    async def scenario(h):
        response = await h.client.get("/staff/login")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        html = await response.text()
        assert "http://" not in html and "https://" not in html  # nothing from the internet
        assert "<script>" not in html  # only the project's own script file

    harness(scenario)


def test_lockout_after_repeated_failures(harness):
    async def scenario(h):
        for _ in range(4):
            response = await h.login("li", "wrong password 123")
            assert response.status == 401 and "用户名或密码不对" in await response.text()
        response = await h.login("li", "wrong password 123")  # the fifth failure locks the account
        assert response.status == 429 and "锁定" in await response.text()
        response = await h.login("li", PASSWORD)  # the right password, but too late
        assert response.status == 429 and "锁定" in await response.text()
        assert "sqa_staff" not in response.cookies
        await h.login("boss")
        _, audit = await h.page("/staff/audit")
        assert "登录失败" in audit and "登录被锁定" in audit

    harness(scenario)


def test_session_cookie_flags(harness):
    async def scenario(h):
        response = await h.login("wang")
        cookie = response.cookies["sqa_staff"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
        assert not cookie["secure"]  # configured "never": plain http in development

    harness(scenario)


def test_cookies_are_secure_when_configured(harness):
    async def scenario(h):
        page = await h.client.get("/staff/login")
        token = page.cookies["sqa_staff_login"]
        assert token["secure"] and token["httponly"] and token["samesite"] == "Strict"
        # Over plain http the browser would not send a Secure cookie back; send it by hand.
        response = await h.client.post(
            "/staff/login",
            allow_redirects=False,
            headers={"Cookie": f"sqa_staff_login={token.value}"},
            data={"username": "wang", "password": PASSWORD, "csrf": token.value},
        )
        cookie = response.cookies["sqa_staff"]
        assert response.status == 302 and cookie["secure"] and cookie["httponly"]
        # Behind an https proxy the browser's Origin is https: accepted, any other host is not.
        host = f"{h.client.host}:{h.client.port}"
        for origin, status in ((f"https://{host}", 302), ("https://evil.example", 403)):
            page = await h.client.get("/staff/login")
            token = page.cookies["sqa_staff_login"].value
            response = await h.client.post(
                "/staff/login",
                allow_redirects=False,
                headers={"Cookie": f"sqa_staff_login={token}", "Origin": origin},
                data={"username": "wang", "password": PASSWORD, "csrf": token},
            )
            assert response.status == status, origin

    harness(scenario, console_settings=ConsoleSettings(secure_cookies="always"))


def test_login_rotates_the_session_and_logout_ends_it(harness):
    async def scenario(h):
        await h.login("wang")
        first = h.client.session.cookie_jar.filter_cookies(h.client.make_url("/staff/"))["sqa_staff"].value
        await h.login("wang")
        second = h.client.session.cookie_jar.filter_cookies(h.client.make_url("/staff/"))["sqa_staff"].value
        assert first != second and h.accounts.session(first) is None
        await h.logout()
        assert h.accounts.session(second) is None
        status, _ = await h.page("/staff/handoffs", allow_redirects=False)
        assert status == 302

    harness(scenario)


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/elsewhere", "/staff\\@evil"]
)
def test_no_open_redirect_after_login(harness, target):
    async def scenario(h):
        _, html = await h.page(f"/staff/login?next={target}")
        token = CSRF_FIELD.search(html).group(1)
        response = await h.client.post(
            "/staff/login",
            allow_redirects=False,
            data={"username": "wang", "password": PASSWORD, "csrf": token, "next": target},
        )
        assert response.status == 302 and response.headers["Location"] == "/staff/"

    harness(scenario)


def test_login_returns_to_the_page_asked_for(harness):
    async def scenario(h):
        response = await h.client.get("/staff/requests?status=done", allow_redirects=False)
        target = response.headers["Location"]
        _, html = await h.page(target)
        token = CSRF_FIELD.search(html).group(1)
        next_value = re.search(r'name="next" value="([^"]+)"', html).group(1)
        response = await h.client.post(
            "/staff/login",
            allow_redirects=False,
            data={
                "username": "wang",
                "password": PASSWORD,
                "csrf": token,
                "next": next_value.replace("&amp;", "&"),
            },
        )
        assert response.headers["Location"] == "/staff/requests?status=done"

    harness(scenario)
