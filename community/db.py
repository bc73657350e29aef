"""The store's database: the engine, the shared table metadata, the clock, the community's
time zone, and the schema migrations.

Every record module (:mod:`community.records`) defines its tables on :data:`metadata`; the
schema itself is managed by Alembic (``community/migrations``, snapshots that never import the
record modules' tables). SQLite by default, PostgreSQL when ``DATABASE_URL`` says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

# The community's local time: reference numbers, "today", statistics days, staff hours.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

metadata = sa.MetaData()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


def local_date(moment: dt.datetime) -> dt.date:
    """The community-local calendar day of ``moment``."""
    return aware(moment).astimezone(LOCAL_TZ).date()  # type: ignore[union-attr]


def make_engine(url: str) -> sa.engine.Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, future=True, hide_parameters=True, connect_args={"timeout": 15})
    # hide_parameters: a database error never quotes a resident's name, phone or address.
    return sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: sa.engine.Engine) -> None:
    """Bring the schema up to date (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
