"""``python -m voice``: the kiosk, wired from the command line.

Files: ``--input question.wav --output answer.wav`` runs one exchange; ``--keys "2*0#"``
scripts keypresses (with ``--output``, the spoken audio of the whole session is written).
Without ``--input``/``--keys`` the microphone, speaker and terminal keys are used
(sounddevice/PortAudio, optional). Without a Chinese Vosk model the kiosk is keypad-only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.resident.rasa import RasaClient
from bot.resident.service import ResidentService
from community.catalogue import Catalogue, CatalogueError, load_catalogue
from community.privacy import install_log_masking
from community.settings import Settings
from community.store import Store
from voice.asr import CHINESE_MODEL_HINT, FakeRecognizer, Recognizer, VoskRecognizer, find_vosk_model
from voice.audio import decode_audio, write_wav
from voice.errors import VoiceError
from voice.keypad import parse_keys
from voice.kiosk import KEYPAD_ONLY_NOTICE, Kiosk, after_playback, scripted_keys
from voice.kiosk_outputs import AnsiScreen, AudioSink, BufferSink
from voice.kiosk_settings import KioskSettings
from voice.pipeline import InputEvent, Listener, pcm_chunks
from voice.settings import VoiceSettings
from voice.tts import FakeSynthesizer, Pyttsx3Synthesizer, Synthesizer

log = logging.getLogger("voice")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m voice",
        description="社区服务助手 voice kiosk: speech and phone-style keypad "
        "(1证明 2养老 3托育 4就业, *重听, 0慢一点, 9大声一点, #转人工).",
        epilog="转人工: press #, type the callback number, # again, hear it read back, then 1 to "
        "confirm (* retypes). Without --input/--keys: microphone, speaker and terminal keys "
        "(needs sounddevice). Environment: KIOSK_IDLE_SECONDS (60), KIOSK_CONFIRM_LOW/HIGH "
        "(0.3/0.7), KIOSK_END_OF_SPEECH (relaxed = 1.25 s, default = 0.7 s, or seconds), "
        "COMMUNITY_PHONE, STAFF_HOURS, VOSK_MODEL_PATH, TTS_VOICE, TTS_RATE, "
        "TTS_SLOW_RATE, DATABASE_URL/VAR_DIR (where handoffs go).",
    )
    p.add_argument(
        "--input", type=Path, help="a recording of the resident's question (any format ffmpeg reads)"
    )
    p.add_argument("--output", type=Path, help="write everything the kiosk says to this WAV file")
    p.add_argument("--keys", default="", help='scripted keypresses, e.g. "2*0#13812345678#1"')
    p.add_argument("--rasa", default="", help="Rasa server URL (default: from RASA_PORT/HOST)")
    p.add_argument(
        "--recognizer",
        default="auto",
        help="auto (the Chinese Vosk model if present, else keypad-only), none (keypad-only), "
        "vosk:PATH (a Vosk model directory), or fake:TEXT (pretend the resident said TEXT: "
        "for demos and tests)",
    )
    p.add_argument(
        "--synthesizer",
        choices=("espeak", "fake"),
        default="espeak",
        help="espeak: pyttsx3/espeak-ng (default); fake: a tone per sentence, for demos and tests",
    )
    p.add_argument("--idle-seconds", type=float, default=None, help="silence before goodbye and reset")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def load_recognizer(choice: str, notice: list[str]) -> Recognizer | None:
    if choice == "none":
        return None
    if choice.startswith("fake:"):
        return FakeRecognizer([choice[len("fake:") :]], confidence=0.9)
    if choice.startswith("vosk:"):
        return VoskRecognizer(choice[len("vosk:") :])
    if choice != "auto":
        raise SystemExit(f"--recognizer must be auto, none, vosk:PATH or fake:TEXT, got {choice!r}")
    path = find_vosk_model()
    if path is None:
        notice.append(f"{KEYPAD_ONLY_NOTICE} (no Chinese Vosk model: {CHINESE_MODEL_HINT})")
        return None
    return VoskRecognizer(path)


def make_synthesizer(choice: str) -> Synthesizer:
    if choice == "fake":
        return FakeSynthesizer(seconds_per_char=0.05)
    synthesizer = Pyttsx3Synthesizer.from_settings(VoiceSettings.from_env())
    synthesizer.start()
    return synthesizer


def open_store(settings: Settings) -> Store:
    """The store the kiosk's 转人工 goes to. The kiosk starts even when it is away: handoffs
    then wait in the outbox under VAR_DIR until it is back."""
    try:
        return Store.from_url(settings.store_url)
    except Exception as err:  # noqa: BLE001 - any database error: run, keep handoffs meanwhile
        log.warning("the store is not reachable (%s): handoffs wait in the outbox", type(err).__name__)
        return Store.from_url(settings.store_url, migrate=False)


def resident_service(settings: Settings, rasa_url: str = "") -> ResidentService:
    """The resident service the kiosk asks through, as every channel does."""
    if rasa_url:
        rasa = RasaClient(rasa_url, token=settings.rasa_auth_token, timeout=20)
    else:
        rasa = RasaClient.from_settings(settings, timeout=20)
    return ResidentService(settings, rasa, open_store(settings))


def load_kiosk_catalogue(directory: Path) -> Catalogue | None:
    """The service catalogue, to speak a service's essentials first; without it (unreadable
    here), answers are spoken whole."""
    try:
        return load_catalogue(directory)
    except (CatalogueError, OSError) as err:
        log.warning("no service catalogue at %s (%s): answers are spoken whole", directory, err)
        return None


async def file_events(kiosk: Kiosk, args: argparse.Namespace) -> AsyncIterator[InputEvent]:
    if args.input is not None:
        pcm = await asyncio.to_thread(decode_audio, args.input)
        listener = Listener(
            kiosk.recognizer, endpointer=kiosk.settings.endpointer, grammar_for=kiosk.grammar_for
        )
        async for event in after_playback(kiosk, listener.events(pcm_chunks(pcm))):
            yield event
    async for event in after_playback(kiosk, scripted_keys(parse_keys(args.keys))):
        yield event


async def run(args: argparse.Namespace) -> int:
    community = Settings.from_env()
    settings = KioskSettings.from_env()
    notice: list[str] = []
    files = args.input is not None or bool(args.keys)
    parse_keys(args.keys)  # fail early on a bad script
    sd = None
    if not files:
        from voice.devices import import_sounddevice

        sd = import_sounddevice()
    recognizer = await asyncio.to_thread(load_recognizer, args.recognizer, notice)
    synthesizer = await asyncio.to_thread(make_synthesizer, args.synthesizer)
    catalogue = await asyncio.to_thread(load_kiosk_catalogue, community.catalogue_dir)
    sink: AudioSink
    if sd is None:
        sink = BufferSink()
    else:
        from voice.devices import SpeakerSink

        sink = SpeakerSink(sd)
    kiosk = Kiosk(
        service=await asyncio.to_thread(resident_service, community, args.rasa),
        synthesizer=synthesizer,
        sink=sink,
        screen=AnsiScreen(),
        settings=settings,
        recognizer=recognizer,
        catalogue=catalogue,
    )
    for line in notice:
        print(line, file=sys.stderr)
    try:
        await kiosk.start()
        if sd is None:
            await kiosk.run(file_events(kiosk, args), idle_seconds=args.idle_seconds)
        else:
            from voice.devices import merge, microphone_chunks, terminal_keys

            listener = Listener(recognizer, endpointer=settings.endpointer, grammar_for=kiosk.grammar_for)
            events = merge(listener.events(microphone_chunks(sd)), terminal_keys())
            await kiosk.run(events, idle_seconds=args.idle_seconds)
    finally:
        await kiosk.close()
        synthesizer.close()
    if args.output is not None and isinstance(sink, BufferSink):
        args.output.write_bytes(write_wav(sink.pcm))
        print(f"wrote {args.output} ({len(sink.pcm) / 32000:.1f} s)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    install_log_masking()  # callback numbers typed on the keypad never reach the log unmasked
    if args.output is not None and args.input is None and not args.keys:
        print("--output needs --input or --keys (the speaker is used otherwise)", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args))
    except VoiceError as err:
        print(f"python -m voice: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"python -m voice: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
