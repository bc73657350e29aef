"""The console's JSON API (/staff/api/, issue 17): the same roles and audit as the pages, an
admin-issued token for other systems, CSRF for browsers; and schemathesis, from PyPI, checks the
API against docs/openapi.yaml. schemathesis needs a newer jsonschema than Rasa 3.6 allows, so it
runs from a venv of its own that the fixture creates (once, in ~/.cache/community-assistant)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from community.records.review_queue import IntentScore

ROOT = Path(__file__).resolve().parents[4]
SCHEMATHESIS = "schemathesis==3.39.16"


def seed(h):
    for i, text in enumerate(
        ["有没有上门理发", "想约个理发师上门", "老人能不能在家剪头发", "小区wifi密码多少"]
    ):
        h.store.review_queue.record(
            text=text,
            channel="web",
            conversation_id=f"web-a{i}",
            reason="out_of_scope" if "wifi" in text else "fallback",
            top_intents=[IntentScore("elderly_homecare", 0.6)],
        )
    for i in range(3):
        h.store.handoffs.create(conversation_id=f"web-h{i}", channel="web", reason="asked", text=f"找人{i}")


async def issue_token(h, role="staff", name="12345平台"):
    await h.login("boss")
    token = await h.csrf()
    response = await h.client.post(
        "/staff/api/tokens", json={"name": name, "role": role}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    await h.logout()
    return body


def test_a_token_does_what_the_review_and_inbox_pages_do_and_is_audited(harness, project):
    async def scenario(h):
        seed(h)
        issued = await issue_token(h)
        auth = {"Authorization": f"Bearer {issued['token']}"}
        response = await h.client.get("/staff/api/review/groups", headers=auth)
        body = await response.json()
        assert response.status == 200 and body["total"] == 3  # out of scope has its own tab
        [group] = body["groups"]
        assert group["count"] == 3 and group["top_intents"][0]["label"].startswith("上门养老服务")
        oos = await (await h.client.get("/staff/api/review/groups?tab=out_of_scope", headers=auth)).json()
        assert [g["text"] for g in oos["groups"]] == ["小区wifi密码多少"]
        detail = await (await h.client.get(f"/staff/api/review/groups/{group['key']}", headers=auth)).json()
        assert detail["best_guess"]["intent"] == "elderly_homecare"
        done = await h.client.post(
            f"/staff/api/review/groups/{group['key']}",
            headers=auth,
            json={
                "action": "new_intent",
                "ids": group["ids"],
                "label": "上门理发",
                "answer": "每月第二个周六有志愿者上门理发。",
            },
        )
        assert done.status == 200, await done.text()
        assert await done.json() == {
            "status": "new_intent",
            "count": 3,
            "intent": "faq_shang_men_li_fa",
            "label": "上门理发",
        }
        tried = await (
            await h.client.post("/staff/api/try", headers=auth, json={"text": "老年食堂在哪"})
        ).json()
        assert tried["label"] == "老年助餐" and tried["replies"][0]["text"].startswith("助手回答")
        assert h.store.review_queue.pending(reasons=["fallback"]) == []  # 试一试 records nothing
        inbox = await (await h.client.get("/staff/api/handoffs?status=waiting", headers=auth)).json()
        assert inbox["waiting_count"] == 3 and len(inbox["handoffs"]) == 3
        ids = [x["id"] for x in inbox["handoffs"][:2]]
        closed = await h.client.post(
            "/staff/api/handoffs/close", headers=auth, json={"ids": ids, "note": "已电话联系"}
        )
        assert (await closed.json()) == {"closed": 2}
        # Same roles: a staff token cannot retrain or issue tokens.
        assert (await h.client.get("/staff/api/retrain", headers=auth)).status == 403
        assert (await h.client.post("/staff/api/tokens", headers=auth, json={"name": "x"})).status == 403
        actions = [(r["actor"], r["action"]) for r in h.store.audit.list()]
        assert ("接口:12345平台", "review_new_intent") in actions and (
            "接口:12345平台",
            "handoff_close",
        ) in actions
        # Revoked: refused at once.
        await h.login("boss")
        csrf = await h.csrf()
        assert (
            await h.client.delete(f"/staff/api/tokens/{issued['id']}", headers={"X-CSRF-Token": csrf})
        ).status == 200
        await h.logout()
        refused = await h.client.get("/staff/api/review/groups", headers=auth)
        assert refused.status == 401 and "收回" in (await refused.json())["message"]

    harness(scenario, root=project)


def test_a_browser_session_needs_the_csrf_header_from_its_own_origin(harness, project):
    async def scenario(h):
        seed(h)
        await h.login("wang")
        assert (await h.client.get("/staff/api/review/groups")).status == 200  # reading: the cookie is enough
        body = {"keys": ["nothing"], "action": "noise"}
        assert (await h.client.post("/staff/api/review/bulk", json=body)).status == 403
        token = await h.csrf()
        foreign = await h.client.post(
            "/staff/api/review/bulk",
            json=body,
            headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
        )
        assert foreign.status == 403
        ok = await h.client.post("/staff/api/review/bulk", json=body, headers={"X-CSRF-Token": token})
        assert ok.status == 400 and "勾选" in (await ok.json())["message"]  # Chinese, for staff
        await h.logout()
        assert (await h.client.get("/staff/api/review/groups")).status == 401

    harness(scenario, root=project)


@pytest.fixture(scope="session")
def schemathesis_bin() -> Path:
    """schemathesis from PyPI in a venv of its own (its jsonschema conflicts with Rasa's pin)."""
    venv = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "community-assistant"
        / ("schemathesis-" + SCHEMATHESIS.split("==")[1])
    )
    st = venv / "bin" / "st"
    if not st.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        result = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", SCHEMATHESIS], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.fail(f"could not install {SCHEMATHESIS} from PyPI: {result.stderr[-2000:]}")
    return st


@pytest.mark.slow
def test_the_api_matches_its_openapi_file(harness, project, schemathesis_bin, tmp_path):  # noqa: F811
    class Trainer:  # the retrain job itself is tested in tests/support/review.py; here only its API
        def start(self, actor):
            return False

        def status(self):
            return {"state": "idle", "message": "尚未开始训练。", "progress": 0, "report": []}

    async def scenario(h):
        seed(h)
        issued = await issue_token(h, role="admin", name="契约测试")
        base = str(h.client.make_url("/staff"))
        process = await asyncio.create_subprocess_exec(
            str(schemathesis_bin),
            "run",
            str(ROOT / "docs" / "openapi.yaml"),
            "--base-url",
            base,
            "-H",
            f"Authorization: Bearer {issued['token']}",
            "--checks",
            "all",
            "--method",
            "GET",
            "--method",
            "POST",
            "--hypothesis-max-examples",
            "15",
            "--hypothesis-derandomize",
            "--junit-xml",
            str(tmp_path / "st.xml"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"},
        )
        out, _ = await asyncio.wait_for(process.communicate(), 600)
        text = out.decode("utf-8", "replace")
        print(text[-3000:])
        assert process.returncode == 0, text[-6000:]

    harness(scenario, root=project, retrainer=Trainer())


def test_the_try_box_on_a_group_page_and_its_own_page_show_the_answer(harness, project):
    async def scenario(h):
        seed(h)
        await h.login("wang")
        _, queue = await h.page("/staff/review")
        key = re.search(r'href="/staff/review/([A-Za-z0-9_-]+)"', queue).group(1)
        response = await h.post(f"/staff/review/{key}", [("action", "try"), ("try_text", "老年食堂在哪")])
        page = await response.text()
        assert response.status == 200, page[-2000:]
        assert "助手的理解：<strong>老年助餐</strong>" in page and "助手回答：老年食堂在哪" in page
        status, page = await h.page("/staff/try?q=老年食堂在哪")
        assert status == 200 and "居民会看到" in page

    harness(scenario, root=project)


def test_every_api_route_declares_its_role_and_refuses_anonymous_callers(harness):
    from bot.console.api_pages import API_ROUTES

    assert all(getattr(handler, "role", None) in ("staff", "admin") for _, _, handler in API_ROUTES)

    async def scenario(h):
        for method, path, _ in API_ROUTES:
            url = "/staff" + path.replace("{key:[A-Za-z0-9_-]{1,64}}", "abc").replace("{id:\\d+}", "1")
            response = await h.client.request(method, url, json={}, allow_redirects=False)
            assert response.status == 401, url
            assert "请先登录" in (await response.json())["message"]
            bad = await h.client.request(method, url, headers={"Authorization": "Bearer sqa_nope"})
            assert bad.status == 401, url
        assert h.rasa.requests == []  # nothing reached Rasa either

    harness(scenario)
