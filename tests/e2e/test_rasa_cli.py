"""Rasa's own checks: `rasa data validate` and the test stories against the trained model."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def test_training_data_and_domain_are_valid():
    result = rasa("data", "validate", "--config", "config.yml", "--domain", "domain", "--data", "nlu_data")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_stories_for_every_domain_clarification_and_fallback(trained_model, tmp_path):
    result = rasa(
        "test", "core", "--model", str(trained_model), "--stories", "tests/stories",
        "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot",
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, details[-3000:] + result.stdout[-2000:] + result.stderr[-2000:]
