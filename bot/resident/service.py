"""The resident service: everything a resident can do, written once for every channel.

The web chat, Telegram, the kiosk and the phone line are thin adapters: each turns its
protocol into calls here and the results back into its own UI, and nothing else.

* :meth:`ResidentService.ask`: a message to the assistant. Never nothing comes back: while staff
  hold the conversation the answer says so (``held``); while the assistant can't answer (Rasa
  restarting, an action failing) the resident hears that it is recovering, an emergency gets
  119/110/120 first and still reaches the staff inbox. ``unavailable`` says when asking again
  later may be answered (Rasa or its action server down): a channel that keeps messages (Telegram)
  asks again, and says :meth:`ResidentService.recovery` to what arrives meanwhile.
* :meth:`ResidentService.hear`: voice in (decode → silence check → recognise → normalise), with
  typed :class:`~voice.errors.VoiceError` codes the channel words for its residents.
* :meth:`ResidentService.intents`: how the assistant reads a message without answering it (the
  kiosk confirms a fairly-sure question first).
* :meth:`ResidentService.hand_over`: into the staff inbox (the kiosk's 转人工 with a callback
  number, the phone's), kept in the outbox while the store is away.
* :meth:`ResidentService.with_staff`: one meaning everywhere: a staff member holds the
  conversation or it waits in the inbox.
* :meth:`ResidentService.rate`: 好差评 (👍/👎); a 👎 goes to the review queue.
  :meth:`ResidentService.not_understood`: the same 👎 for the last answer, for channels without a
  button to tap (the kiosk's and the phone line's key, a resident saying 没听懂).
* :meth:`ResidentService.speak`: text for the ear, synthesised.
* :meth:`ResidentService.history`: the resident's own conversation so far (a page reloaded), and
  whether the assistant is waiting for the answer to a form's question.
* Which message of a reply gets 👍/👎 (:func:`rated_message`: the final answer only, not a form's
  question, a menu, the summary to confirm or a recovery reply) and which messages wait for the
  resident (:func:`waits`): one rule for every channel, with :meth:`ResidentService.asking`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bot.resident.rasa import RasaClient, RasaUnavailable
from community.handoff_keeper import HandoffKeeper
from community.records.requests import REFERENCE_PATTERN
from community.recovery import looks_like_emergency, recovery_reply
from community.settings import Settings
from community.store import Store
from voice.asr import Recognizer, transcribe_pcm
from voice.asr_text import normalize_asr_text
from voice.audio import decode_audio, is_silent, pcm_duration
from voice.errors import VoiceError
from voice.speech_text import speech_text
from voice.tts import SpeechRate, Synthesizer

log = logging.getLogger(__name__)

REFERENCE = re.compile(REFERENCE_PATTERN)
# What a voice channel says when staff hold the conversation and the assistant stays silent.
HELD_LINE = "工作人员已经收到您的消息，会尽快和您联系。"


def references(text: str) -> list[str]:
    """Request reference numbers (SQ-YYYYMMDD-NNNN) in ``text``, in order, without repeats."""
    return list(dict.fromkeys(REFERENCE.findall(text or "")))


def shows_something(messages: list[dict[str, Any]]) -> bool:
    return any(m.get("text") or m.get("buttons") or m.get("image") for m in messages)


# A message that waits for the resident (a question, a menu, a summary to confirm, "did you
# mean A or B") is not an answer to rate; nor are greetings and small talk.
ASKING_ENDINGS = ("？", "?", "：", ":")
ASKING_PAYLOADS = ("/affirm", "/deny", "/cancel")
SMALL_TALK = ("您好", "不客气", "好的，再见", "好的。还有什么", "请问您想办什么事", "我还没说什么")


def _payloads(message: dict[str, Any]) -> set[str]:
    return {str(b.get("payload") or "") for b in message.get("buttons") or [] if isinstance(b, dict)}


def is_final(message: dict[str, Any]) -> bool:
    """A message that answers (rather than asks, offers a menu or a summary to confirm)."""
    text = str(message.get("text") or "").strip()
    return (
        bool(text) and not text.endswith(ASKING_ENDINGS) and not text.startswith(SMALL_TALK)
        and not _payloads(message) & set(ASKING_PAYLOADS)
    )


def waits(message: dict[str, Any], asking: bool | None = None) -> bool:
    """Whether ``message``'s buttons answer a step that is over once the resident answered it
    (a form's question while the form waits, yes/no, the summary to confirm, "A or B?"), as
    opposed to a menu or an answer's details, which stay open."""
    if not message.get("buttons"):
        return False
    return bool(asking) or bool(_payloads(message) & set(ASKING_PAYLOADS))


def rated_message(answer: Answer, asking: bool | None = None) -> int | None:
    """The index of the one message of ``answer`` that gets 👍/👎: its last final answer; none
    while a form waits for the resident's answer, while staff hold the conversation or while the
    assistant is recovering. ``asking`` None (unknown): the messages alone decide."""
    if answer.recovering or answer.held or asking:
        return None
    final = [i for i, m in enumerate(answer.messages) if is_final(m)]
    return final[-1] if final else None


@dataclass(frozen=True)
class Answer:
    """What the resident gets for one message."""

    messages: list[dict[str, Any]] = field(default_factory=list)  # text, buttons, references
    held: bool = False  # staff hold (or will take) the conversation: the assistant is silent
    recovering: bool = False  # the assistant could not answer; ``messages`` says so
    # Rasa or its action server is down: asked again later, the same message may be answered
    # (a channel that keeps messages, like Telegram, does that; the others just say recovering).
    unavailable: bool = False

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.messages if m.get("text"))


@dataclass(frozen=True)
class History:
    """A resident's conversation as Rasa's tracker store keeps it (personal details masked)."""

    # {"from": "resident"|"assistant", "text", "buttons"?, "references"}, oldest first
    messages: list[dict[str, Any]] = field(default_factory=list)
    asking: bool = False  # a form is waiting for the resident's answer to its question


def transcript(events: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """What the resident and the assistant said, from tracker events: a tapped button shows its
    title (not its payload); the assistant's messages without text or buttons (hints such as
    ``speech_rate``) are left out."""
    said: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "user":
            text = str(event.get("text") or "").strip()
            last = next((m for m in reversed(said) if m["from"] == "assistant"), None)
            titles = {b.get("payload"): b.get("title") for b in (last or {}).get("buttons", [])}
            shown = titles.get(text) or ("" if text.startswith("/") else text)
            if shown:
                said.append({"from": "resident", "text": str(shown)})
        elif event.get("event") == "bot":
            text = str(event.get("text") or "")
            buttons = [b for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
            if text or buttons:
                said.append(
                    {"from": "assistant", "text": text, "buttons": buttons, "references": references(text)}
                )
    return said[-limit:]


@dataclass(frozen=True)
class Heard:
    """What a resident said in a recording."""

    text: str
    seconds: float


class ResidentService:
    def __init__(
        self,
        settings: Settings,
        rasa: RasaClient,
        store: Store,
        *,
        recognizer: Recognizer | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.store = store
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self._keeper: HandoffKeeper | None = None

    # -- asking ---------------------------------------------------------------------------------
    async def ask(self, sender: str, text: str, channel: str, *, said: str = "", **metadata: str) -> Answer:
        """The assistant's answer to ``text``; see the module's docstring. ``said``: what the
        resident wrote or tapped when ``text`` is a button's payload (for the recovery reply)."""
        try:
            messages = await self.rasa.send(sender, text, {"channel": channel, **metadata})
        except RasaUnavailable as err:
            log.warning("Rasa could not answer (%s)", err.code)
            return await self.recovery(sender, said or text, channel)
        if shows_something(messages):
            return Answer([{**m, "references": references(str(m.get("text") or ""))} for m in messages])
        if await self.with_staff(sender):
            return Answer(messages, held=True)
        if await self.rasa.actions_up():
            log.warning("Rasa answered nothing; the resident is told the system is recovering")
            return self._recovering(said or text)
        log.warning("the action server is down; the resident is told the system is recovering")
        return self._recovering(said or text, unavailable=True)

    async def intents(self, text: str) -> list[tuple[str, float]]:
        """How the assistant reads ``text`` without answering it: (intent, confidence), best
        first, confidences within [0, 1]. For a channel that confirms a fairly-sure question
        before asking it (the kiosk's 您是想问…，对吗？). Raises RasaUnavailable."""
        parsed = await self.rasa.parse(text)
        ranking = parsed.get("intent_ranking") or ([parsed["intent"]] if parsed.get("intent") else [])
        return [
            (str(i["name"]), min(max(float(i.get("confidence") or 0.0), 0.0), 1.0))
            for i in ranking
            if isinstance(i, dict) and i.get("name")
        ]

    async def recovery(self, sender: str, text: str, channel: str) -> Answer:
        """The answer while Rasa can't be reached: the recovery reply, and an emergency reaches
        staff now (the store, or the outbox meanwhile). For a message a channel keeps to ask
        again later, too."""
        if looks_like_emergency(text):
            await self.keeper().keep(
                conversation_id=sender, channel=channel, reason="emergency", text=text, emergency=True
            )
        return self._recovering(text, unavailable=True)

    def _recovering(self, text: str, unavailable: bool = False) -> Answer:
        reply = recovery_reply(text, self.settings.community_phone)
        return Answer([{"text": reply.text, "references": []}], recovering=True, unavailable=unavailable)

    def keeper(self) -> HandoffKeeper:
        """Handoffs from this process, opened on first use (with a flusher for what it keeps)."""
        if self._keeper is None:
            self._keeper = HandoffKeeper.for_process(self.store, self.settings.var_dir)
        return self._keeper

    async def hand_over(
        self, sender: str, channel: str, *, reason: str, text: str, emergency: bool = False
    ) -> int | None:
        """Put the resident in the staff inbox with ``text`` (what staff need to know); never
        raises. The handoff's number, or None when the store is away and it waits in the outbox
        (it reaches the inbox when the store is back)."""
        return await self.keeper().file(
            conversation_id=sender, channel=channel, reason=reason, text=text, emergency=emergency
        )

    async def close(self) -> None:
        """Close the connection to the assistant (the channel's own resources are its own)."""
        await self.rasa.close()

    async def with_staff(self, sender: str) -> bool:
        """Whether this resident waits for, or talks with, a staff member."""
        inbox = self.store.handoffs
        try:
            return await asyncio.to_thread(
                lambda: inbox.held(sender) is not None or inbox.waiting(sender)
            )
        except Exception as err:  # noqa: BLE001 - the store is away: say nothing special
            log.warning("handoff state unknown: %s", type(err).__name__)
            return False

    # -- voice ----------------------------------------------------------------------------------
    @property
    def can_hear(self) -> bool:
        return self.recognizer is not None

    @property
    def can_speak(self) -> bool:
        return self.synthesizer is not None

    async def hear(
        self, audio: bytes, *, max_seconds: float, max_bytes: int, timeout: float = 30.0
    ) -> Heard:
        """What the resident said; raises VoiceError: ``bad-audio``, ``too-long``, ``timeout``,
        ``no-engine`` (decoding), ``silent``, ``no-model``, ``asr-failed``, ``not-heard``."""
        pcm = await asyncio.to_thread(
            decode_audio, audio, max_seconds=max_seconds, max_bytes=max_bytes, timeout=timeout
        )
        seconds = round(pcm_duration(pcm), 2)
        if is_silent(pcm):
            raise VoiceError("silent", "the recording is silent", seconds=seconds)
        if self.recognizer is None:
            raise VoiceError("no-model", "no speech recognition model", seconds=seconds)
        try:
            final = await asyncio.to_thread(transcribe_pcm, self.recognizer, pcm)
        except VoiceError as err:
            raise VoiceError(err.code, err.message, seconds=seconds) from err
        heard = normalize_asr_text(final.text)
        if not heard:
            raise VoiceError("not-heard", "nothing was recognised", seconds=seconds)
        return Heard(heard, seconds)

    async def speak(self, text: str, rate: SpeechRate = SpeechRate.NORMAL) -> bytes:
        """``text`` read for the ear (numbers in chunks, no markup) as WAV; raises VoiceError."""
        if self.synthesizer is None:
            raise VoiceError("no-engine", "no speech synthesiser")
        spoken = speech_text(text)
        if not spoken.strip():
            raise VoiceError("empty-text", "nothing to read")
        return await self.synthesizer.synthesize_async(spoken, rate)

    async def asking(self, sender: str, answer: Answer) -> bool | None:
        """Whether a form now waits for the resident's answer (the assistant's tracker knows);
        None when that can't be read or needn't be (nothing in ``answer`` to rate or to tap)."""
        tappable = any(is_final(m) or m.get("buttons") for m in answer.messages)
        if answer.recovering or answer.held or not tappable:
            return None
        try:
            return (await self.history(sender, messages=False)).asking
        except RasaUnavailable as err:
            log.info("form state unknown: %s", err.code)
            return None

    # -- history --------------------------------------------------------------------------------
    async def history(self, sender: str, *, messages: bool = True, limit: int = 200) -> History:
        """``sender``'s own conversation, read from Rasa's tracker (the channel passes the id it
        knows its resident by; never one a client names). ``messages=False``: only whether a form
        waits for an answer. Raises RasaUnavailable."""
        tracker = await self.rasa.tracker(sender, "ALL" if messages else "NONE")
        asking = bool((tracker.get("active_loop") or {}).get("name"))
        events = (tracker.get("events") or []) if messages else []
        return History(transcript([e for e in events if isinstance(e, dict)], limit), asking)

    # -- 好差评 ----------------------------------------------------------------------------------
    async def rate(self, sender: str, channel: str, *, question: str, answer: str, rating: str) -> int:
        """Store a 👍 ("up") or 👎 ("down"); raises on a store error (the channel says so)."""
        return await asyncio.to_thread(
            self.store.ratings.record,
            conversation_id=sender, channel=channel, question=question, answer=answer, rating=rating,
        )

    async def not_understood(self, sender: str, channel: str) -> int | None:
        """A 👎 on the last answer without a button to tap: the kiosk's or the phone line's key,
        or a resident saying 没听懂. The question and the answer are read from the assistant's
        tracker; the question goes to the review queue like any 👎 (once per resident). None
        when nothing was answered yet. Raises RasaUnavailable, or a store error."""
        said = (await self.history(sender, limit=40)).messages
        answers: list[str] = []
        for message in reversed(said):
            if message["from"] == "assistant":
                if message.get("text"):
                    answers.insert(0, str(message["text"]))
            elif answers:
                return await self.rate(
                    sender, channel, question=str(message["text"]), answer="\n".join(answers), rating="down"
                )
        return None
