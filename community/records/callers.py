"""What a caller on the phone line may hear of their service requests.

A call's caller id links it to that number's requests: those made from the phone line under
this number (conversation ``phone-<number>``) and those whose form gave this number. The
list says only what each request is and how far it has got; the personal details on a form
(name, address) are for :func:`details_allowed`, after the caller has confirmed the last four
digits of the number given on that form.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from community.records.requests import STATUS_LABELS, service_requests


def _digits(number: str) -> str:
    return "".join(c for c in number or "" if c.isdigit())


class CallerRequests:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def for_caller(self, number: str, conversation_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """The caller's requests, newest first (none for an anonymous caller)."""
        number = _digits(number)
        if len(number) < 5:
            return []
        t = service_requests.c
        query = (
            sa.select(t.ref, t.title, t.status, t.phone, t.contact_name, t.address, t.created_at)
            .where(t.anonymised.is_(False))
            .where(sa.or_(t.conversation_id == conversation_id, t.phone == number))
            .order_by(t.created_at.desc(), t.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
        return rows


def details_allowed(row: dict[str, Any], last_four: str) -> bool:
    """Whether ``last_four`` are the last four digits of the number on the request's form."""
    phone = _digits(row.get("phone") or "")
    return len(phone) >= 4 and len(last_four) == 4 and phone[-4:] == last_four
