"""The community store's records, one module per kind of record.

* :mod:`~community.records.handoffs` — conversations handed to staff (the inbox, take, release)
* :mod:`~community.records.review_queue` — questions the assistant could not answer, for review
* :mod:`~community.records.ratings` — residents' 👍/👎 on answers
* :mod:`~community.records.requests` — service requests (工单) and their history
* :mod:`~community.records.notifications` — messages queued for residents' channels
* :mod:`~community.records.accounts` — staff accounts, login limits and sessions
* :mod:`~community.records.audit` — what staff did
* :mod:`~community.records.statistics` — daily figures, read from the records above
* :mod:`~community.records.outreach` — 月探访: enrolled residents, monthly check-ins, attempts
* :mod:`~community.records.callers` — a phone caller's requests, by caller id

Each module defines its tables on :data:`community.db.metadata` and one class over an engine;
:class:`community.store.Store` opens the engine and holds one of each.
"""

from __future__ import annotations


class ConsoleError(ValueError):
    """Something staff asked that cannot be done; ``code`` says why, the message is Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
