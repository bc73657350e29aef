"""The kiosk session: one resident at a time, by speech or keypad, elderly-first.

:class:`Kiosk` consumes input events (:mod:`voice.pipeline`: keys, speech start, partial and
final transcripts) and answers through Rasa, the synthesiser, an :class:`AudioSink` and a
:class:`Screen`. Elderly-first defaults: a slower speaking rate than espeak's, short sentences,
a short greeting, an answer about a service spoken as its essentials (what, where, what to
bring: :func:`community.answers.short_answer`) with the rest offered by key and by voice
(按一听办理时间…), a pause after each answer offering 重听/转人工, confirmation of
medium-confidence questions (answered with grammar-restricted recognition), barge-in (a key or
speech stops any prompt, the goodbye included), and after ``idle_seconds`` of silence a polite
goodbye and a full reset. If Rasa is down the kiosk
says so, gives the community phone number and keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

from bot.resident.rasa import RasaUnavailable
from bot.resident.service import HELD_LINE, ResidentService
from community.answers import Detail, ShortAnswer, short_answer_for
from community.catalogue import Catalogue
from community.intents import FALLBACK_INTENT, INTENT_LABELS, META_INTENTS
from community.recovery import looks_like_emergency, recovery_reply
from voice.asr import Recognizer
from voice.errors import VoiceError
from voice.grammar import Grammar
from voice.keypad import (
    AFTER_ANSWER_PROMPT,
    BACK_TO_MENU_PROMPT,
    HANDOFF_PROMPT,
    MAX_DETAILS,
    MENU,
    MENU_PROMPT,
    Action,
    CallbackEntry,
    EntryState,
    action_for,
    detail_offer,
)
from voice.kiosk_outputs import AudioSink, Screen
from voice.kiosk_settings import KioskSettings
from voice.pipeline import (
    BotMessage,
    Heard,
    InputEvent,
    KeyPressed,
    SpeechEnded,
    SpeechStarted,
    Utterance,
    apply_gain,
    sentences_for,
    silence,
    synthesize_sentences,
)
from voice.speech_text import speech_text, split_sentences
from voice.spoken_numbers import read_phone
from voice.tts import SpeechRate, Synthesizer

log = logging.getLogger(__name__)

CONFIRM_WORDS = ("是", "不是", "对", "不对", "重复", "人工", "一", "二", "三", "四")
GREETING = "您好，请说您要办的事，或者按键。"
KEYPAD_ONLY_NOTICE = "现在只能按键使用，语音识别没有打开。"
NOT_HEARD = "对不起，没听清。请再说一遍，或者按键。"
GOODBYE = "您好像已经离开了。再见，欢迎下次再来。"
# The essentials are two sentences (where; what to bring), each said whole: cut at 20
# characters, "…综合窗口" was cut inside the word and the pauses made the answer longer.
ESSENTIALS_SENTENCE_CHARS = 32
FOLLOW_UP_CHARS = 10  # 电话是多少啊, 几点上班: a follow-up about the last answer, not a new question


# --- the session --------------------------------------------------------------------------


@dataclass
class _Resident:
    """Everything about the current resident; replaced wholesale at reset."""

    sender: str = field(default_factory=lambda: f"kiosk-{uuid.uuid4().hex[:12]}")
    transcript: list[tuple[str, str]] = field(default_factory=list)
    last_sentences: list[str] = field(default_factory=list)
    rate: SpeechRate = SpeechRate.NORMAL
    gain: float = 1.0
    pending: tuple[str, str] | None = None  # (question, intent) waiting for 对/不对
    callback: CallbackEntry | None = None
    details: tuple[Detail, ...] = ()  # offered on 1-3 after the essentials of an answer
    active: bool = False


class Kiosk:
    def __init__(
        self,
        *,
        service: ResidentService,
        synthesizer: Synthesizer,
        sink: AudioSink,
        screen: Screen,
        settings: KioskSettings | None = None,
        recognizer: Recognizer | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.service = service
        self.synthesizer = synthesizer
        self.sink = sink
        self.screen = screen
        self.settings = settings or KioskSettings()
        self.recognizer = recognizer
        self.catalogue = catalogue  # without it, answers are spoken whole
        self.resident = _Resident()
        self.confirm_grammar: Grammar | None = None
        self.latencies: list[float] = []  # end of speech → first audio out, seconds
        self.handoff_ids: list[int] = []
        self._playback: asyncio.Task[None] | None = None
        self._speech_ended_at: float | None = None

    @property
    def keypad_only(self) -> bool:
        return self.recognizer is None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, *, greet: bool = True) -> None:
        if self.recognizer is not None:
            self.confirm_grammar = await asyncio.to_thread(self.recognizer.build_grammar, CONFIRM_WORDS)
            if self.confirm_grammar.unknown_words:
                words = "、".join(self.confirm_grammar.unknown_words)
                log.warning("the speech model does not know these confirmation words: %s", words)
                self.screen.show(status=f"语音模型不认识：{words}")
        if greet:
            await self.greet()

    async def greet(self) -> None:
        status = KEYPAD_ONLY_NOTICE if self.keypad_only else "请说话或按键"
        self.screen.show(status=status, answer=GREETING)
        lines = [GREETING, *([KEYPAD_ONLY_NOTICE] if self.keypad_only else []), MENU_PROMPT, HANDOFF_PROMPT]
        self.resident.active = True
        self.say(lines, pause=False)

    def grammar_for(self) -> Grammar | None:
        """The grammar for the next utterance: restricted while a yes/no question is open."""
        callback = self.resident.callback
        if self.resident.pending or (callback is not None and callback.state is EntryState.CONFIRM):
            return self.confirm_grammar
        return None

    async def reset(self) -> None:
        """Forget the resident: new conversation id, no transcript, default rate and volume."""
        self.stop_playback()
        self.resident = _Resident()
        self.screen.clear()

    async def goodbye(self) -> None:
        """Forget the resident, then say goodbye in the background (a key stops it)."""
        await self.reset()
        self.say([GOODBYE], remember=False, pause=False)

    async def close(self) -> None:
        await self.wait_for_playback()
        await self.service.close()

    # --- the loop ---------------------------------------------------------------------------

    async def run(self, events: AsyncIterable[InputEvent], *, idle_seconds: float | None = None) -> None:
        """Handle ``events`` until they end; after ``idle_seconds`` (default: the settings')
        with no event and nothing playing, say goodbye and reset."""
        idle = self.settings.idle_seconds if idle_seconds is None else idle_seconds
        iterator = aiter(events)
        pending: asyncio.Task[InputEvent] = asyncio.ensure_future(anext(iterator))
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=idle)
                if not done:
                    if self.playing:
                        continue
                    if self.resident.active:
                        await self.goodbye()
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    break
                await self.handle(event)
                pending = asyncio.ensure_future(anext(iterator))
        finally:
            pending.cancel()
        await self.end_of_input()

    async def end_of_input(self) -> None:
        """Input ended (file and scripted runs): an open confirmation is taken as yes."""
        if self.resident.pending is not None:
            question, _ = self.resident.pending
            self.resident.pending = None
            await self.wait_for_playback()
            await self.answer(question)
        await self.wait_for_playback()

    async def handle(self, event: InputEvent) -> None:
        if isinstance(event, (KeyPressed, SpeechStarted)) and self.playing:
            self.stop_playback()  # barge-in
        if isinstance(event, KeyPressed):
            self.resident.active = True
            await self.on_key(event.key)
        elif isinstance(event, Heard):
            if event.text:
                self.screen.show(heard=event.text + "…")
        elif isinstance(event, Utterance):
            self.resident.active = True
            await self.on_utterance(event)
        elif isinstance(event, SpeechStarted):
            self.screen.show(status="正在听…")
        elif isinstance(event, SpeechEnded):
            if self.keypad_only:  # speech was heard but cannot be recognised: point to the keys
                self.resident.active = True
                self.screen.show(status=KEYPAD_ONLY_NOTICE)
                self.say([KEYPAD_ONLY_NOTICE, MENU_PROMPT], remember=False, pause=False)
            else:
                self.screen.show(status="请稍等…")

    # --- keys -------------------------------------------------------------------------------

    async def on_key(self, key: str) -> None:
        resident = self.resident
        if resident.callback is not None and not resident.callback.finished:
            await self._callback_key(key)
            return
        resident.pending = None
        if resident.details and key.isdigit() and 1 <= int(key) <= len(resident.details):
            self.speak_detail(resident.details[int(key) - 1], f"{key} ")
            return
        action = action_for(key)
        if action not in (Action.REPEAT, Action.SLOWER, Action.LOUDER):
            resident.details = ()
        if action is Action.MENU:
            item = MENU[key]
            resident.transcript.append(("按键", f"{key} {item.label}"))
            self.screen.show(heard=f"按了 {key}：{item.label}")
            await self.send(item.payload)
        elif action is Action.REPEAT:
            self.screen.show(status="重听")
            self.say(resident.last_sentences or [GREETING, MENU_PROMPT], remember=False)
        elif action is Action.SLOWER:
            resident.rate = SpeechRate.SLOW
            self.screen.show(status="已调慢")
            self.say(["好的，我说慢一点。", *resident.last_sentences], remember=False)
        elif action is Action.LOUDER:
            resident.gain = min(resident.gain * self.settings.gain_step, self.settings.max_gain)
            self.screen.show(status="已调大声音")
            self.say(["好的，我大声一点。"], remember=False, pause=False)
        elif action is Action.HANDOFF:
            await self.start_handoff()
        else:
            self.say([MENU_PROMPT], remember=False, pause=False)

    def speak_detail(self, detail: Detail, key: str = "") -> None:
        """One offered part of the last answer; the offer stays open."""
        self.resident.transcript.append(("按键" if key else "居民", f"{key}{detail.title}"))
        self.resident.transcript.append(("助手", detail.text))
        self.screen.show(heard=f"{key}{detail.title}", answer=detail.text)
        sentences = split_sentences(speech_text(detail.text), self.settings.max_sentence_chars)
        self.say([*sentences, BACK_TO_MENU_PROMPT])

    async def start_handoff(self) -> None:
        self.resident.pending = None
        self.resident.details = ()
        self.resident.callback = CallbackEntry()
        self.screen.show(status="转人工：请输入回电号码，按 # 结束", heard="")
        self.say([CallbackEntry.PROMPT], remember=False, pause=False)

    async def _callback_key(self, key: str) -> None:
        entry = self.resident.callback
        assert entry is not None
        reply = entry.press(key)
        if entry.state is EntryState.DIGITS:
            self.screen.show(heard="回电号码：" + (entry.digits or "（未输入）"))
        if entry.state is EntryState.DONE:
            await self.finish_handoff()
        elif entry.state is EntryState.CANCELLED:
            self.resident.callback = None
            self.say([reply or "已取消。"], remember=False, pause=False)
        elif reply:
            self.say(split_sentences(speech_text(reply), 40), remember=False, pause=False)

    async def finish_handoff(self) -> None:
        entry = self.resident.callback
        self.resident.callback = None
        number = entry.digits if entry else ""
        lines = [f"回电号码：{number or '未留'}"] + [
            f"{who}：{text}" for who, text in self.resident.transcript
        ]
        phone = self.settings.community_phone
        try:
            handoff_id = await self.service.hand_over(
                self.resident.sender, self.settings.channel, reason="asked", text="\n".join(lines)
            )
        except Exception as err:  # noqa: BLE001 - neither the store nor the outbox took it
            log.error("could not create the handoff: %s", type(err).__name__)
            self.screen.show(answer=f"转人工没有成功，请打 {phone}")
            self.say([f"对不起，转人工没有成功。请打社区电话{read_phone(phone)}。"], pause=False)
            return
        if handoff_id is not None:
            self.handoff_ids.append(handoff_id)
        if number:
            text = f"好的，已转人工。工作人员会打{read_phone(number)}给您回电。"
        else:
            text = "好的，已转人工，请在这里稍等工作人员。"
        numbered = f"（编号 {handoff_id}）" if handoff_id is not None else ""
        self.screen.show(answer=f"已转人工{numbered}。也可以打 {phone}（{self.settings.staff_hours}）")
        self.say([text, f"也可以直接打{read_phone(phone)}。"], pause=False)

    # --- speech -----------------------------------------------------------------------------

    async def on_utterance(self, utterance: Utterance) -> None:
        text = utterance.text.strip()
        self.screen.show(heard=text or "（没听清）")
        if utterance.ended_at:
            self.sink.first_audio_at = None
            self._speech_ended_at = utterance.ended_at
        resident = self.resident
        callback = resident.callback
        if callback is not None and callback.state is EntryState.CONFIRM:
            word = _confirm_word(text)
            if word == "yes":
                callback.confirm()
                await self.finish_handoff()
            elif word == "no":
                await self._callback_key("*")
            else:
                self.say([callback.read_back()], remember=False, pause=False)
            return
        if resident.pending is not None:
            await self._on_confirmation(text)
            return
        if not text:
            self.say([NOT_HEARD], remember=False, pause=False)
            return
        detail = _asked_detail(text, resident.details)
        if detail is not None:
            self.speak_detail(detail)
            return
        resident.details = ()
        await self.ask(text)

    async def _on_confirmation(self, text: str) -> None:
        question, _ = self.resident.pending or ("", "")
        word = _confirm_word(text)
        if word == "yes":
            self.resident.pending = None
            await self.answer(question)
        elif word == "no":
            self.resident.pending = None
            self.say(["好的，请换个说法再说一遍，或者按键。"], remember=False, pause=False)
        elif word == "repeat":
            self.say(self.resident.last_sentences, remember=False, pause=False)
        elif word == "human":
            await self.start_handoff()
        elif word in MENU:
            await self.on_key(word)
        else:
            self.say(["请说对，或者不对。"], remember=False, pause=False)

    async def ask(self, text: str) -> None:
        """A spoken question: confirm it first if the NLU is only fairly sure."""
        try:
            ranking = await self.service.intents(text)
        except RasaUnavailable as err:
            log.error("Rasa is unavailable: %s", err.code)
            await self.service.recovery(self.resident.sender, text, self.settings.channel)  # 119 first
            self.rasa_down(text)
            return
        intent, confidence = ranking[0] if ranking else ("", 0.0)
        s = self.settings
        if (
            s.confirm_low <= confidence < s.confirm_high
            and intent in INTENT_LABELS
            and intent not in (*META_INTENTS, FALLBACK_INTENT)
        ):
            label = _short_label(INTENT_LABELS[intent])
            self.resident.pending = (text, intent)
            self.resident.transcript.append(("居民", text))
            question = f"您是想问{label}，对吗？"
            self.screen.show(answer=question, status="请说：对 / 不对")
            self.say([question], pause=False)
            return
        await self.answer(text)

    async def answer(self, text: str) -> None:
        self.resident.transcript.append(("居民", text))
        await self.send(text, record=False)

    async def send(self, message: str, *, record: bool = True) -> None:
        answer = await self.service.ask(self.resident.sender, message, self.settings.channel)
        if answer.unavailable:
            self.rasa_down(message)
            return
        if answer.held:  # staff hold the conversation: they answer, not the assistant
            self.screen.show(answer=HELD_LINE, status="#转人工")
            self.say([HELD_LINE], remember=False, pause=False)
            return
        messages = [BotMessage.from_rasa(m) for m in answer.messages]
        if any(m.slower for m in messages):  # 听不清, 说慢点: slower from now on, as key 0 does
            self.resident.rate = SpeechRate.SLOW
        shown = "\n".join(m.text for m in messages if m.text) or "（没有回答）"
        self.resident.transcript.append(("助手", shown))
        short = self.short_answer_in(messages)
        self.resident.details = short.details if short else ()
        if short is None:
            self.screen.show(answer=shown + _buttons_for_screen(messages), status="*重听  #转人工")
            sentences = sentences_for(messages, self.settings.max_sentence_chars) + _spoken_choices(messages)
        else:  # the screen shows it all; the ear gets the essentials and an offer of the rest
            keys = "  ".join(f"{n}{d.title}" for n, d in enumerate(short.details, 1))
            self.screen.show(answer=shown, status=f"{keys}  *重听  #转人工  8主菜单")
            titles = [d.title for d in short.details]
            sentences = [
                *split_sentences(speech_text(short.essentials), ESSENTIALS_SENTENCE_CHARS),
                detail_offer(titles),
            ]
        self.say(sentences or [NOT_HEARD])

    def short_answer_in(self, messages: list[BotMessage]) -> ShortAnswer | None:
        """The short form of a reply that is exactly a service's full answer (the catalogue's
        service named in its detail buttons); ``None`` for any other reply."""
        if self.catalogue is None or len([m for m in messages if m.text]) != 1:
            return None
        [message] = [m for m in messages if m.text]
        buttons = [{"title": title, "payload": payload} for title, payload in message.buttons]
        short = short_answer_for(self.catalogue, message.text, buttons)
        return short if short is not None and len(short.details) <= MAX_DETAILS else None

    def rasa_down(self, text: str = "") -> None:
        """The assistant can't answer now: an emergency still hears which number to call first
        (and the resident service has put it in the staff inbox)."""
        phone = self.settings.community_phone
        first = [recovery_reply(text, phone).lines[0]] if looks_like_emergency(text) else []
        shown = f"系统暂时连不上。请打社区电话 {phone}（{self.settings.staff_hours}）"
        self.screen.show(answer="\n".join([*first, shown]), status="")
        spoken = [*first, "对不起，系统暂时连不上。", f"请打社区电话{read_phone(phone)}。"]
        self.say(spoken, remember=False, pause=False)

    # --- playback -------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playback is not None and not self._playback.done()

    def say(self, sentences: list[str], *, remember: bool = True, pause: bool = True) -> None:
        """Speak ``sentences`` in the background (a key or speech stops it); answers are
        remembered for * and followed by a pause and the 重听/转人工 prompt."""
        sentences = [s for s in sentences if s.strip()]
        if remember:
            self.resident.last_sentences = list(sentences)
        tail = [AFTER_ANSWER_PROMPT] if pause else []
        self.stop_playback()
        self._playback = asyncio.ensure_future(self._play(sentences, tail))

    async def _play(self, sentences: list[str], tail: list[str]) -> None:
        rate, gain = self.resident.rate, self.resident.gain
        speech_ended_at = self._speech_ended_at
        self._speech_ended_at = None
        try:
            async for _, pcm in synthesize_sentences(self.synthesizer, sentences, rate):
                if speech_ended_at is not None:
                    self.latencies.append(time.monotonic() - speech_ended_at)
                    speech_ended_at = None
                await self.sink.play(apply_gain(pcm, gain) + silence(0.25))
            if tail:
                await self.sink.play(silence(self.settings.answer_pause_seconds))
                async for _, pcm in synthesize_sentences(self.synthesizer, tail, rate):
                    await self.sink.play(apply_gain(pcm, gain))
        except asyncio.CancelledError:
            self.sink.stop()
            raise
        except VoiceError as err:
            log.error("speech failed: %s", err)
            self.screen.show(status="语音输出出错，请看屏幕")

    def stop_playback(self) -> None:
        if self.playing:
            assert self._playback is not None
            self._playback.cancel()
            self.sink.stop()
            self._playback = None

    async def wait_for_playback(self) -> None:
        task = self._playback
        if task is not None and not task.done():
            await asyncio.wait({task})  # does not raise if the playback was cancelled (barge-in)


def _confirm_word(text: str) -> str:
    text = text.replace(" ", "")
    if not text:
        return ""
    if "人工" in text:
        return "human"
    if "重复" in text:
        return "repeat"
    if "不" in text:
        return "no"
    if "是" in text or "对" in text:
        return "yes"
    for digit, key in (
        ("一", "1"),
        ("二", "2"),
        ("三", "3"),
        ("四", "4"),
        ("1", "1"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
    ):
        if text == digit:
            return key
    return ""


def _asked_detail(text: str, details: tuple[Detail, ...]) -> Detail | None:
    """The offered detail a spoken follow-up asks for: its number (一, 二, 三) or the longest of
    its words in ``text`` (多长时间 is 更多's, not 办理时间's). A longer sentence is a new
    question, not a follow-up."""
    text = text.replace(" ", "").rstrip("。？?！!")
    if not details or len(text) > FOLLOW_UP_CHARS:
        return None
    for index, detail in enumerate(details):
        if text in ("一二三"[index], str(index + 1), f"按{'一二三'[index]}", f"第{'一二三'[index]}个"):
            return detail
    best: tuple[int, Detail] | None = None
    for detail in details:
        for word in detail.words:
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), detail)
    return best[1] if best else None


def _short_label(label: str) -> str:
    """``高龄津贴、养老补贴`` → ``高龄津贴``; ``托育（0-3岁）`` → ``托育``."""
    return label.split("、")[0].split("（")[0].strip()


def _choices(messages: list[BotMessage]) -> list[str]:
    return [
        title.split("（")[0]
        for m in messages
        for title, payload in m.buttons
        if title and "人工" not in title and payload != "/human_handoff"
    ]


def _spoken_choices(messages: list[BotMessage]) -> list[str]:
    """A menu reply (text ending in a colon) is read with its choices."""
    if not messages or not messages[-1].text.rstrip().endswith(("：", ":")):
        return []
    choices = _choices(messages)[:6]
    return split_sentences(speech_text("可以说：" + "、".join(choices) + "。"), 40) if choices else []


def _buttons_for_screen(messages: list[BotMessage]) -> str:
    choices = _choices(messages)
    return ("\n可以说：" + " / ".join(choices)) if choices else ""


async def after_playback(kiosk: Kiosk, events: AsyncIterable[InputEvent]) -> AsyncIterator[InputEvent]:
    """Scripted input: each event waits for the kiosk to finish speaking (no barge-in)."""
    async for event in events:
        await kiosk.wait_for_playback()
        yield event


async def scripted_keys(keys: list[str]) -> AsyncIterator[InputEvent]:
    for key in keys:
        yield KeyPressed(key)
