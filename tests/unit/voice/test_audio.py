"""Audio decoding with ffmpeg (on real Mandarin clips), WAV helpers, levels, OGG/Opus."""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from voice.audio import (
    BYTES_PER_SECOND,
    SAMPLE_RATE,
    Wav,
    decode_audio,
    encode_ogg_opus,
    is_silent,
    pcm_duration,
    pcm_peak,
    pcm_rms,
    read_wav,
    write_wav,
)
from voice.errors import VoiceError


def tone(seconds: float, amplitude: float = 0.5, rate: int = SAMPLE_RATE, hz: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * 32767 * np.sin(2 * math.pi * hz * t)).astype("<i2").tobytes()


def transcode(ffmpeg: str, source: Path, target: Path, *codec: str) -> Path:
    subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *codec, str(target)],
        check=True,
        timeout=30,
    )
    return target


# --- levels and WAV -------------------------------------------------------------------------


def test_levels_of_known_signals():
    assert pcm_rms(b"") == 0.0 and pcm_peak(b"") == 0.0
    assert pcm_rms(bytes(3200)) == 0.0
    assert pcm_rms(tone(1.0, 0.5)) == pytest.approx(0.5 / math.sqrt(2), rel=0.01)
    assert pcm_peak(tone(1.0, 0.5)) == pytest.approx(0.5, rel=0.01)
    assert is_silent(bytes(3200)) and is_silent(tone(1.0, 0.001))
    assert not is_silent(tone(1.0, 0.1))
    assert pcm_duration(bytes(BYTES_PER_SECOND * 2)) == 2.0
    assert pcm_duration(bytes(8000 * 2), sample_rate=8000) == 1.0


def test_odd_pcm_is_bad_audio():
    with pytest.raises(VoiceError) as err:
        pcm_rms(b"\x00\x01\x02")
    assert err.value.code == "bad-audio"


def test_wav_round_trip():
    pcm = tone(0.5)
    wav = write_wav(pcm)
    assert wav.startswith(b"RIFF")
    audio = read_wav(wav)
    assert audio == Wav(pcm, SAMPLE_RATE, 1)
    assert audio.duration == pytest.approx(0.5)


def test_wav_from_a_path_and_bad_wavs(tmp_path: Path):
    path = tmp_path / "a.wav"
    path.write_bytes(write_wav(tone(0.25), 8000))
    assert read_wav(path).sample_rate == 8000
    with pytest.raises(VoiceError, match="bad-audio"):
        read_wav(b"not a wav file at all")
    with pytest.raises(VoiceError, match="bad-audio"):
        read_wav(tmp_path / "missing.wav")
    eight_bit = tmp_path / "u8.wav"
    with wave.open(str(eight_bit), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(1)
        handle.setframerate(8000)
        handle.writeframes(bytes(800))
    with pytest.raises(VoiceError, match="16-bit"):
        read_wav(eight_bit)


def test_wav_dataclass_is_validated():
    with pytest.raises(ValueError):
        Wav(b"\x00\x00\x00", 16000, 1)
    with pytest.raises(ValueError):
        Wav(b"", 10, 1)
    with pytest.raises(ValueError):
        Wav(bytes(4), 16000, 0)


# --- decoding real audio ----------------------------------------------------------------------


def test_aishell_clips_decode_to_16k_mono_pcm(aishell: dict[Path, str], ffmpeg: str):
    for path in aishell:
        with wave.open(str(path), "rb") as handle:
            assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (16000, 1, 2)
            expected = handle.getnframes() / handle.getframerate()
            original = handle.readframes(handle.getnframes())
        pcm = decode_audio(path)
        assert pcm_duration(pcm) == pytest.approx(expected, abs=0.01)
        assert pcm == original  # already 16 kHz mono s16le: decoded unchanged
        assert not is_silent(pcm)
        assert decode_audio(path.read_bytes()) == pcm


@pytest.mark.parametrize(
    "suffix, codec",
    [
        (".ogg", ("-c:a", "libopus", "-b:a", "32k")),
        (".mp3", ("-c:a", "libmp3lame", "-b:a", "64k")),
        (".webm", ("-c:a", "libopus", "-b:a", "32k")),
        (".wav", ("-ar", "44100", "-af", "pan=stereo|c0=c0|c1=c0")),  # CD-rate stereo: resampled, mixed down
    ],
)
def test_compressed_and_other_formats_decode_back(aishell, ffmpeg, tmp_path, suffix, codec):
    source = next(iter(aishell))
    original = decode_audio(source)
    encoded = transcode(ffmpeg, source, tmp_path / f"clip{suffix}", *codec)
    pcm = decode_audio(encoded.read_bytes())
    assert pcm_duration(pcm) == pytest.approx(pcm_duration(original), abs=0.08)
    assert pcm_rms(pcm) == pytest.approx(pcm_rms(original), rel=0.2)


def test_encode_ogg_opus_for_telegram(aishell):
    pcm = decode_audio(next(iter(aishell)))
    ogg = encode_ogg_opus(pcm)
    assert ogg.startswith(b"OggS") and b"OpusHead" in ogg[:200]
    assert len(ogg) < len(pcm) / 4
    back = decode_audio(ogg)
    assert pcm_duration(back) == pytest.approx(pcm_duration(pcm), abs=0.08)
    assert pcm_rms(back) == pytest.approx(pcm_rms(pcm), rel=0.2)


def test_encode_rejects_empty_or_odd_pcm():
    with pytest.raises(VoiceError, match="bad-audio"):
        encode_ogg_opus(b"")
    with pytest.raises(VoiceError, match="bad-audio"):
        encode_ogg_opus(b"\x00")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"this is not audio, just text" * 10, bytes(range(256)) * 40, b"RIFF\x00\x00\x00\x00WAVEjunk"],
)
def test_undecodable_input_is_bad_audio(data, ffmpeg):
    with pytest.raises(VoiceError) as err:
        decode_audio(data)
    assert err.value.code == "bad-audio"


def test_empty_and_missing_input_is_bad_audio(tmp_path):
    for source in (b"", tmp_path / "missing.ogg"):
        with pytest.raises(VoiceError) as err:
            decode_audio(source)
        assert err.value.code == "bad-audio"
    text = tmp_path / "notes.ogg"
    text.write_text("不是音频", encoding="utf-8")
    with pytest.raises(VoiceError, match="bad-audio"):
        decode_audio(text)


def test_too_long_audio_is_refused(aishell, ffmpeg):
    clip = next(iter(aishell))
    with pytest.raises(VoiceError) as err:
        decode_audio(clip, max_seconds=1.0)
    assert err.value.code == "too-long"
    with pytest.raises(VoiceError) as err:
        decode_audio(write_wav(bytes(BYTES_PER_SECOND * 3)), max_seconds=2.5)
    assert err.value.code == "too-long"
    with pytest.raises(VoiceError) as err:
        decode_audio(clip.read_bytes(), max_bytes=1000)
    assert err.value.code == "too-long"
    assert pcm_duration(decode_audio(write_wav(bytes(BYTES_PER_SECOND * 2)), max_seconds=2.5)) == 2.0


def test_ffmpeg_timeout_and_absence(tmp_path):
    slow = tmp_path / "slow-ffmpeg"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    with pytest.raises(VoiceError) as err:
        decode_audio(write_wav(tone(0.2)), timeout=0.3, ffmpeg=str(slow))
    assert err.value.code == "timeout"
    with pytest.raises(VoiceError) as err:
        decode_audio(write_wav(tone(0.2)), ffmpeg="no-such-ffmpeg-here")
    assert err.value.code == "no-engine" and "apt-get install ffmpeg" in err.value.message


def test_a_file_name_is_never_taken_as_a_url(tmp_path, ffmpeg):
    odd = tmp_path / "http:"
    odd.mkdir()
    clip = odd / "clip.wav"
    clip.write_bytes(write_wav(tone(0.3)))
    assert pcm_duration(decode_audio(clip)) == pytest.approx(0.3)
