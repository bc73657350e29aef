"""Answers for the ear: a service's essentials first (what, where, what to bring), the rest
offered on 1-3 and by voice; a short greeting; any key stops any prompt (the goodbye too)."""

from __future__ import annotations

import asyncio

import pytest

from community.answers import service_answer, short_answer
from community.catalogue import load_catalogue
from tests.support.kiosk import make_kiosk, said, spoken
from voice.asr import FakeRecognizer
from voice.keypad import MENU_PROMPT, detail_offer
from voice.kiosk import GREETING, after_playback, scripted_keys
from voice.pipeline import KeyPressed, Utterance


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue("catalogue")


def serve(rasa, service) -> None:
    """The fake Rasa answers 津贴 questions with the service's real answer and buttons."""
    answer = service_answer(service)
    plain = rasa.reply

    def reply(message: str) -> list[dict]:
        if "津贴" in message:
            return [{"text": answer.text, "buttons": [b.as_dict() for b in answer.buttons]}]
        return plain(message)

    rasa.reply = reply


def test_short_answer_keeps_what_where_and_what_to_bring(catalogue):
    service = catalogue.get("elderly_allowance_age")
    short = short_answer(service)
    assert short.essentials.startswith("高龄津贴：到") and service.where in short.essentials
    assert all(m in short.essentials for m in service.materials)
    assert service.hours not in short.essentials and service.phone not in short.essentials
    assert [d.title for d in short.details] == ["办理时间", "电话", "更多"]
    assert service.phone in short.details[1].text
    assert service.eligibility.rstrip("。") in short.details[2].text
    assert "。。" not in short.details[2].text


def test_every_service_has_short_essentials(catalogue):
    """At espeak's kiosk rate (about 4.5 characters a second) the essentials of any sample
    service stay well under the 20 seconds an answer may take."""
    for service in catalogue.services:
        short = short_answer(service)
        if short is not None:
            assert len(short.essentials) <= 80, (service.id, short.essentials)


def test_the_greeting_is_short():
    assert len(GREETING + MENU_PROMPT) <= 40


def test_an_answer_speaks_the_essentials_and_offers_the_rest(with_rasa, catalogue):
    service = catalogue.get("elderly_allowance_age")

    async def scenario(rasa):
        serve(rasa, service)
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        kiosk.catalogue = catalogue
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("高龄津贴怎么申请", 0.9))
        await kiosk.wait_for_playback()
        texts = spoken(kiosk)
        offer = "按一听办理时间，按二听电话，按三听更多。"
        assert texts[-2] == detail_offer(["办理时间", "电话", "更多"]) == offer
        assert not said(kiosk, "八点半") and not said(kiosk, "零幺零") and said(kiosk, "综合窗口")
        assert "8:30" in kiosk.screen.answer and "1办理时间" in kiosk.screen.status  # the eye gets it all
        await kiosk.run(after_playback(kiosk, scripted_keys(["2", "1"])))
        assert said(kiosk, "电话：零幺零，八七六五，四三零零") and said(kiosk, "八点半")
        assert rasa.received[-1]["message"] == "高龄津贴怎么申请"  # details come from the catalogue
        await kiosk.handle(Utterance("要多少钱", 0.9))  # by voice
        await kiosk.wait_for_playback()
        await kiosk.handle(Utterance("几点上班", 0.9))
        await kiosk.wait_for_playback()
        assert said(kiosk, "收费：免费") and len(rasa.received) == 1
        assert ("按键", "2 电话") in kiosk.resident.transcript
        await kiosk.handle(KeyPressed("8"))  # back to the menu: the offer ends
        await kiosk.wait_for_playback()
        assert spoken(kiosk)[-1] == MENU_PROMPT and kiosk.resident.details == ()
        await kiosk.handle(KeyPressed("2"))  # 2 is 养老 again
        await kiosk.close()
        assert rasa.received[-1]["message"].startswith("/elderly_meal")

    with_rasa(scenario)


def test_a_new_question_ends_the_offer(with_rasa, catalogue):
    async def scenario(rasa):
        serve(rasa, catalogue.get("elderly_allowance_age"))
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        kiosk.catalogue = catalogue
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("高龄津贴怎么申请", 0.9))
        await kiosk.handle(Utterance("我想问一下谁能帮我修一下家里的水管", 0.9))  # long: a new question
        await kiosk.close()
        assert len(rasa.received) == 2 and kiosk.resident.details == ()

    with_rasa(scenario)


def test_without_the_catalogue_the_answer_is_spoken_whole(with_rasa, catalogue):
    async def scenario(rasa):
        serve(rasa, catalogue.get("elderly_allowance_age"))
        kiosk = make_kiosk(rasa.url, FakeRecognizer(["x"]))
        await kiosk.start(greet=False)
        await kiosk.handle(Utterance("高龄津贴怎么申请", 0.9))
        await kiosk.close()
        assert said(kiosk, "八点半") and kiosk.resident.details == ()

    with_rasa(scenario)


def test_a_key_stops_the_greeting_and_the_goodbye(with_rasa):
    async def scenario(rasa):
        kiosk = make_kiosk(rasa.url, realtime=True)
        await kiosk.start()
        await asyncio.sleep(0.1)
        await kiosk.handle(KeyPressed("9"))
        assert kiosk.sink.pcm and len(kiosk.sink.pcm) / 32000 < 1.0
        await kiosk.goodbye()  # returns at once: the goodbye plays in the background
        assert kiosk.playing and kiosk.resident.transcript == []
        await kiosk.handle(KeyPressed("2"))
        await kiosk.close()
        assert rasa.received and rasa.received[-1]["message"].startswith("/elderly_meal")

    with_rasa(scenario)
