"""Live microphone, speaker and terminal keypad (sounddevice/PortAudio), imported lazily.

sounddevice is optional: :func:`import_sounddevice` raises ``VoiceError("no-engine")`` with
how to install it. The audio callback only enqueues bytes; everything else runs on the loop.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from types import ModuleType

import numpy as np

from voice.audio import SAMPLE_RATE
from voice.errors import VoiceError
from voice.keypad import KEYS
from voice.kiosk_outputs import AudioSink
from voice.pipeline import InputEvent, KeyPressed

INSTALL_HINT = (
    "microphone and speaker need the sounddevice package and PortAudio: "
    "apt-get install libportaudio2 && .venv/bin/pip install sounddevice "
    "(or run from files: python -m voice --input question.wav --output answer.wav, or --keys)"
)


def import_sounddevice() -> ModuleType:
    try:
        import sounddevice
    except (ImportError, OSError) as err:  # OSError: the package is there but PortAudio is not
        raise VoiceError("no-engine", f"{INSTALL_HINT} ({err})") from err
    return sounddevice


async def microphone_chunks(sd: ModuleType, block_ms: int = 20) -> AsyncIterator[bytes]:
    """16 kHz mono s16le blocks from the default input device."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    def callback(indata, frames, time_info, status) -> None:  # noqa: ANN001 - PortAudio's signature
        loop.call_soon_threadsafe(queue.put_nowait, bytes(indata))

    stream = sd.RawInputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=SAMPLE_RATE * block_ms // 1000,
        callback=callback,
    )
    with stream:
        while True:
            yield await queue.get()


class SpeakerSink(AudioSink):
    """Plays through the default output device; ``stop`` cuts it off (barge-in)."""

    def __init__(self, sd: ModuleType) -> None:
        super().__init__()
        self.sd = sd

    async def play(self, pcm: bytes) -> None:
        self.mark()
        samples = np.frombuffer(pcm, dtype="<i2")
        if not samples.size:
            return
        await asyncio.to_thread(self.sd.play, samples, SAMPLE_RATE)
        try:
            await asyncio.sleep(samples.size / SAMPLE_RATE)
        except asyncio.CancelledError:
            self.sd.stop()
            raise

    def stop(self) -> None:
        self.sd.stop()


async def terminal_keys() -> AsyncIterator[InputEvent]:
    """Keys typed on the terminal (0-9, *, #), without waiting for Enter when stdin is a tty."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def reader() -> None:
        if sys.stdin.isatty():
            import termios
            import tty

            fd = sys.stdin.fileno()
            saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
            try:
                while char := sys.stdin.read(1):
                    loop.call_soon_threadsafe(queue.put_nowait, char)
            finally:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        else:
            for char in iter(lambda: sys.stdin.read(1), ""):
                loop.call_soon_threadsafe(queue.put_nowait, char)
        loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=reader, name="keypad", daemon=True).start()
    while char := await queue.get():
        if char in KEYS:
            yield KeyPressed(char)


async def merge(*sources: AsyncIterator[InputEvent]) -> AsyncIterator[InputEvent]:
    """Events of several sources as they come."""
    queue: asyncio.Queue[InputEvent | None] = asyncio.Queue()

    async def pump(source: AsyncIterator[InputEvent]) -> None:
        try:
            async for event in source:
                await queue.put(event)
        finally:
            await queue.put(None)

    tasks = [asyncio.ensure_future(pump(s)) for s in sources]
    running = len(tasks)
    try:
        while running:
            event = await queue.get()
            if event is None:
                running -= 1
            else:
                yield event
    finally:
        for task in tasks:
            task.cancel()
