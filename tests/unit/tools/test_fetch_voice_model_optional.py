"""tools/fetch_voice_model.sh, which `make run` calls with --optional: a sha256-checked model is
unpacked where VOSK_MODEL_PATH points; a missing download or a bad checksum never fails
--optional (it says once how to add the model) but fails `make voice-model`. No network: the
"download" is a file:// URL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NAME = "vosk-model-small-cn-0.22"


def fetch(tmp_path: Path, url: str, sha256: str = "0" * 64, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "VOICE_MODEL_URL": url,
        "VOICE_MODEL_SHA256": sha256,
        "VOSK_MODEL_PATH": str(tmp_path / "models" / NAME),
    }
    env.pop("VOSK_MODEL_DIR", None)
    return subprocess.run(
        ["bash", "tools/fetch_voice_model.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )


def model_zip(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{NAME}/am/final.mdl", b"model")
        archive.writestr(f"{NAME}/conf/model.conf", b"--sample-frequency=16000\n")
        archive.writestr(f"{NAME}/graph/HCLr.fst", b"graph")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_checked_download_is_unpacked_where_the_settings_point(tmp_path):
    path, sha256 = model_zip(tmp_path)
    done = fetch(tmp_path, path.as_uri(), sha256, "--optional")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "models" / NAME / "am" / "final.mdl").read_bytes() == b"model"
    again = fetch(tmp_path, "file:///nowhere.zip", sha256, "--optional")  # present: nothing to do
    assert again.returncode == 0 and again.stderr == ""


def test_offline_run_says_once_how_to_add_it_and_goes_on(tmp_path):
    done = fetch(tmp_path, (tmp_path / "missing.zip").as_uri(), "0" * 64, "--optional")
    assert done.returncode == 0
    assert done.stderr.count("Voice input is off") == done.stderr.count("语音输入未开启") == 1  # one notice
    assert "make voice-model" in done.stderr and not (tmp_path / "models" / NAME).exists()
    strict = fetch(tmp_path, (tmp_path / "missing.zip").as_uri())
    assert strict.returncode == 1 and "ERROR" in strict.stderr


def test_a_bad_checksum_is_not_installed(tmp_path):
    path, _ = model_zip(tmp_path)
    done = fetch(tmp_path, path.as_uri(), "f" * 64, "--optional")
    assert done.returncode == 0 and "checksum mismatch" in done.stderr
    assert not (tmp_path / "models" / NAME).exists()
    assert fetch(tmp_path, path.as_uri(), "f" * 64).returncode == 1


def test_make_run_fetches_the_model_first():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "fetch_voice_model.sh --optional" in run.split("-m bot")[0]
