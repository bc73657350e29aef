"""The retention command, run as residents' data would be purged on a real site."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from community.records.requests import NewRequest
from community.store import Store

ROOT = Path(__file__).resolve().parents[3]


def request(store, days_ago_closed):
    now = dt.datetime.now(dt.timezone.utc)
    new = NewRequest(
        kind="meal",
        title="助餐登记",
        channel="web",
        conversation_id="web-1",
        fields={"age": 80},
        summary="王秀英 13812345678",
        contact_name="王秀英",
        phone="13812345678",
    )
    row = store.requests.create(new, now=now - dt.timedelta(days=days_ago_closed + 1))
    store.requests.set_status(row["ref"], "done", actor="li", now=now - dt.timedelta(days=days_ago_closed))
    return row["ref"]


def run(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "community.retention", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": "", **env},
        timeout=120,
    )


def test_command_anonymises_requests_closed_longer_than_the_period(tmp_path):
    store = Store.from_url(f"sqlite:///{tmp_path / 'community.db'}")
    old, recent = request(store, 400), request(store, 10)
    result = run(tmp_path)
    assert result.returncode == 0 and "1 request(s)" in result.stdout and "anonymised" in result.stdout
    assert store.requests.get(old)["phone"] is None and store.requests.get(old)["anonymised"]
    assert store.requests.get(recent)["phone"] == "13812345678"
    result = run(tmp_path, "--days", "5", "--delete")
    assert result.returncode == 0 and "2 request(s)" in result.stdout
    assert store.requests.get(recent) is None


def test_period_comes_from_the_environment_and_is_checked(tmp_path):
    store = Store.from_url(f"sqlite:///{tmp_path / 'community.db'}")
    ref = request(store, 40)
    assert run(tmp_path, REQUEST_RETENTION_DAYS="30").returncode == 0
    assert store.requests.get(ref)["anonymised"]
    bad = run(tmp_path, REQUEST_RETENTION_DAYS="a year")
    assert bad.returncode == 2 and "REQUEST_RETENTION_DAYS" in bad.stderr
