"""Fixtures for the web chat tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.fail("ffmpeg is required for the voice input tests: apt-get install ffmpeg")
    return path
