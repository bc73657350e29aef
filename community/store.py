"""The assistant's store: opens the database and holds one object per kind of record.

``store.handoffs``, ``store.review_queue``, ``store.ratings``, ``store.requests``,
``store.notifications``, ``store.accounts``, ``store.audit``, ``store.statistics``,
``store.outreach`` and ``store.callers`` — each
defined, with its tables, in its module of :mod:`community.records`. The engine, the clock and
the migrations are :mod:`community.db`'s. Nothing here imports Rasa, so the action server, the
channels and the staff console all use it directly.
"""

from __future__ import annotations

import sqlalchemy as sa

from community import db
from community.records.accounts import Accounts
from community.records.api_tokens import ApiTokens
from community.records.audit import AuditLog
from community.records.callers import CallerRequests
from community.records.handoffs import Handoffs
from community.records.notifications import Notifications
from community.records.outreach import Outreach
from community.records.ratings import Ratings
from community.records.requests import Requests
from community.records.review_queue import ReviewQueue
from community.records.statistics import Statistics


class Store:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine
        self.handoffs = Handoffs(engine)
        self.review_queue = ReviewQueue(engine)
        self.ratings = Ratings(engine)
        self.requests = Requests(engine)
        self.notifications = Notifications(engine)
        self.accounts = Accounts(engine)
        self.audit = AuditLog(engine)
        self.statistics = Statistics(engine)
        self.outreach = Outreach(engine)  # 月探访
        self.callers = CallerRequests(engine)  # what a phone caller may hear of their requests
        self.api_tokens = ApiTokens(engine)  # the console's JSON API, for other systems

    @classmethod
    def from_url(cls, url: str, migrate: bool = True) -> Store:
        store = cls(db.make_engine(url))
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``)."""
        db.migrate(self.engine)
