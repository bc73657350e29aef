"""Where the kiosk's session goes out: audio (:class:`AudioSink`: speakers, or a buffer written
to a file) and the screen (:class:`Screen`: the terminal with large text, or a recording for
tests). The session (:mod:`voice.kiosk`) only calls these interfaces."""

from __future__ import annotations

import abc
import asyncio
import sys
import time
from typing import TextIO


class AudioSink(abc.ABC):
    """Where speech goes. ``play`` returns when the audio has been played; cancelling it stops."""

    def __init__(self) -> None:
        self.first_audio_at: float | None = None  # monotonic time of the latest first chunk

    @abc.abstractmethod
    async def play(self, pcm: bytes) -> None: ...

    def stop(self) -> None:  # noqa: B027 - optional
        """Stop whatever is playing now."""

    def mark(self) -> None:
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()


class BufferSink(AudioSink):
    """Collects everything played (for ``--output`` and tests); ``realtime`` plays at speech pace."""

    def __init__(self, realtime: bool = False) -> None:
        super().__init__()
        self.realtime = realtime
        self.chunks: list[bytes] = []

    async def play(self, pcm: bytes) -> None:
        self.mark()
        if not self.realtime:
            self.chunks.append(pcm)
            return
        step = 16000 * 2 // 20  # 50 ms
        for start in range(0, len(pcm), step):
            self.chunks.append(pcm[start : start + step])
            await asyncio.sleep(0.05)

    @property
    def pcm(self) -> bytes:
        return b"".join(self.chunks)


class Screen(abc.ABC):
    @abc.abstractmethod
    def show(
        self, *, heard: str | None = None, answer: str | None = None, status: str | None = None
    ) -> None: ...

    @abc.abstractmethod
    def clear(self) -> None: ...


class RecordingScreen(Screen):
    """Keeps what would be shown (tests)."""

    def __init__(self) -> None:
        self.heard = ""
        self.answer = ""
        self.status = ""
        self.history: list[tuple[str, str]] = []

    def show(self, *, heard: str | None = None, answer: str | None = None, status: str | None = None) -> None:
        for name, value in (("heard", heard), ("answer", answer), ("status", status)):
            if value is not None:
                setattr(self, name, value)
                self.history.append((name, value))

    def clear(self) -> None:
        self.heard = self.answer = self.status = ""
        self.history.clear()


class AnsiScreen(Screen):
    """Large, high-contrast text on a terminal: yellow/white on black, double-size lines where
    the terminal supports them (DEC ``ESC # 3``/``ESC # 4``). Without a terminal, plain lines."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.heard = self.answer = self.status = ""

    def _big(self, text: str, colour: str) -> str:
        lines = []
        for line in text.splitlines() or [""]:
            lines.append(f"\x1b#3\x1b[1;{colour};40m{line}\x1b[0m")
            lines.append(f"\x1b#4\x1b[1;{colour};40m{line}\x1b[0m")
        return "\n".join(lines)

    def show(self, *, heard: str | None = None, answer: str | None = None, status: str | None = None) -> None:
        if not self.tty:
            for label, value in (("听到", heard), ("回答", answer), ("提示", status)):
                if value is not None:
                    print(f"[{label}] {value}", file=self.stream, flush=True)
            return
        self.heard = self.heard if heard is None else heard
        self.answer = self.answer if answer is None else answer
        self.status = self.status if status is None else status
        out = ["\x1b[40m\x1b[2J\x1b[H", self._big("社区服务助手", "37"), ""]
        if self.status:
            out += [self._big(self.status, "36"), ""]
        if self.heard:
            out += [self._big("您说：" + self.heard, "33"), ""]
        if self.answer:
            out += [self._big(self.answer, "37"), ""]
        out.append(self._big("1证明 2养老 3托育 4就业  *重听 0慢一点 9大声 #转人工", "32"))
        print("\n".join(out), file=self.stream, flush=True)

    def clear(self) -> None:
        self.heard = self.answer = self.status = ""
        if self.tty:
            print("\x1b[0m\x1b[2J\x1b[3J\x1b[H", end="", file=self.stream, flush=True)
        else:
            print("[清屏]", file=self.stream, flush=True)


