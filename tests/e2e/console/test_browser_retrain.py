"""The loop closed in a real browser: residents' unanswered questions are annotated by staff as
a new FAQ with its answer, the admin retrains, and the running Rasa server then answers those
residents' question with the staff answer.

A tiny assistant (tests/support/review.py's three-intent fixture) trains in seconds and is served by a real
``rasa run --enable-api``; the web app (with the console) runs on loopback with the real
:class:`bot.console.retrain.Retrainer`, which trains, evaluates on the tiny held-out set and
loads the new model with ``PUT /model``.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import yaml
from aiohttp import web

from bot.console.settings import ConsoleSettings
from bot.webchat.app import create_app
from community.records.accounts import Accounts
from community.records.review_queue import IntentScore
from community.store import Store
from tests.support.console import PASSWORD, css, log_in, wait
from tests.support.review import tiny_server  # noqa: F401 - the fixture, shared with tests/support/review.py
from voice.settings import VoiceSettings
from voice.tts import FakeSynthesizer

pytestmark = pytest.mark.slow
ANSWER = "小区地面停车每月150元，请到物业服务中心办理停车证。"


class Served:
    """An aiohttp app on a free loopback port, in its own thread and event loop."""

    def __init__(self, app: web.Application, port: int):
        self.app, self.port = app, port
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def console_site(tiny_server):  # noqa: F811
    settings = tiny_server.settings
    store = Store.from_url(settings.store_url)
    accounts = Accounts(store.engine)
    accounts.create_user("boss", PASSWORD, "admin")
    app = create_app(
        settings,
        voice_settings=VoiceSettings(),
        store=store,
        recognizer=None,
        synthesizer=FakeSynthesizer(),
        console={
            "root": tiny_server.root,
            "console_settings": ConsoleSettings(secure_cookies="never"),
            "tracker": None,
        },
    )
    with Served(app, settings.web_port) as url:
        yield url, store
    store.engine.dispose()


def test_annotate_queued_questions_as_a_new_faq_retrain_and_rasa_answers_it(
    browser,
    console_site,
    tiny_server,  # noqa: F811 - the fixture imported above
):
    url, store = console_site
    question = "小区停车怎么收费"
    assert ANSWER not in tiny_server.reply(question)  # the assistant cannot answer it yet
    for i, text in enumerate((question, "小区停车怎么收费呀", "小区里停车怎么收费")):
        store.review_queue.record(
            text=text,
            channel="web",
            conversation_id=f"web-p{i}",
            reason="fallback",
            top_intents=[IntentScore("out_of_scope", 0.31)],
        )
    log_in(browser, url, "boss")
    browser.get(url + "/staff/review")
    [link] = [a for a in css(browser, "a.qtext") if "停车" in a.text]
    row = link.find_element("xpath", "./ancestor::tr")
    assert "3" in row.find_element("css selector", "td.num").text  # one item, three residents
    link.click()
    wait(browser, lambda d: "这一组里的问题" in d.page_source)
    assert not css(browser, "#new_name")  # nothing to type in English: the name is made from 中文
    css(browser, "#new_label")[0].send_keys("小区停车收费")
    css(browser, "#answer")[0].send_keys(ANSWER)
    [preview] = [b for b in css(browser, "button") if b.text == "预览居民看到的样子"]
    preview.click()
    wait(browser, lambda d: "时会看到" in d.page_source)
    assert ANSWER in css(browser, ".preview .bubble")[0].text
    [create] = [b for b in css(browser, "button") if b.text == "新建问题"]
    create.click()
    wait(browser, lambda d: "已新建问题「小区停车收费」" in d.page_source)
    domain = yaml.safe_load((tiny_server.root / "domain" / "reviewed.yml").read_text(encoding="utf-8"))
    assert domain["responses"]["utter_faq_xiao_qu_ting_che_shou_fei"][0]["text"] == ANSWER

    browser.get(url + "/staff/retrain")
    css(browser, "#retrain-start")[0].click()
    # The page that comes back shows where the job is (not a flash that outlives the job).
    wait(
        browser,
        lambda d: bool(css(d, "#retrain-state"))
        and css(d, "#retrain-state")[0].get_attribute("data-state") != "idle",
    )
    # The page follows the job by itself: progress, then the accuracies and the verdict.
    wait(
        browser,
        lambda d: (
            css(d, "#retrain-state")[0].get_attribute("data-state")
            in ("training", "evaluating", "loading", "done")
        ),
        30,
    )
    wait(
        browser,
        lambda d: css(d, "#retrain-state")[0].get_attribute("data-state") in ("done", "rejected", "failed"),
        600,
    )
    state = css(browser, "#retrain-state")[0]
    assert state.get_attribute("data-state") == "done", state.text
    assert "新模型已上线" in state.text
    # Proving the fix: the reviewed questions were asked again, and the report names the new FAQ.
    browser.get(url + "/staff/retrain")
    assert "这批问题：3 条现在能答了，0 条还不行" in css(browser, "#retrain-state")[0].text
    report = css(browser, "#report-h")[0].find_element("xpath", "./..").text
    assert "小区停车收费（新问题）" in report and "小区停车怎么收费" in report
    assert css(browser, "#retrain-progress")[0].get_attribute("value") == "100"
    assert "原模型准确率" in css(browser, "#retrain-accuracy")[0].text
    assert css(browser, "#retrain-start")[0].is_enabled()  # done: the admin may start again
    # The running server now answers the residents' question with the staff's answer.
    assert ANSWER in tiny_server.reply(question, sender="resident-after-retrain")
    browser.get(url + "/staff/audit")
    assert "开始重新训练" in browser.page_source and "新建问题" in browser.page_source  # in Chinese
    # 试一试 shows it too: the staff answer, as a resident will see it.
    browser.get(url + "/staff/try")
    css(browser, "#try_text")[0].send_keys("小区里停车怎么收费啊")
    [go] = [b for b in css(browser, "button") if b.text == "试一试"]
    go.click()
    wait(browser, lambda d: "居民会看到" in d.page_source)
    assert "小区停车收费" in browser.page_source and ANSWER in css(browser, ".try-result .bubble")[0].text
