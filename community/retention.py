"""Retention: anonymise (or delete) requests closed longer ago than the retention period.

    python -m community.retention                 # anonymise requests closed > REQUEST_RETENTION_DAYS (365)
    python -m community.retention --days 180 --delete

Anonymising keeps the request's reference, kind, dates and status (for statistics) and removes
the name, phone number, 身份证号, address and answers. Run it from cron, e.g. nightly.
On PostgreSQL a run holds an advisory lock: a second run started meanwhile (another host's
cron, a run by hand) does nothing and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Iterator

import sqlalchemy as sa

from community.config import environment
from community.settings import Settings
from community.store import Store

DEFAULT_DAYS = 365
LOCK_KEY = 0x5E7E_0001  # pg advisory lock: one retention run at a time


@contextlib.contextmanager
def one_run_at_a_time(engine: sa.engine.Engine) -> Iterator[bool]:
    """Whether this run holds the retention lock (always on SQLite: one machine, one cron)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        held = bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        try:
            yield held
        finally:
            if held:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})


def retention_days(env: dict[str, str] | None = None) -> int:
    env = environment() if env is None else env
    raw = env.get("REQUEST_RETENTION_DAYS", str(DEFAULT_DAYS))
    try:
        days = int(raw)
    except ValueError as err:
        raise ValueError(f"REQUEST_RETENTION_DAYS must be a whole number of days, got {raw!r}") from err
    if days < 0:
        raise ValueError(f"REQUEST_RETENTION_DAYS must not be negative, got {days}")
    return days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m community.retention", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help=f"closed for more than this many days (default REQUEST_RETENTION_DAYS or {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--delete", action="store_true", help="delete the requests instead of anonymising them"
    )
    args = parser.parse_args(argv)
    try:
        days = args.days if args.days is not None else retention_days()
        if days < 0:
            raise ValueError("--days must not be negative")
        store = Store.from_url(Settings.from_env().store_url)
        with one_run_at_a_time(store.engine) as mine:
            if not mine:
                print("Another retention run is in progress; nothing done.")
                return 0
            count = store.requests.purge_closed(older_than_days=days, delete=args.delete)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    action = "deleted" if args.delete else "anonymised"
    print(f"{count} request(s) closed more than {days} days ago {action}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
