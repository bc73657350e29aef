"""Voice notes in and out of Telegram, on the resident service's ears and voice.

In: the voice note is checked against Telegram's stated duration, downloaded and handed to
:meth:`ResidentService.hear` (decode → silence check → recognise → normalise); its
:class:`~voice.errors.VoiceError` codes become the resident's text here. Out: an answer is read
by :meth:`ResidentService.speak` and sent as OGG/Opus, Telegram's voice format.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot

from bot.resident.service import ResidentService
from bot.telegram import texts
from bot.telegram.retry import with_retry
from voice.audio import decode_audio, encode_ogg_opus, read_wav
from voice.errors import VoiceError
from voice.tts import MAX_TEXT_CHARS

MAX_VOICE_BYTES = 20 * 1024 * 1024  # the largest file a bot may download from Telegram

REPLIES = {
    "no-model": texts.VOICE_UNAVAILABLE,
    "too-long": texts.VOICE_TOO_LONG,
    "silent": texts.VOICE_NOT_HEARD,
    "not-heard": texts.VOICE_NOT_HEARD,
    "asr-failed": texts.VOICE_FAILED,
}


def reply_for(err: VoiceError) -> str:
    """What the resident reads when their voice note could not be heard."""
    return REPLIES.get(err.code, texts.VOICE_BAD)


async def hear(
    bot: Bot, service: ResidentService, file_id: str, duration: Any, *, max_seconds: float
) -> str:
    """What the resident said in voice note ``file_id``; raises VoiceError (see :func:`reply_for`).
    Nothing is downloaded without a recogniser or when Telegram says the note is too long."""
    if not service.can_hear:
        raise VoiceError("no-model", "no speech recognition model")
    seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
    if seconds is not None and float(seconds) > max_seconds:
        raise VoiceError("too-long", f"a voice note of {seconds} s")
    telegram_file = await with_retry(lambda: bot.get_file(file_id))
    data = bytes(await with_retry(telegram_file.download_as_bytearray))
    heard = await service.hear(data, max_seconds=max_seconds, max_bytes=MAX_VOICE_BYTES)
    return heard.text


async def spoken(service: ResidentService, text: str) -> tuple[bytes, int]:
    """``text`` read aloud as an OGG/Opus voice note and its whole seconds; raises VoiceError."""
    wav = await service.speak(text[:MAX_TEXT_CHARS])
    return await asyncio.to_thread(_wav_to_ogg, wav)


def _wav_to_ogg(wav: bytes) -> tuple[bytes, int]:
    audio = read_wav(wav)
    pcm = audio.pcm if audio.channels == 1 else decode_audio(wav, max_seconds=3600)
    rate = audio.sample_rate if audio.channels == 1 else 16000
    return encode_ogg_opus(pcm, rate), max(int(round(audio.duration)), 1)
