"""What an elderly or disabled resident sees and hears on Telegram (issue 13): voice promised
only when it is there, 长辈模式 that keeps the essentials, 👍/👎 under final answers only,
finished steps' buttons that stop acting, menus that reach every service, and spoken answers
within the kiosk's 20 seconds. Against the fake Bot API over real HTTP and a fake Rasa that
answers with the assistant's own replies (community.answers on the sample catalogue)."""

from __future__ import annotations

import asyncio
import json
import shutil
import time

import pytest

from bot.resident.service import ResidentService
from bot.telegram import texts
from community.answers import domain_menu, service_answer, short_answer
from community.catalogue import load_catalogue
from community.settings import Settings
from tests.support.fake_telegram_api import FakeRasa, callback_update, markup, text_update, voice_update
from voice.asr import FakeRecognizer
from voice.audio import read_wav
from voice.speech_text import speech_text
from voice.tts import FakeSynthesizer

CHAT = 1313
CATALOGUE = load_catalogue("catalogue")
ALLOWANCE = CATALOGUE.get("elderly_allowance_age")
THUMBS = ["👍 有用", "👎 没用"]


def reply_of(reply) -> dict:
    return {"text": reply.text, "buttons": [b.as_dict() for b in reply.buttons]}


def assistant(message: str) -> list[dict]:
    """The assistant's replies for the messages these tests send."""
    if "津贴" in message or ALLOWANCE.id in message:
        return [reply_of(service_answer(ALLOWANCE))]
    if message.startswith("/elderly_meal"):
        page = json.loads(message[len("/elderly_meal"):])["menu"]
        return [reply_of(domain_menu(CATALOGUE, "", "elderly", int(page.partition("-")[2] or 1)))]
    if "字太小" in message:  # action_interface_help: the web chat's words, and the switch
        return [{"text": "已为您打开大字模式（网页聊天右上角「大字模式」按钮也可以开关）。",
                 "buttons": [{"title": "找人工", "payload": "/human_handoff"}]},
                {"custom": {"interface": "large"}}]
    return [{"text": f"答：{message}"}]


def buttons(call) -> list[str]:
    return [b["text"] for row in markup(call).get("inline_keyboard", []) for b in row]


def button(call, title: str) -> str:
    rows = markup(call)["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == title)


def answered(bot, text: str) -> bool:
    return any(c.params.get("text") == text for c in bot.api.sent("answerCallbackQuery"))


# --- voice is promised only when it is there -------------------------------------------------


def test_without_speech_recognition_start_and_help_promise_no_voice(make_bot):
    bot = make_bot(FakeRasa(), recognizer=None, synthesizer=None)
    bot.send(text_update(CHAT, "/start"))
    welcome = bot.wait_text("社区服务助手").params["text"]
    bot.send(text_update(CHAT, "/help"))
    help_ = bot.wait_text("/myrequests").params["text"]
    assert "语音" not in welcome and "发语音" not in help_ and "/voice" not in help_
    assert "听不了语音消息" in help_ and Settings.community_phone in help_  # said once, plainly
    [commands] = [c for c in bot.api.calls if c.method == "setMyCommands"]
    assert "voice" not in str(commands.params["commands"])
    bot.send(text_update(CHAT, "/voice"))
    assert bot.wait_text("不能用语音").params["text"] == texts.NO_SPEECH


def test_with_speech_recognition_voice_is_offered_and_voice_notes_are_fetched_and_heard(make_bot):
    from tests.unit.bot.telegram.test_voice import AISHELL

    recognizer = FakeRecognizer(["高龄 津贴 怎么 申请"])
    bot = make_bot(FakeRasa(assistant), recognizer=recognizer, synthesizer=FakeSynthesizer(0.01),
                   catalogue=CATALOGUE)
    bot.send(text_update(CHAT, "/start"))
    assert "发语音" in bot.wait_text("社区服务助手").params["text"]
    wav = sorted(AISHELL.glob("*.wav"))[0]
    bot.api.files["v1"] = wav.read_bytes()
    bot.send(voice_update(CHAT, "v1", 5))
    bot.wait_text("我听到的是：高龄津贴怎么申请")
    bot.wait_text("【高龄津贴】")
    assert [c.method for c in bot.api.calls if c.method in ("getFile", "download")] == ["getFile", "download"]


def test_with_voice_replies_on_every_reply_is_spoken_apologies_included(make_bot):
    synthesizer = FakeSynthesizer(seconds_per_char=0.01)
    rasa = FakeRasa(lambda m: [] if not rasa.healthy else [{"text": f"答：{m}"}])
    bot = make_bot(rasa, recognizer=None, synthesizer=synthesizer)
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_ON)
    bot.send(voice_update(CHAT, "v2", 3))  # no recogniser here: the apology
    bot.wait_text(texts.VOICE_UNAVAILABLE)
    rasa.healthy = False  # the action server is down: the recovery reply
    bot.send(text_update(CHAT, "高龄津贴"))
    bot.wait_text("系统正在恢复")
    rasa.healthy = True
    bot.wait_text("答：高龄津贴")
    bot.wait_for(lambda: len(bot.api.sent("sendVoice")) >= 4, what="four voice notes")
    said = [text for text, _ in synthesizer.calls]
    for reply in (texts.VOICE_ON, texts.VOICE_UNAVAILABLE, "系统正在恢复", "答：高龄津贴"):
        assert any(reply[:6] in s for s in said), (reply, said)
    assert not bot.api.sent("getFile")  # nothing fetched that could not be heard


# --- 长辈模式 ---------------------------------------------------------------------------------


def test_elder_mode_keeps_where_what_to_bring_and_the_phone_and_offers_the_rest(make_bot):
    synthesizer = FakeSynthesizer(seconds_per_char=0.01)
    rasa = FakeRasa(assistant)
    bot = make_bot(rasa, synthesizer=synthesizer, catalogue=CATALOGUE)
    bot.send(text_update(CHAT, "长辈模式"))  # the big button (or the words)
    on = bot.wait_text("已打开长辈模式")
    assert "resize_keyboard" not in markup(on)  # as tall as the standard keyboard
    assert [b["text"] for row in markup(on)["keyboard"] for b in row][-1] == "退出长辈模式"
    assert not rasa.received  # the channel's own switch: the conversation stays where it was
    bot.send(text_update(CHAT, "高龄津贴怎么申请"))
    call = bot.wait_text("高龄津贴：")
    full = service_answer(ALLOWANCE).text
    short = call.params["text"]
    assert ALLOWANCE.where in short and all(m in short for m in ALLOWANCE.materials)
    assert "010-8765-4300" in short and ALLOWANCE.hours not in short
    print(f"\n长辈模式 高龄津贴: {len(full)} characters in full, {len(short)} in elder mode")
    assert buttons(call) == ["办理时间", "电话", "更多", "找人工", *THUMBS]
    bot.wait_for(lambda: bot.api.sent("sendVoice")[1:], what="the spoken essentials")  # after 已打开…
    assert synthesizer.calls[-1][0] == speech_text(texts.spoken_text(short_answer(ALLOWANCE)))
    bot.send(callback_update(CHAT, button(call, "办理时间")))  # the rest, from the catalogue
    bot.wait_text(f"办理时间：{ALLOWANCE.hours}")
    bot.send(callback_update(CHAT, button(call, "更多")))
    assert ALLOWANCE.eligibility.rstrip("。") in bot.wait_text("谁可以办：").params["text"]
    assert len(rasa.received) == 1
    bot.wait_for(lambda: len(bot.api.sent("sendVoice")) >= 4, what="the parts spoken too")
    bot.send(text_update(CHAT, "退出长辈模式"))
    off = bot.wait_text(texts.ELDER_OFF)
    assert markup(off)["resize_keyboard"] is True


@pytest.mark.parametrize("words", ["字大一点", "读给我听", "请帮我打开长辈模式", "字太小了看不清"])
def test_elder_mode_is_reached_by_words(make_bot, words):
    rasa = FakeRasa(assistant)
    bot = make_bot(rasa, synthesizer=FakeSynthesizer(0.01), catalogue=CATALOGUE)
    bot.send(text_update(CHAT, words))
    on = bot.wait_text("已打开长辈模式")
    assert "resize_keyboard" not in markup(on)
    if "字太小" in words:  # the assistant's interface_help answer, worded for Telegram here
        assert [r["message"] for r in rasa.received] == [words] and texts.FONT_TIP in on.params["text"]
        time.sleep(0.3)
        assert not any("网页聊天" in t for t in bot.api.texts())
    else:
        assert not rasa.received
    bot.send(text_update(CHAT, "高龄津贴"))
    assert "010-8765-4300" in bot.wait_text("高龄津贴：").params["text"]


# --- 👍/👎 under final answers only; finished steps -----------------------------------------


class MealForm:
    """A fake assistant that runs a short 助餐 form (the tracker says when the form waits)."""

    SUMMARY = "请核对：助餐登记，张秀英，82岁，3栋2单元501。信息对吗？"

    def __init__(self) -> None:
        self.rasa = FakeRasa(self.answer)

    @classmethod
    def waiting(cls, make_bot) -> tuple[MealForm, object]:
        """A bot whose resident is in the middle of the form."""
        form = cls()
        form.rasa.active_loop[f"tg-{CHAT}"] = "request_form"
        return form, make_bot(form.rasa)

    def answer(self, message: str) -> list[dict]:
        sender = f"tg-{CHAT}"
        cancel = {"title": "取消办理", "payload": "/cancel"}
        if message == "我要报助餐":
            self.rasa.active_loop[sender] = "request_form"
            return [{"text": "好的，帮您登记助餐。"}, {"text": "请问老人怎么称呼？"}]
        if message == "张秀英":
            return [{"text": "在社区食堂吃，还是送餐上门？",
                     "buttons": [{"title": "食堂就餐", "payload": "食堂就餐"},
                                 {"title": "送餐上门", "payload": "送餐上门"}, cancel]}]
        if message == "送餐上门":
            confirm = {"title": "确认提交", "payload": "/affirm"}
            handoff = {"title": "找人工", "payload": "/human_handoff"}
            return [{"text": self.SUMMARY, "buttons": [confirm, handoff, cancel]}]
        if message in ("/affirm", "对"):
            self.rasa.active_loop.pop(sender, None)
            return [{"text": "已提交，编号 SQ-20260101-0001。工作人员3个工作日内联系您。"}]
        return assistant(message)


def test_thumbs_only_under_final_answers_then_the_rated_buttons_say_so(make_bot, sqlite_url):
    form = MealForm()
    bot = make_bot(form.rasa, catalogue=CATALOGUE)
    bot.send(text_update(CHAT, "养老服务"))  # a menu
    bot.wait_text("请点选")
    for said in ("我要报助餐", "张秀英", "送餐上门"):  # a form: two questions, then the summary
        before = len(bot.api.texts(CHAT))
        bot.send(text_update(CHAT, said))
        bot.wait_for(lambda b=before: len(bot.api.texts(CHAT)) > b, what=f"the reply to {said}")
    summary = bot.wait_text("请核对")
    bot.send(callback_update(CHAT, button(summary, "确认提交"), summary.message_id))
    final = bot.wait_text("已提交")
    sent = bot.api.sent(chat_id=CHAT)
    with_thumbs = [c.params["text"][:12] for c in sent if THUMBS[0] in buttons(c)]
    with_buttons = [c for c in sent if markup(c)]
    print(f"\n👍/👎 under {len(with_thumbs)} of {len(with_buttons)} messages with buttons")
    assert with_thumbs == [final.params["text"][:12]]  # not the menu, the questions, the summary
    bot.send(callback_update(CHAT, button(final, THUMBS[0]), final.message_id))
    edit = bot.wait_for(lambda: bot.api.edits(CHAT), what="the rated message edited")[0]
    assert int(edit.params["message_id"]) == final.message_id
    assert [b["text"] for row in json.loads(edit.params["reply_markup"])["inline_keyboard"] for b in row] == [
        "已评价 👍"]
    assert answered(bot, texts.RATED_UP)
    done = json.loads(edit.params["reply_markup"])["inline_keyboard"][0][0]["callback_data"]
    bot.send(callback_update(CHAT, done, final.message_id))
    bot.wait_for(lambda: answered(bot, texts.RATED_ALREADY), what="rated already")
    from community.store import Store

    assert len(Store.from_url(sqlite_url).ratings.list(f"tg-{CHAT}")) == 1


def test_buttons_of_finished_steps_stop_answering(make_bot):
    form, bot = MealForm.waiting(make_bot)
    bot.send(text_update(CHAT, "张秀英"))
    question = bot.wait_text("送餐上门？")
    bot.send(callback_update(CHAT, button(question, "送餐上门")))
    summary = bot.wait_text("请核对")
    confirm = button(summary, "确认提交")
    bot.send(callback_update(CHAT, confirm))
    bot.wait_text("已提交")
    bot.send(callback_update(CHAT, confirm))  # a second tap (a shaky hand, or later)
    bot.send(callback_update(CHAT, button(question, "食堂就餐")))  # an earlier question's button
    bot.wait_for(lambda: [c.params.get("text") for c in bot.api.sent("answerCallbackQuery")].count(
        texts.STEP_DONE) == 2, what="two 这一步已经完成了")
    time.sleep(0.3)
    assert [r["message"] for r in form.rasa.received] == ["张秀英", "送餐上门", "/affirm"]  # one submission
    assert bot.api.texts(CHAT).count("已提交，编号 SQ-20260101-0001。工作人员3个工作日内联系您。") == 1


def test_typing_the_answer_finishes_the_step_too(make_bot):
    form, bot = MealForm.waiting(make_bot)
    bot.send(text_update(CHAT, "送餐上门"))
    summary = bot.wait_text("请核对")
    bot.send(text_update(CHAT, "对"))
    bot.wait_text("已提交")
    bot.send(callback_update(CHAT, button(summary, "确认提交")))
    bot.wait_for(lambda: answered(bot, texts.STEP_DONE), what="这一步已经完成了")
    assert [r["message"] for r in form.rasa.received] == ["送餐上门", "对"]


# --- menus reach every service ---------------------------------------------------------------


def test_the_elderly_menu_reaches_高龄津贴_and_every_service_by_more(make_bot):
    rasa = FakeRasa(assistant)
    bot = make_bot(rasa, catalogue=CATALOGUE)
    bot.send(text_update(CHAT, "养老服务"))
    menu = bot.wait_text("关于「养老服务」")
    titles = buttons(menu)
    assert "高龄津贴" in titles and "在线办理" not in titles and titles[-2:] == ["更多…", "找人工"]
    assert not set(THUMBS) & set(titles) and len(titles) <= 8
    reached, page = set(titles), menu
    while "更多…" in buttons(page):
        before = len(bot.api.texts(CHAT))
        bot.send(callback_update(CHAT, button(page, "更多…")))
        bot.wait_for(lambda b=before: len(bot.api.texts(CHAT)) > b, what="the next page")
        page = bot.api.sent(chat_id=CHAT)[-1]
        reached |= set(buttons(page))
    assert {s.name for s in CATALOGUE.for_domain("elderly")} <= reached
    assert rasa.received[1]["message"] == '/elderly_meal{"menu":"domain-2"}'
    bot.send(callback_update(CHAT, button(menu, "高龄津贴")))
    assert "010-8765-4300" in bot.wait_text("【高龄津贴】").params["text"]


# --- spoken answers within the kiosk's 20 seconds (the real synthesiser) ------------------------


@pytest.fixture(scope="module")
def espeak():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng (make does it as root)")
    from voice.settings import VoiceSettings
    from voice.tts import Pyttsx3Synthesizer

    synthesizer = Pyttsx3Synthesizer.from_settings(VoiceSettings.from_env())
    synthesizer.start()
    yield synthesizer
    synthesizer.close()


def seconds(service: ResidentService, text: str) -> float:
    return read_wav(asyncio.run(service.speak(text))).duration


def test_a_spoken_answer_says_the_essentials_within_20_seconds(make_bot, espeak):
    bot = make_bot(FakeRasa(assistant), synthesizer=espeak, catalogue=CATALOGUE)
    bot.send(text_update(CHAT, "/voice"))
    bot.wait_text(texts.VOICE_ON)
    bot.send(text_update(CHAT, "高龄津贴怎么申请"))
    call = bot.wait_text("【高龄津贴】")
    assert call.params["text"] == service_answer(ALLOWANCE).text  # the eye gets it all
    assert buttons(call)[-6:] == ["办理时间", "电话", "更多", "找人工", *THUMBS]
    voice = bot.wait_for(lambda: bot.api.sent("sendVoice")[1:], timeout=60, what="the spoken answer")[0]
    service = bot.channel.service
    before = seconds(service, service_answer(ALLOWANCE).text)
    after = seconds(service, texts.spoken_text(short_answer(ALLOWANCE)))
    print(f"\n高龄津贴 spoken: {before:.1f} s whole, {after:.1f} s as its essentials")
    assert after <= 20.0 < before and int(voice.params["duration"]) <= 20
