"""月探访 on the phone line: the monthly check-in calls to residents who agreed to them.

:class:`OutreachRunner` asks the store which enrolled residents are due (their preferred time
has come, not reached this month, not yet tried today, fewer than three tries), calls each
(or, for residents who chose Telegram, queues the check-in as a message), and stores what
happened. :class:`CheckIn` is one answered call: how are you (1好 2不太好), do you need anything
(1助餐 2上门 3看病 4找人说说话, 0 nothing), do you want a visit (1要 2不用), by key or by voice.
"不太好", any need, a visit wanted, an emergency word, or no answer after the third day's try,
becomes a task in the staff inbox (emergencies first).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.phone.call import CallLine, caller_audio
from bot.phone.settings import PhoneSettings
from bot.phone.sip import Connected, Ended, Key, MediaReady, SipStack
from bot.phone.speech import PhoneVoice, Speaker
from community.db import utcnow
from community.handoff_keeper import HandoffKeeper
from community.records.outreach import describe
from community.recovery import looks_like_emergency, recovery_reply
from community.store import Store
from voice.asr import Recognizer
from voice.pipeline import Listener, SpeechStarted, Utterance
from voice.speech_text import speech_sentences

log = logging.getLogger(__name__)

ASK_HOW = "您最近身体怎么样？好，请按一。不太好，请按二。"
ASK_NEEDS = "需要社区帮忙吗？助餐按一，上门服务按二，看病按三，找人说说话按四，都不需要按零。"
ASK_VISIT = "需要工作人员上门看看您吗？需要按一，不需要按二。"
THANKS = "谢谢您，祝您身体健康。再见。"
FOLLOW = "我们会请工作人员和您联系。"
PROMPTS = [ASK_HOW, ASK_NEEDS, ASK_VISIT, THANKS, FOLLOW]
NEED_KEYS = {"1": "meal", "2": "home", "3": "doctor", "4": "talk", "#": "person"}
_NEED_WORDS = {
    "meal": r"助餐|吃饭|送饭|做饭",
    "home": r"上门|打扫|洗澡|助洁|助浴",
    "doctor": r"看病|医生|药|不舒服|医院",
    "talk": r"说说话|聊天|聊聊|孤单|寂寞",
    "person": r"人工|工作人员",
}


def greeting_for(name: str) -> str:
    return f"{name}您好，我是社区服务助手，每月给您打个电话问候。"


@dataclass
class CheckInAnswers:
    wellbeing: str | None = None
    needs: list[str] = field(default_factory=list)
    wants_visit: bool | None = None
    emergency: bool = False
    heard: list[str] = field(default_factory=list)


class CheckIn:
    """One answered check-in call: three short questions, each answered by a key or by voice."""

    def __init__(
        self,
        line: CallLine,
        voice: PhoneVoice,
        *,
        name: str,
        community_phone: str,
        recognizer: Recognizer | None = None,
        answer_seconds: float = 12.0,
    ) -> None:
        self.line = line
        self.speaker = Speaker(line, voice)
        self.name = name
        self.community_phone = community_phone
        self.recognizer = recognizer
        self.answer_seconds = answer_seconds
        self.answers = CheckInAnswers()
        self._inputs: asyncio.Queue[Any] = asyncio.Queue()
        self._hung_up = False

    async def run(self) -> CheckInAnswers:
        pumps = [asyncio.ensure_future(self._pump_events()), asyncio.ensure_future(self._pump_speech())]
        try:
            await self._questions()
        except _HungUp:
            pass
        finally:
            self.speaker.stop()
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        return self.answers

    async def _questions(self) -> None:
        first = await self.ask([greeting_for(self.name), ASK_HOW], "12")
        if first in ("1", "2"):
            self.answers.wellbeing = "good" if first == "1" else "not_good"
        if self.answers.emergency:
            return await self._close()
        needs = await self.ask_many([ASK_NEEDS])
        self.answers.needs = [n for n in dict.fromkeys(needs)]
        if self.answers.emergency:
            return await self._close()
        visit = await self.ask([ASK_VISIT], "12")
        if visit in ("1", "2"):
            self.answers.wants_visit = visit == "1"
        await self._close()

    async def _close(self) -> None:
        a = self.answers
        follow = a.emergency or a.wellbeing == "not_good" or a.needs or a.wants_visit
        if a.emergency:
            reply = recovery_reply(" ".join(a.heard), self.community_phone, emergency=True)
            lines = [s for line in reply.lines for s in speech_sentences(line, 20)]
            await self.speaker.say_and_wait(lines + [FOLLOW])
        else:
            await self.speaker.say_and_wait(([FOLLOW] if follow else []) + [THANKS])
        if not self._hung_up:
            await self.line.hangup()

    # -- asking ---------------------------------------------------------------------------------------
    async def _say(self, sentences: list[str]) -> None:
        self.speaker.say(sentences)

    async def ask(self, sentences: list[str], keys: str, tries: int = 2) -> str | None:
        """Say the question; the first fitting key (or spoken answer), asked twice at most."""
        for _ in range(tries):
            self._drain()
            await self._say(sentences)
            deadline = time.monotonic() + self.answer_seconds
            while (event := await self._next(deadline)) is not None:
                if isinstance(event, Key):
                    self.speaker.stop()
                    if event.digit in keys:
                        return event.digit
                elif isinstance(event, Utterance):
                    answer = self._spoken(event.text, keys)
                    if self.answers.emergency:
                        return None
                    if answer:
                        return answer
            sentences = sentences[-1:]
        return None

    async def ask_many(self, sentences: list[str]) -> list[str]:
        """Needs: several keys may follow each other; 0 (or 3 s after the last key) ends."""
        self._drain()
        await self._say(sentences)
        chosen: list[str] = []
        deadline = time.monotonic() + self.answer_seconds
        while (event := await self._next(deadline)) is not None:
            if isinstance(event, Key):
                self.speaker.stop()
                if event.digit == "0":
                    break
                if event.digit in NEED_KEYS:
                    chosen.append(NEED_KEYS[event.digit])
                    deadline = time.monotonic() + 3.0
            elif isinstance(event, Utterance):
                if self.answers.emergency:
                    break
                text = event.text
                found = [need for need, words in _NEED_WORDS.items() if re.search(words, text)]
                if found:
                    chosen.extend(found)
                    break
                if re.search(r"不需要|不用|没有|都不", text):
                    break
        return chosen

    def _spoken(self, text: str, keys: str) -> str | None:
        text = text.replace(" ", "")
        if keys == "12":
            if re.search(r"不太好|不好|难受|不舒服|不行|一般|二", text):
                return "2"
            if re.search(r"不需要|不用|不要", text):
                return "2"
            if re.search(r"好|还行|不错|挺好|需要|要|一", text):
                return "1"
        return None

    def _drain(self) -> None:
        while not self._inputs.empty():
            self._inputs.get_nowait()

    async def _next(self, deadline: float) -> Any | None:
        """The next key or utterance before ``deadline`` (the question's playing time is not
        counted); raises _HungUp when the resident hangs up."""
        while True:
            remaining = deadline - time.monotonic()
            if self.speaker.speaking:
                remaining = max(remaining, self.answer_seconds)
            if remaining <= 0:
                return None
            try:
                event = await asyncio.wait_for(self._inputs.get(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                if self.speaker.speaking:
                    deadline = time.monotonic() + self.answer_seconds
                continue
            if isinstance(event, Ended):
                self._hung_up = True
                raise _HungUp
            if isinstance(event, SpeechStarted):
                self.speaker.stop()
                continue
            if isinstance(event, Utterance):
                if not event.text.strip():
                    continue
                self.answers.heard.append(event.text)
                if looks_like_emergency(event.text):
                    self.answers.emergency = True
            return event

    async def _pump_events(self) -> None:
        while True:
            event = await self.line.events.get()
            if isinstance(event, (Key, Ended)):
                await self._inputs.put(event)
                if isinstance(event, Ended):
                    return

    async def _pump_speech(self) -> None:
        listener = Listener(self.recognizer)
        async for event in listener.events(caller_audio(self.line)):
            if isinstance(event, (SpeechStarted, Utterance)):
                await self._inputs.put(event)


class _HungUp(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    resident_id: int
    checkin_id: int
    result: str  # reached, no_answer, unreached, messaged, failed
    task: bool
    code: int | None = None


class OutreachRunner:
    """The monthly run: places the check-in calls that are due, stores the answers, and puts
    follow-ups in the staff inbox."""

    def __init__(
        self,
        stack: SipStack,
        store: Store,
        keeper: HandoffKeeper,
        voice: PhoneVoice,
        settings: PhoneSettings,
        *,
        recognizer: Recognizer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        concurrency: int = 2,
        answer_seconds: float = 12.0,
        dial: Callable[[str], str] | None = None,
    ) -> None:
        self.stack = stack
        self.store = store
        self.keeper = keeper
        self.voice = voice
        self.settings = settings
        self.recognizer = recognizer
        self.clock = clock
        self.answer_seconds = answer_seconds
        self.dial = dial or settings.uri_for  # a resident's number → the SIP URI to call
        self._slots = asyncio.Semaphore(concurrency)

    async def run_once(self, now: dt.datetime | None = None) -> list[Outcome]:
        """Everyone due at ``now`` (default: the clock), contacted; their outcomes."""
        now = now or self.clock()
        due = await asyncio.to_thread(self.store.outreach.due, now)
        jobs = [self._contact(resident, checkin, now) for resident, checkin in due]
        return list(await asyncio.gather(*jobs))

    async def forever(self, interval: float = 60.0) -> None:
        await asyncio.to_thread(self.store.outreach.recover)
        while True:
            try:
                outcomes = await self.run_once()
                if outcomes:
                    log.info("月探访: %s", ", ".join(f"{o.resident_id}:{o.result}" for o in outcomes))
            except Exception:  # noqa: BLE001 - tried again at the next interval
                log.exception("the outreach run failed")
            await asyncio.sleep(interval)

    async def _contact(self, resident: dict[str, Any], checkin: dict[str, Any], now: dt.datetime) -> Outcome:
        outreach = self.store.outreach
        if not await asyncio.to_thread(outreach.begin_attempt, checkin["id"], now):
            return Outcome(resident["id"], checkin["id"], "skipped", False)
        if resident["channel"] == "telegram":
            return await self._message(resident, checkin, now)
        async with self._slots:
            return await self._call(resident, checkin, now)

    async def _message(self, resident: dict[str, Any], checkin: dict[str, Any], now: dt.datetime) -> Outcome:
        text = (
            f"{greeting_for(resident['name'])}\n"
            "您最近身体好吗？需要助餐、上门服务、看病，或者想找人说说话，请直接回复这条消息，"
            f"或打社区电话 {self.settings.community_phone}。"
        )
        await asyncio.to_thread(
            self.store.notifications.notify,
            "telegram",
            resident["telegram_conversation"],
            text,
            kind="staff_reply",
        )
        await asyncio.to_thread(self.store.outreach.messaged, checkin["id"], now)
        return Outcome(resident["id"], checkin["id"], "messaged", False)

    async def _call(self, resident: dict[str, Any], checkin: dict[str, Any], now: dt.datetime) -> Outcome:
        outreach = self.store.outreach
        uri = self.dial(resident["phone"])
        try:
            leg = await self.stack.dial(uri)
        except Exception as err:  # noqa: BLE001 - counted as a try that failed
            log.warning("月探访 call to resident %s could not be placed: %s", resident["id"], err)
            row = await asyncio.to_thread(
                outreach.not_reached, checkin["id"], code=None, outcome="failed", now=now
            )
            return await self._after_miss(resident, row, None)
        answered = await self._answered(leg)
        if not answered:
            code = leg.ended.code if leg.ended else 408
            row = await asyncio.to_thread(outreach.not_reached, checkin["id"], code=code, now=now)
            return await self._after_miss(resident, row, code)
        check = CheckIn(
            leg,
            self.voice,
            name=resident["name"],
            community_phone=self.settings.community_phone,
            recognizer=self.recognizer,
            answer_seconds=self.answer_seconds,
        )
        answers = await check.run()
        row = await asyncio.to_thread(
            outreach.reached,
            checkin["id"],
            wellbeing=answers.wellbeing,
            needs=answers.needs,
            wants_visit=answers.wants_visit,
            emergency=answers.emergency,
            heard="\n".join(answers.heard),
            now=now,
        )
        task = bool(row["followup"])
        if task:
            await self._task(resident, row)
        return Outcome(resident["id"], checkin["id"], "reached", task, 200)

    async def _answered(self, leg: Any) -> bool:
        """Ring until picked up (and audio flows) or the ring time is over (then cancel)."""
        deadline = time.monotonic() + self.settings.outreach_ring_seconds
        connected = media = False
        while not (connected and media):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await leg.hangup()
                await self._until_ended(leg)
                return False
            try:
                event = await asyncio.wait_for(leg.events.get(), remaining)
            except asyncio.TimeoutError:
                continue
            if isinstance(event, Connected):
                connected = True
            elif isinstance(event, MediaReady):
                media = True
            elif isinstance(event, Ended):
                return False
        return True

    async def _until_ended(self, leg: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while leg.ended is None and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(leg.events.get(), 0.5)
            except asyncio.TimeoutError:
                continue

    async def _after_miss(self, resident: dict[str, Any], row: dict[str, Any], code: int | None) -> Outcome:
        if row["status"] == "unreached":
            await self._task(resident, row)
            return Outcome(resident["id"], row["id"], "unreached", True, code)
        return Outcome(resident["id"], row["id"], "no_answer", False, code)

    async def _task(self, resident: dict[str, Any], row: dict[str, Any]) -> None:
        """The follow-up, in the staff inbox (the outbox if the store can't take it now)."""
        conversation = f"outreach-{resident['id']}-{row['month']}"
        await self.keeper.keep(
            conversation_id=conversation,
            channel="outreach",
            reason="emergency" if row["emergency"] else "outreach",
            text=describe(resident, row),
            emergency=bool(row["emergency"]),
        )
        handoff = await asyncio.to_thread(self._handoff_of, conversation)
        if handoff is not None:
            await asyncio.to_thread(self.store.outreach.set_task, row["id"], handoff)

    def _handoff_of(self, conversation: str) -> int | None:
        rows = [h for h in self.store.handoffs.inbox() if h["conversation_id"] == conversation]
        return int(rows[-1]["id"]) if rows else None
