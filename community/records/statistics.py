"""Statistics: figures per community-local day (conversations, resident messages by domain,
unanswered and handoff rates, first response time, satisfaction, requests opened and closed) and
the request backlog, read from the project's own records.

Resident messages are not a record of this store: Rasa keeps them in its tracker store. The
caller that can read them passes a :data:`MessageSource` (the console reads Rasa's ``events``
table, see :mod:`bot.console.tracker`); without one, or when it fails, conversations are counted
from the records here (no message counts, so no unanswered rate).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from community.db import LOCAL_TZ, aware, local_date, utcnow
from community.intents import report_domain
from community.records.handoffs import handoffs
from community.records.ratings import ratings
from community.records.requests import CLOSED, service_requests
from community.records.review_queue import unanswered

# Resident messages since a moment: (conversation id, Unix timestamp, intent name or None).
# May raise LookupError or a SQLAlchemy error when the messages cannot be read.
MessageSource = Callable[[dt.datetime], Iterable[tuple[str, float, "str | None"]]]


class Statistics:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def daily(
        self,
        days: int = 14,
        *,
        now: dt.datetime | None = None,
        messages: MessageSource | None = None,
    ) -> dict[str, Any]:
        """Per Beijing-time day over the last ``days`` days (oldest first), plus request backlog.

        Conversations and resident messages come from ``messages`` when given and readable;
        otherwise from the conversations the store saw (``source`` says which).
        """
        now = now or utcnow()
        today = local_date(now)
        dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        start = dt.datetime.combine(dates[0], dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc)
        day: dict[dt.date, dict[str, Any]] = {
            d: {
                "date": d,
                "conversations": 0,
                "messages": 0,
                "domains": Counter(),
                "unanswered": 0,
                "handoffs": 0,
                "handoff_conversations": set(),
                "response_minutes": [],
                "up": 0,
                "down": 0,
                "requests": 0,
                "closed": 0,
            }
            for d in dates
        }
        with self.engine.connect() as connection:
            for (created,) in connection.execute(
                sa.select(unanswered.c.created_at).where(
                    unanswered.c.created_at >= start
                )
            ):
                if (d := local_date(created)) in day:
                    day[d]["unanswered"] += 1
            for created, conversation, first in connection.execute(
                sa.select(
                    handoffs.c.created_at, handoffs.c.conversation_id, handoffs.c.first_response_at
                ).where(handoffs.c.created_at >= start)
            ):
                if (d := local_date(created)) in day:
                    day[d]["handoffs"] += 1
                    day[d]["handoff_conversations"].add(conversation)
                    if first is not None:
                        minutes = (aware(first) - aware(created)).total_seconds() / 60  # type: ignore[operator]
                        day[d]["response_minutes"].append(max(0.0, minutes))
            for created, rating in connection.execute(
                sa.select(ratings.c.created_at, ratings.c.rating).where(ratings.c.created_at >= start)
            ):
                if (d := local_date(created)) in day:
                    day[d]["up" if rating == "up" else "down"] += 1
            r = service_requests.c
            for created, closed in connection.execute(
                sa.select(r.created_at, r.closed_at).where(
                    sa.or_(r.created_at >= start, r.closed_at >= start)
                )
            ):
                if (d := local_date(created)) in day:
                    day[d]["requests"] += 1
                if closed is not None and (d := local_date(closed)) in day:
                    day[d]["closed"] += 1
            backlog = {
                status: int(n)
                for status, n in connection.execute(
                    sa.select(r.status, sa.func.count()).where(r.status.notin_(CLOSED)).group_by(r.status)
                )
            }
            overdue = int(
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(service_requests)
                    .where(r.status.notin_(CLOSED), r.due_at.isnot(None), r.due_at < now)
                ).scalar_one()
            )
        source = "tracker"
        try:
            if messages is None:
                raise LookupError("no tracker store")
            _message_counts(list(messages(start)), day)
        except (LookupError, sa.exc.SQLAlchemyError):
            source = "store"
            self._store_counts(start, day)
        rows = []
        for d in dates:
            v = day[d]
            rated = v["up"] + v["down"]
            rows.append(
                {
                    "date": d,
                    "conversations": v["conversations"],
                    "messages": v["messages"],
                    "domains": dict(v["domains"]),
                    "unanswered": v["unanswered"],
                    "unanswered_rate": v["unanswered"] / v["messages"] if v["messages"] else None,
                    "handoffs": v["handoffs"],
                    "handoff_conversations": len(v["handoff_conversations"]),
                    "handoff_rate": (len(v["handoff_conversations"]) / v["conversations"])
                    if v["conversations"]
                    else None,
                    "median_response_minutes": statistics.median(v["response_minutes"])
                    if v["response_minutes"]
                    else None,
                    "up": v["up"],
                    "down": v["down"],
                    "satisfaction": v["up"] / rated if rated else None,
                    "requests": v["requests"],
                    "closed": v["closed"],
                }
            )
        return {"days": rows, "backlog": backlog, "overdue": overdue, "source": source}

    def _store_counts(self, start: dt.datetime, day: dict[dt.date, dict[str, Any]]) -> None:
        """Without the resident messages: conversations the store saw (no message counts, so no
        unanswered rate)."""
        seen: dict[dt.date, set[str]] = defaultdict(set)
        with self.engine.connect() as connection:
            for table in (unanswered, handoffs, ratings, service_requests):
                for created, conversation in connection.execute(
                    sa.select(table.c.created_at, table.c.conversation_id).where(table.c.created_at >= start)
                ):
                    if (d := local_date(created)) in day:
                        seen[d].add(conversation)
        for d, conversations in seen.items():
            day[d]["conversations"] = len(conversations)


def _message_counts(
    messages: Iterable[tuple[str, float, str | None]], day: dict[dt.date, dict[str, Any]]
) -> None:
    """Messages, conversations and (conversation, domain) pairs per day."""
    seen: dict[dt.date, set[str]] = defaultdict(set)
    domain_seen: dict[dt.date, set[tuple[str, str]]] = defaultdict(set)
    for sender, timestamp, intent in messages:
        d = dt.datetime.fromtimestamp(float(timestamp), LOCAL_TZ).date()
        if d not in day:
            continue
        day[d]["messages"] += 1
        seen[d].add(sender)
        domain = report_domain(intent)
        if (sender, domain) not in domain_seen[d]:
            domain_seen[d].add((sender, domain))
            day[d]["domains"][domain] += 1
    for d, senders in seen.items():
        day[d]["conversations"] = len(senders)
