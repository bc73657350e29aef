"""Shared fixtures: no network beyond loopback, real PostgreSQL, the trained model."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from community.settings import is_loopback

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _is_local(address: object) -> bool:
    if isinstance(address, tuple) and address:
        return is_loopback(str(address[0]))
    return True  # unix sockets


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection outside loopback: tests never reach the internet."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A fresh PostgreSQL database on loopback for this test session, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"sqa_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as err:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (start it; see README): {err}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ),
            {"n": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make train` builds (trained here if it is missing)."""
    model = ROOT / "models" / "community.tar.gz"
    if not model.exists():
        subprocess.run(["make", "-C", str(ROOT), "train"], check=True)
    return model


@pytest.fixture(scope="session")
def catalogue():
    from community.catalogue import load_catalogue

    return load_catalogue(ROOT / "catalogue")


@pytest.fixture()
def rt(tmp_path, catalogue):
    """The action server's runtime on a fresh SQLite store (actions run in-process)."""
    from actions import runtime
    from community.settings import Settings
    from community.store import Store

    value = runtime.Runtime(
        settings=Settings(var_dir=tmp_path),
        catalogue=catalogue,
        store=Store.from_url(f"sqlite:///{tmp_path / 'store.db'}"),
    )
    runtime.configure(value)
    yield value
    runtime.configure(None)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """The store's database, once on SQLite and once on PostgreSQL (a session-wide database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
