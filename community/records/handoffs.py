"""Handoffs: conversations a resident asked (or the assistant decided) to hand to staff.

A handoff is created waiting, taken by one member of staff (with every other waiting handoff of
that conversation), and released back to the assistant: waiting → taken → released. Handoffs
from one conversation within :data:`HANDOFF_MERGE_WINDOW` are one handoff.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from community.db import aware, metadata, utcnow
from community.records import ConsoleError

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="waiting"),
    # Staff take-over (0004): waiting → taken → released.
    sa.Column("taken_by", sa.String(64), nullable=True),
    sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("released_by", sa.String(64), nullable=True),
    # Closed by staff without taking it (a stale item on a busy day), and why (0008).
    sa.Column("close_note", sa.Text, nullable=True),
)
INBOX_STATUSES = ("waiting", "taken", "released")

# Handoffs from one conversation within this time are one handoff (see Handoffs.create).
HANDOFF_MERGE_WINDOW = dt.timedelta(minutes=10)
MAX_HANDOFF_TEXT = 2000
HANDOFF_REASON_LABELS = {
    "asked": "居民要求人工",
    "failed_twice": "助手连续两次没答上",
    "emergency": "紧急情况",
    "callback": "电话留言，请回电",
    "outreach": "月探访需跟进",
}


def _merged_text(before: str, new: str) -> str:
    """The handoff's words with ``new`` added, once, kept to :data:`MAX_HANDOFF_TEXT`."""
    if not new or new in before.split("\n"):
        return before
    merged = f"{before}\n{new}" if before else new
    return merged[-MAX_HANDOFF_TEXT:]


class Handoffs:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    # -- residents ----------------------------------------------------------------------------
    def create(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: str,
        text: str,
        emergency: bool = False,
        created_at: dt.datetime | None = None,
    ) -> int:
        """Put a conversation in the staff inbox; returns the handoff's id.

        A resident who asks again (or reports the same emergency five times) while their handoff
        of the last :data:`HANDOFF_MERGE_WINDOW` is still open gets that one handoff, not a new
        one: the new words are added to it, and an emergency makes it an emergency.
        """
        now = created_at or utcnow()
        with self.engine.begin() as connection:
            open_row = connection.execute(
                handoffs.select()
                .where(
                    handoffs.c.conversation_id == conversation_id,
                    handoffs.c.status.in_(("waiting", "taken")),
                    handoffs.c.created_at >= now - HANDOFF_MERGE_WINDOW,
                )
                .order_by(handoffs.c.id.desc())
                .limit(1)
            ).first()
            if open_row is not None:
                merged = _merged_text(open_row.text, text)
                changes: dict[str, Any] = {"text": merged}
                if emergency and not open_row.emergency:
                    changes.update(emergency=True, reason=reason)
                connection.execute(handoffs.update().where(handoffs.c.id == open_row.id).values(**changes))
                return int(open_row.id)
            row = {
                "created_at": now,
                "channel": channel or "unknown",
                "conversation_id": conversation_id,
                "reason": reason,
                "emergency": emergency,
                "text": text,
            }
            return int(connection.execute(handoffs.insert().values(**row)).inserted_primary_key[0])

    def held(self, conversation_id: str) -> dict[str, Any] | None:
        """The handoff under which staff hold this conversation, if any."""
        rows = self._handoffs(
            handoffs.select()
            .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status == "taken")
            .order_by(handoffs.c.id.desc())
            .limit(1)
        )
        return rows[0] if rows else None

    def waiting(self, conversation_id: str) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(handoffs)
                    .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status == "waiting")
                ).scalar_one()
                > 0
            )

    # -- reading ------------------------------------------------------------------------------
    def list(self, status: str | None = "waiting") -> list[dict[str, Any]]:
        query = handoffs.select().order_by(handoffs.c.emergency.desc(), handoffs.c.created_at)
        if status:
            query = query.where(handoffs.c.status == status)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def inbox(self, include_taken: bool = True) -> list[dict[str, Any]]:
        """Handoffs not yet released: emergencies first, then the longest waiting."""
        statuses = ["waiting", "taken"] if include_taken else ["waiting"]
        query = (
            handoffs.select()
            .where(handoffs.c.status.in_(statuses))
            .order_by(handoffs.c.emergency.desc(), handoffs.c.created_at, handoffs.c.id)
        )
        return self._handoffs(query)

    def search(
        self,
        *,
        statuses: tuple[str, ...] = ("waiting", "taken"),
        channel: str | None = None,
        taken_by: str | None = None,
        emergency: bool | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """The inbox for a busy day: emergencies first, then the newest first; only
        ``statuses``, from ``channel``, taken by ``taken_by``, (not) emergencies."""
        query = handoffs.select().where(handoffs.c.status.in_(list(statuses)))
        if channel:
            query = query.where(handoffs.c.channel == channel)
        if taken_by:
            query = query.where(handoffs.c.taken_by == taken_by)
        if emergency is not None:
            query = query.where(handoffs.c.emergency == emergency)
        query = query.order_by(
            handoffs.c.emergency.desc(), handoffs.c.created_at.desc(), handoffs.c.id.desc()
        )
        return self._handoffs(query.limit(limit))

    def waiting_count(self) -> int:
        """Residents waiting for staff (the number in every console page's header)."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count(sa.distinct(handoffs.c.conversation_id))).where(
                        handoffs.c.status == "waiting"
                    )
                ).scalar_one()
            )

    def close(self, ids: list[int], staff: str, note: str, now: dt.datetime | None = None) -> int:
        """Close waiting handoffs without taking them (stale ones on a busy day), with a note
        saying why; how many were closed (ones taken meanwhile are left alone)."""
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    handoffs.update()
                    .where(handoffs.c.id.in_(ids), handoffs.c.status == "waiting")
                    .values(
                        status="released", released_at=now or utcnow(), released_by=staff, close_note=note
                    )
                ).rowcount
                or 0
            )

    def get(self, handoff_id: int) -> dict[str, Any] | None:
        rows = self._handoffs(handoffs.select().where(handoffs.c.id == handoff_id))
        return rows[0] if rows else None

    def _handoffs(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            for key in ("created_at", "taken_at", "first_response_at", "released_at"):
                row[key] = aware(row[key])
        return rows

    # -- staff --------------------------------------------------------------------------------
    def take(self, handoff_id: int, staff: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """``staff`` takes the conversation; a conversation has one holder at a time. Other
        waiting handoffs of the same conversation go with it."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            row = connection.execute(
                handoffs.select().where(handoffs.c.id == handoff_id).with_for_update()
            ).first()
            if row is None:
                raise ConsoleError("not-found", "没有这条转人工记录")
            found = dict(row._mapping)
            if found["status"] == "taken" and found["taken_by"] != staff:
                raise ConsoleError("taken", f"这位居民已由 {found['taken_by']} 接待")
            if found["status"] == "released":
                raise ConsoleError("released", "这次对话已经结束，已交回智能助手")
            if found["status"] == "waiting":
                connection.execute(
                    handoffs.update()
                    .where(
                        handoffs.c.conversation_id == found["conversation_id"], handoffs.c.status == "waiting"
                    )
                    .values(status="taken", taken_by=staff, taken_at=now)
                )
        return self.get(handoff_id)  # type: ignore[return-value]

    def responded(self, handoff_id: int, now: dt.datetime | None = None) -> None:
        """Staff replied: remember the first response time (for the statistics)."""
        with self.engine.begin() as connection:
            connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.first_response_at.is_(None))
                .values(first_response_at=now or utcnow())
            )

    def release(self, handoff_id: int, staff: str, now: dt.datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        row = self.get(handoff_id)
        if row is None:
            raise ConsoleError("not-found", "没有这条转人工记录")
        if row["status"] != "taken":
            raise ConsoleError("not-taken", "这次对话没有在人工接待中")
        with self.engine.begin() as connection:
            connection.execute(
                handoffs.update()
                .where(handoffs.c.conversation_id == row["conversation_id"], handoffs.c.status == "taken")
                .values(status="released", released_at=now, released_by=staff)
            )
        return self.get(handoff_id)  # type: ignore[return-value]
