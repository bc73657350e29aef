"""The kiosk session with fakes: greeting, keys, confirmation, barge-in, idle reset, Rasa down."""

from __future__ import annotations

import asyncio

from tests.support.kiosk import free_port, make_kiosk, said, spoken
from voice.asr import FakeRecognizer
from voice.keypad import MENU_PROMPT
from voice.kiosk import KEYPAD_ONLY_NOTICE, after_playback, scripted_keys
from voice.kiosk_outputs import AnsiScreen, RecordingScreen
from voice.pipeline import KeyPressed, SpeechEnded, SpeechStarted, Utterance
from voice.tts import SpeechRate


async def keys(kiosk, script: str, **run) -> None:
    await kiosk.run(after_playback(kiosk, scripted_keys(list(script))), **run)


def test_keypad_only_greeting_says_so(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url)
        await kiosk.start()
        await kiosk.close()
        assert said(kiosk, "只能按键") and said(kiosk, "按二")
        assert "只能按键" in kiosk.screen.status

    with_rasa(scenario)


def test_speech_in_keypad_only_mode_points_to_the_keys(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url)
        await kiosk.start(greet=False)
        await kiosk.handle(SpeechStarted(0.1))
        await kiosk.handle(SpeechEnded(1.0))
        await kiosk.close()
        assert spoken(kiosk) == [KEYPAD_ONLY_NOTICE, MENU_PROMPT] and rasa.received == []

    with_rasa(scenario)


def test_menu_key_repeat_slower_louder(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url)
        await kiosk.start()
        await keys(kiosk, "2*09")
        await kiosk.close()
        assert rasa.received[0]["message"] == '/elderly_meal{"menu":"domain"}'
        assert rasa.received[0]["metadata"] == {"channel": "kiosk"}
        texts = spoken(kiosk)
        question = "关于养老服务，您想问哪一项？"
        assert texts.count(question) == 3  # answer, * repeat, and again after 0
        assert any(t.startswith("可以说：老年餐桌") for t in texts)
        assert "重听请按星号，转人工请按井号。" in texts  # the pause after each answer
        rates = [rate for text, rate in kiosk.synthesizer.calls if text == question]
        assert rates == [SpeechRate.NORMAL, SpeechRate.NORMAL, SpeechRate.SLOW]
        assert kiosk.synthesizer.calls[-1] == ("好的，我大声一点。", SpeechRate.SLOW)  # stays slow
        assert kiosk.resident.gain > 1.0
        assert "老年餐桌" in kiosk.screen.answer

    with_rasa(scenario)


def test_handoff_with_read_back_callback_number(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url)
        await kiosk.start()
        await keys(kiosk, "2#13812345678#1")
        await kiosk.close()
        assert said(kiosk, "幺三八 幺二三四 五六七八")
        [row] = kiosk.service.store.handoffs.list()
        assert row["channel"] == "kiosk" and row["conversation_id"] == kiosk.resident.sender
        assert row["text"].startswith("回电号码：13812345678")
        assert "按键：2 养老" in row["text"] and "助手：关于「养老服务」" in row["text"]
        assert said(kiosk, "已转人工")

    with_rasa(scenario)


def test_while_staff_hold_the_conversation_the_kiosk_says_they_will_answer(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        await kiosk.start(greet=False)
        sender = kiosk.resident.sender
        kiosk.service.store.handoffs.create(conversation_id=sender, channel="kiosk", reason="asked", text="x")
        rasa.paused.add(sender)  # Rasa is silent for a conversation staff took over
        await kiosk.handle(Utterance("高龄津贴", 0.9))
        await kiosk.close()
        assert said(kiosk, "工作人员已经收到您的消息")
        assert not said(kiosk, "没听清")

    with_rasa(scenario)


def test_an_emergency_while_rasa_is_down_hears_119_and_reaches_the_staff_inbox():
    async def scenario():
        kiosk = make_kiosk(f"http://127.0.0.1:{free_port()}", FakeRecognizer(["x"]))
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("我家着火了", 0.9))
        await kiosk.close()
        assert spoken(kiosk)[0].startswith("请马上拨打 119")
        [row] = kiosk.service.store.handoffs.list()
        assert row["emergency"] and row["channel"] == "kiosk" and "着火" in row["text"]

    asyncio.run(scenario())


def test_saying_cannot_hear_slows_the_kiosk_down_for_the_rest_of_the_visit(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["你说的我听不清"]))
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("你说的我听不清", 0.9))
        await kiosk.wait_for_playback()
        await kiosk.handle(Utterance("高龄津贴", 0.9))
        await kiosk.wait_for_playback()
        await kiosk.close()
        assert [m["message"] for m in rasa.received] == ["你说的我听不清", "高龄津贴"]
        assert kiosk.resident.rate is SpeechRate.SLOW
        rates = {rate for text, rate in kiosk.synthesizer.calls if "我说慢一点" in text or "4300" in text}
        assert rates == {SpeechRate.SLOW}  # the answer to 听不清 itself, and the next one

    with_rasa(scenario)


def test_medium_confidence_is_confirmed_with_a_grammar(with_rasa):
    async def scenario(rasa):
        rasa.confidence = 0.5
        recognizer = FakeRecognizer(["对"])
        kiosk = make_kiosk(rasa.url, recognizer)
        await kiosk.start(greet=False)
        assert kiosk.confirm_grammar is not None and kiosk.grammar_for() is None
        await kiosk.handle(Utterance("那个津贴的事", 0.8))
        await kiosk.wait_for_playback()
        assert said(kiosk, "^您是想问高龄津贴，对吗？$") and rasa.received == []
        assert kiosk.grammar_for() is kiosk.confirm_grammar
        await kiosk.handle(Utterance("对", 0.9))
        await kiosk.close()
        assert [m["message"] for m in rasa.received] == ["那个津贴的事"]
        assert said(kiosk, "高龄津贴") and kiosk.grammar_for() is None

    with_rasa(scenario)


def test_denied_confirmation_asks_again_and_high_confidence_goes_straight_through(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        await kiosk.start(greet=False)
        rasa.confidence = 0.5
        await kiosk.handle(Utterance("津贴", 0.8))
        await kiosk.handle(Utterance("不对", 0.8))
        await kiosk.wait_for_playback()
        assert rasa.received == [] and said(kiosk, "换个说法")
        rasa.confidence = 0.95
        await kiosk.handle(Utterance("高龄津贴怎么办", 0.8))
        await kiosk.close()
        assert [m["message"] for m in rasa.received] == ["高龄津贴怎么办"]

    with_rasa(scenario)


def test_barge_in_stops_playback(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url, realtime=True)
        await kiosk.start()  # the greeting takes seconds at speech pace
        await asyncio.sleep(0.2)
        assert kiosk.playing
        await kiosk.handle(SpeechStarted(0.0))
        assert not kiosk.playing
        played = len(kiosk.sink.pcm) / 32000
        assert played < 1.0
        await kiosk.handle(KeyPressed("9"))
        assert kiosk.playing
        await kiosk.handle(KeyPressed("2"))  # a key stops the "louder" confirmation
        await kiosk.close()
        assert rasa.received

    with_rasa(scenario)


def test_idle_timeout_says_goodbye_and_forgets_everything(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url)
        await kiosk.start()
        first = kiosk.resident.sender

        async def resident_then_silence():
            for key in "20":
                await kiosk.wait_for_playback()
                yield KeyPressed(key)
            await asyncio.sleep(0.6)

        await kiosk.run(resident_then_silence(), idle_seconds=0.2)
        await kiosk.close()
        assert said(kiosk, "再见")
        assert kiosk.resident.sender != first
        assert kiosk.resident.transcript == [] and kiosk.resident.last_sentences == []
        assert kiosk.resident.rate is SpeechRate.NORMAL and kiosk.resident.gain == 1.0
        assert kiosk.screen.answer == kiosk.screen.heard == "" and kiosk.screen.history == []

    with_rasa(scenario)


def test_rasa_down_gives_the_phone_number_and_keeps_running():
    async def scenario():
        kiosk = make_kiosk(
            f"http://127.0.0.1:{free_port()}", FakeRecognizer(["x"]), community_phone="010-1234-5678"
        )
        await kiosk.start(greet=False)
        await keys(kiosk, "21")
        await kiosk.handle(Utterance("高龄津贴", 0.9))
        await kiosk.close()
        assert sum("连不上" in t for t in spoken(kiosk)) == 3
        assert said(kiosk, "零幺零 幺二三四 五六七八")
        assert "010-1234-5678" in kiosk.screen.answer

    asyncio.run(scenario())


def test_end_of_input_answers_an_open_confirmation(with_rasa):
    async def scenario(rasa):
        rasa.confidence = 0.5
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        await kiosk.start(greet=False)

        async def one():
            yield Utterance("津贴", 0.8)

        await kiosk.run(one())
        await kiosk.close()
        assert [m["message"] for m in rasa.received] == ["津贴"]

    with_rasa(scenario)


def test_screens(capsys):
    screen = RecordingScreen()
    screen.show(heard="你好", answer="答")
    assert screen.heard == "你好" and screen.answer == "答"
    ansi = AnsiScreen(tty=True)
    ansi.show(heard="你好", answer="回答")
    ansi.clear()
    out = capsys.readouterr().out
    assert "\x1b#3" in out and "您说：你好" in out and out.endswith("\x1b[3J\x1b[H")


def test_an_emergency_while_rasa_is_down_hears_the_number_to_call_first():
    async def scenario():
        kiosk = make_kiosk(
            f"http://127.0.0.1:{free_port()}", FakeRecognizer(["x"]), community_phone="010-1234-5678"
        )
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("我家煤气泄漏了", 0.9))
        await kiosk.close()
        heard = spoken(kiosk)
        assert "119" in heard[0] and any("连不上" in t for t in heard[1:])
        assert kiosk.screen.answer.startswith("请马上拨打 119")

    asyncio.run(scenario())
