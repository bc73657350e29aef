"""One resident's call to the assistant: the kiosk's conversation, over the telephone.

:class:`CallSession` turns a call's events (keys by RFC 4733 or SIP INFO, the caller's speech
through the kiosk's :class:`~voice.pipeline.Listener`) into questions to the one resident
service, and its answers into speech, as the kiosk does:

* a short greeting that a key or speech interrupts (barge-in), the kiosk's keys (1证明 2养老
  3托育 4就业, ``*`` repeat, 0 slower, 9 louder, ``#`` a person), and 5 for the rest of a long
  answer (answers are read :attr:`PhoneSettings.answer_sentences` sentences at a time);
* a person when asked: during ``STAFF_HOURS`` a transfer (SIP REFER) to ``STAFF_EXTENSION``;
  otherwise (or when the transfer fails) a callback request with the caller's number in the
  staff inbox, and when staff will call;
* emergencies: 119/110/120 first, and the staff inbox as an emergency;
* "查询进度": the caller id's requests; personal details only after the caller keys in the last
  four digits of the number on the form.

The conversation is ``phone-<caller id>`` (``phone-anon-…`` without one). A hangup, at any
moment, ends the session: whatever was being said or asked is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.phone.settings import PhoneSettings
from bot.phone.sip import Ended, Key, LegEvent, MediaReady, TransferStatus
from bot.phone.speech import PhoneVoice, Speaker
from bot.resident.service import HELD_LINE, Answer, ResidentService
from community.db import utcnow
from community.records.callers import details_allowed
from community.recovery import looks_like_emergency, recovery_reply
from community.staff_hours import StaffHours, describe_opening
from voice.asr import Recognizer
from voice.keypad import MENU, CallbackEntry, EntryState
from voice.pipeline import (
    BotMessage,
    Listener,
    SpeechStarted,
    Utterance,
    sentences_for,
)
from voice.speech_text import speech_sentences
from voice.spoken_numbers import read_phone
from voice.tts import SpeechRate

log = logging.getLogger(__name__)

CHANNEL = "phone"
GREETING = "您好，这里是社区服务助手。"
MENU_LINE = "请直接说您要办的事。或者按键：证明按一，养老按二，托育按三，就业按四，找人工按井号。"
MORE_LINE = "还没说完，听下去请按五。"
AFTER_ANSWER = "重听按星号，找人工按井号。"
NOT_UNDERSTOOD = "对不起，没听清。请再说一遍，或者按键。"
GOODBYE = "好像没有声音了。感谢来电，再见。"
PROMPTS = [GREETING, MENU_LINE, MORE_LINE, AFTER_ANSWER, NOT_UNDERSTOOD, GOODBYE]

_PERSON = re.compile(r"人工|真人|工作人员|转接|找个人|找人说|客服")
_PROGRESS = re.compile(r"进度|办得怎么样|办好了吗|查.*(申请|办理|工单)|我的(申请|工单)")
_MORE = re.compile(r"继续|接着说|还有呢|后面|更多")
_REPEAT = re.compile(r"重复|再说一遍|没听清|重听")
_SLOWER = re.compile(r"慢一点|说慢|太快|听不清")
_LOUDER = re.compile(r"大声|听不见|声音小")


class CallLine(Protocol):
    """What a session needs of its call (a :class:`bot.phone.sip.Leg`; a fake in unit tests)."""

    caller: str
    events: asyncio.Queue[LegEvent]
    audio: asyncio.Queue[bytes]
    ended: Ended | None

    def play(self, pcm: bytes) -> None: ...

    def clear(self) -> None: ...

    async def drained(self) -> None: ...

    async def hangup(self) -> None: ...

    async def transfer(self, uri: str) -> None: ...


@dataclass
class CallRecord:
    """What happened on a call (for logs, tests and the bench)."""

    sender: str
    keys: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    transferred_to: str = ""
    handoffs: list[str] = field(default_factory=list)  # reasons kept for staff
    key_at: list[float] = field(default_factory=list)


async def caller_audio(line: CallLine) -> AsyncIterator[bytes]:
    """The caller's audio (16 kHz mono s16le), until the call ends."""
    while line.ended is None:
        try:
            yield await asyncio.wait_for(line.audio.get(), 0.5)
        except asyncio.TimeoutError:
            continue


class CallSession:
    def __init__(
        self,
        line: CallLine,
        service: ResidentService,
        voice: PhoneVoice,
        settings: PhoneSettings,
        *,
        recognizer: Recognizer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.line = line
        self.service = service
        self.settings = settings
        self.recognizer = recognizer
        self.clock = clock
        self.speaker = Speaker(line, voice)
        caller = line.caller
        self.sender = f"phone-{caller}" if caller else f"phone-anon-{uuid.uuid4().hex[:10]}"
        self.record = CallRecord(self.sender)
        self.last: list[str] = [GREETING, MENU_LINE]  # what * repeats
        self.rest: list[str] = []  # what 5 reads next
        self.transcript: list[str] = []
        self.callback: CallbackEntry | None = None  # an anonymous caller keying in a number
        self.verifying: list[dict[str, Any]] | None = None  # requests awaiting the last 4 digits
        self.digits = ""
        self.verify_tries = 0
        self._inputs: asyncio.Queue[Key | SpeechStarted | Utterance | Ended] = asyncio.Queue()
        self._work: asyncio.Task[None] | None = None

    # -- the call ----------------------------------------------------------------------------------
    async def run(self) -> CallRecord:
        tasks: list[asyncio.Task[Any]] = [asyncio.ensure_future(self._pump_events())]
        try:
            if not await self._media_ready():
                return self.record
            # Speech is listened to even without a recogniser: the endpointer alone lets the
            # caller interrupt (barge-in) by speaking.
            tasks.append(asyncio.ensure_future(self._pump_speech()))
            self.say([GREETING, MENU_LINE], remember=True)
            await self._loop()
        except Exception:  # noqa: BLE001 - one broken call must not take the line down
            log.exception("call %s failed", self.sender)
            await self.line.hangup()
        finally:
            self.speaker.stop()
            if self._work is not None:
                self._work.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.record

    async def _media_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = await asyncio.wait_for(self._inputs.get(), max(deadline - time.monotonic(), 0.01))
            except asyncio.TimeoutError:
                break
            if isinstance(event, MediaReady):
                return True
            if isinstance(event, Ended):
                return False
        log.warning("call %s: no audio after %.0f s", self.sender, timeout)
        await self.line.hangup()
        return False

    async def _pump_events(self) -> None:
        while True:
            event = await self.line.events.get()
            if isinstance(event, (Key, Ended, MediaReady, TransferStatus)):
                await self._inputs.put(event)  # type: ignore[arg-type]
            if isinstance(event, Ended):
                return

    async def _pump_speech(self) -> None:
        listener = Listener(self.recognizer)
        async for event in listener.events(caller_audio(self.line)):
            if isinstance(event, (SpeechStarted, Utterance)):
                await self._inputs.put(event)

    async def _loop(self) -> None:
        idle = self.settings.idle_seconds
        quiet_since = time.monotonic()
        while True:
            try:
                event = await asyncio.wait_for(self._inputs.get(), 0.5)
            except asyncio.TimeoutError:
                if self.speaker.speaking or self._busy:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > idle:
                    await self.speaker.say_and_wait([GOODBYE])
                    await self.line.hangup()
                    return
                continue
            quiet_since = time.monotonic()
            if isinstance(event, Ended):
                log.info("call %s ended (%s)", self.sender, event.reason)
                return
            if isinstance(event, TransferStatus):
                await self._transfer_status(event)
                continue
            if isinstance(event, SpeechStarted):
                if self.speaker.speaking:
                    self.speaker.stop()  # barge-in by voice
                continue
            if isinstance(event, Key):
                self.record.keys.append(event.digit)
                self.record.key_at.append(time.monotonic())
                self.speaker.stop()  # barge-in by key
                self._start(self.on_key(event.digit))
            elif isinstance(event, Utterance):
                if event.text.strip():
                    self.record.heard.append(event.text)
                    self._start(self.on_speech(event.text.strip()))
                else:
                    self.say([NOT_UNDERSTOOD])

    @property
    def _busy(self) -> bool:
        return self._work is not None and not self._work.done()

    def _start(self, job: Any) -> None:
        """Handle one input; a newer input replaces an answer still being fetched."""
        if self._work is not None and not self._work.done():
            self._work.cancel()
        self._work = asyncio.ensure_future(job)

    # -- speaking ----------------------------------------------------------------------------------
    def say(self, sentences: list[str], *, remember: bool = False) -> None:
        if remember:
            self.last = list(sentences)
        self.record.said.extend(sentences)
        self.speaker.say(sentences)

    def say_answer(self, sentences: list[str]) -> None:
        """An answer, a few sentences at a time; 5 reads on."""
        size = self.settings.answer_sentences
        head, self.rest = sentences[:size], sentences[size:]
        tail = [MORE_LINE] if self.rest else [AFTER_ANSWER]
        self.last = head
        self.record.said.extend(head)
        self.speaker.say([*head, *tail])

    def sentences(self, text: str) -> list[str]:
        return speech_sentences(text, self.settings.max_sentence_chars)

    # -- keys --------------------------------------------------------------------------------------
    async def on_key(self, key: str) -> None:
        if self.callback is not None and not self.callback.finished:
            await self._callback_key(key)
            return
        if self.verifying is not None and key.isdigit():
            await self._verify_key(key)
            return
        self.verifying = None
        if key in MENU:
            item = MENU[key]
            self.transcript.append(f"按键 {key}（{item.label}）")
            await self.ask(item.payload, said=item.label)
        elif key == "*":
            self.say(self.last)
        elif key == "0":
            self.speaker.rate = SpeechRate.SLOW
            self.say(["好的，我说慢一点。", *self.last])
        elif key == "9":
            self.speaker.gain = min(self.speaker.gain * self.settings.gain_step, self.settings.max_gain)
            self.say(["好的，我大声一点。", *self.last])
        elif key == "#":
            await self.person("按了井号")
        elif key == "5":
            await self.more()
        else:
            self.say([MENU_LINE])

    async def more(self) -> None:
        if self.rest:
            self.say_answer(self.rest)
        else:
            self.say(["已经说完了。", AFTER_ANSWER])

    # -- speech ------------------------------------------------------------------------------------
    async def on_speech(self, text: str) -> None:
        self.transcript.append(f"居民：{text}")
        if self.callback is not None and not self.callback.finished:
            digits = "".join(c for c in text if c.isdigit())
            for key in digits + "#":
                await self._callback_key(key)
            return
        if self.verifying is not None:
            digits = "".join(c for c in text if c.isdigit())
            if len(digits) >= 4:
                self.digits = ""
                for key in digits[-4:]:
                    await self._verify_key(key)
                return
        if looks_like_emergency(text):
            await self.emergency(text)
        elif _PERSON.search(text):
            await self.person(text)
        elif _PROGRESS.search(text):
            await self.progress()
        elif _MORE.search(text) and self.rest:
            await self.more()
        elif _REPEAT.search(text):
            self.say(self.last)
        elif _SLOWER.search(text):
            await self.on_key("0")
        elif _LOUDER.search(text):
            await self.on_key("9")
        else:
            await self.ask(text)

    async def ask(self, text: str, *, said: str = "") -> None:
        answer: Answer = await self.service.ask(self.sender, text, CHANNEL, said=said)
        messages = [BotMessage.from_rasa(m) for m in answer.messages]
        if any(m.slower for m in messages):  # the assistant's answer to 说慢点: as key 0 does
            self.speaker.rate = SpeechRate.SLOW
        sentences = sentences_for(messages, self.settings.max_sentence_chars)
        if answer.held:
            sentences = sentences or [HELD_LINE]
        self.transcript.append("助手：" + answer.text)
        self.say_answer(sentences or [NOT_UNDERSTOOD])

    # -- emergencies -------------------------------------------------------------------------------
    async def emergency(self, text: str) -> None:
        reply = recovery_reply(text, self.settings.community_phone, emergency=True)
        self.say([s for line in reply.lines for s in self.sentences(line)], remember=True)
        await self._keep("emergency", text, emergency=True)

    # -- a person ----------------------------------------------------------------------------------
    def _staff_open(self, now: dt.datetime) -> bool:
        try:
            return StaffHours.parse(self.settings.staff_hours).is_open(now)
        except ValueError:
            return False

    async def person(self, said: str) -> None:
        now = self.clock()
        uri = self.settings.staff_uri
        if uri and self._staff_open(now):
            self.transcript.append("转接工作人员")
            await self.speaker.say_and_wait(["好的，正在为您转接工作人员，请稍等。"])
            try:
                await self.line.transfer(uri)
            except Exception as err:  # noqa: BLE001 - the caller still gets a callback
                log.warning("transfer of %s failed to start: %s", self.sender, err)
                await self.callback_request(said, failed_transfer=True)
                return
            self.record.transferred_to = uri
            return  # the outcome comes as TransferStatus
        await self.callback_request(said)

    async def _transfer_status(self, status: TransferStatus) -> None:
        if not status.final:
            return
        if 200 <= status.code < 300:
            log.info("call %s transferred to staff", self.sender)
            await self.line.hangup()
        else:
            log.warning("transfer of %s failed (%s)", self.sender, status.code)
            self.record.transferred_to = ""
            await self.callback_request("转接没有接通", failed_transfer=True)

    async def callback_request(self, said: str, *, failed_transfer: bool = False) -> None:
        number = self.line.caller
        if not number:  # no caller id: the kiosk's keypad entry of a callback number
            self.callback = CallbackEntry()
            self.say([CallbackEntry.PROMPT])
            return
        await self._finish_callback(number, failed_transfer=failed_transfer)

    async def _callback_key(self, key: str) -> None:
        entry = self.callback
        assert entry is not None
        reply = entry.press(key)
        if entry.state is EntryState.DONE:
            self.callback = None
            await self._finish_callback(entry.digits)
        elif entry.state is EntryState.CANCELLED:
            self.callback = None
            self.say([reply or "已取消。"])
        elif reply:
            self.say(self.sentences(reply))

    async def _finish_callback(self, number: str, *, failed_transfer: bool = False) -> None:
        text = "\n".join([f"电话留言，请回电：{number or '未留号码'}", *self.transcript[-12:]])
        stored = await self._keep("callback", text)
        now = self.clock()
        try:
            hours = StaffHours.parse(self.settings.staff_hours)
            when = (
                "工作人员会尽快"
                if hours.is_open(now)
                else f"工作人员会在{describe_opening(hours.next_opening(now), now)}上班后"
            )
        except ValueError:
            when = f"工作人员会在上班时间（{self.settings.staff_hours}）"
        first = "对不起，现在没能接通工作人员。" if failed_transfer else "好的。"
        lines = [first]
        if number:
            lines.append(f"已经记下您的号码{read_phone(number)}。")
        lines.append(f"{when}给您回电。")
        if not stored:
            lines.append(f"着急的话请打社区电话{read_phone(self.settings.community_phone)}。")
        self.say([s for line in lines for s in self.sentences(line)], remember=True)

    async def _keep(self, reason: str, text: str, *, emergency: bool = False) -> bool:
        caller = self.line.caller or "未显示号码"
        self.record.handoffs.append(reason)
        body = text if text.startswith("电话留言") else f"来电号码：{caller}\n{text}"
        filed = await self.service.hand_over(
            self.sender, CHANNEL, reason=reason, text=body, emergency=emergency
        )
        return filed is not None

    # -- 查询进度 ----------------------------------------------------------------------------------
    async def progress(self) -> None:
        caller = self.line.caller
        if not caller:
            self.say(
                self.sentences("没有显示来电号码，查不到您的记录。可以在网上或到社区服务站查询。"),
                remember=True,
            )
            return
        try:
            rows = await asyncio.to_thread(self.service.store.callers.for_caller, caller, self.sender)
        except Exception as err:  # noqa: BLE001 - the store is away
            log.warning("requests of %s unknown: %s", self.sender, type(err).__name__)
            self.say(
                self.sentences(f"现在查不到记录，请稍后再打，或打社区电话 {self.settings.community_phone}。")
            )
            return
        if not rows:
            self.say(self.sentences("这个号码下没有查到办理记录。"), remember=True)
            return
        lines = [f"这个号码下有{len(rows)}件办理记录。"]
        for index, row in enumerate(rows[:3], start=1):
            lines.append(f"第{index}件，{row['title']}，{row['status_label']}。")
        lines.append("要听登记的姓名和地址，请按登记电话的后四位。")
        self.verifying = rows
        self.digits = ""
        self.verify_tries = 0
        self.say_answer([s for line in lines for s in self.sentences(line)])

    async def _verify_key(self, key: str) -> None:
        self.digits += key
        if len(self.digits) < 4:
            return
        digits, self.digits = self.digits[-4:], ""
        rows = self.verifying or []
        allowed = [row for row in rows if details_allowed(row, digits)]
        if not allowed:
            self.verify_tries += 1
            if self.verify_tries >= 2:
                self.verifying = None
                self.say(self.sentences("号码不对。为了保护您的信息，不能读出登记内容。请到社区服务站查询。"))
            else:
                self.say(self.sentences("号码不对，请再按一次登记电话的后四位。"))
            return
        self.verifying = None
        lines = []
        for row in allowed[:3]:
            who = row.get("contact_name") or "未填"
            where = row.get("address") or "未填"
            lines.append(f"{row['title']}，登记人{who}，地址{where}，{row['status_label']}。")
        self.say_answer([s for line in lines for s in self.sentences(line)])
