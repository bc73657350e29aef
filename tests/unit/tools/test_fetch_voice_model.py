"""`make voice-model` checks the zip's sha256 before installing anything."""

import hashlib
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NAME = "vosk-model-small-cn-0.22"


def make_zip(tmp_path: Path) -> Path:
    path = tmp_path / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{NAME}/am/final.mdl", b"not a real model")
    return path


def fetch(tmp_path: Path, zip_path: Path, sha256: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "VOICE_MODEL_URL": f"file://{zip_path}",
           "VOICE_MODEL_SHA256": sha256, "VOSK_MODEL_DIR": str(tmp_path / "models")}
    return subprocess.run(["bash", str(ROOT / "tools" / "fetch_voice_model.sh")],
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_matching_zip_is_unpacked(tmp_path):
    zip_path = make_zip(tmp_path)
    result = fetch(tmp_path, zip_path, hashlib.sha256(zip_path.read_bytes()).hexdigest())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "models" / NAME / "am" / "final.mdl").exists()


def test_a_zip_with_the_wrong_checksum_is_refused(tmp_path):
    result = fetch(tmp_path, make_zip(tmp_path), "0" * 64)
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr
    assert not (tmp_path / "models" / NAME).exists()
