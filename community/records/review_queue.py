"""The review queue: residents' questions the assistant could not answer (or answered and got a
👎), kept for staff to review: new → assigned (to an intent) | new_intent | noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from community.db import aware, metadata, utcnow
from community.records import ConsoleError

unanswered = sa.Table(
    "unanswered_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("top_intents", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    # Staff review (0004): new → assigned | new_intent | noise.
    sa.Column("reviewed_by", sa.String(64), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("assigned_intent", sa.String(64), nullable=True),
    sa.Column("corrected_text", sa.Text, nullable=True),
    sa.Column("group_key", sa.String(64), nullable=True),
    # The domain the question was about, when that was clear (0007); None otherwise.
    sa.Column("domain", sa.String(32), nullable=True),
)

REVIEW_STATUSES = ("new", "assigned", "new_intent", "noise")
UNANSWERED_REASON_LABELS = {
    "fallback": "没听懂",
    "low_confidence": "把握不大",
    "clarification_abandoned": "追问后放弃",
    "rated_down": "居民点了👎",
}


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence}")


class ReviewQueue:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def record(
        self,
        *,
        text: str,
        channel: str,
        conversation_id: str,
        reason: str,
        top_intents: list[IntentScore],
        domain: str | None = None,
    ) -> int:
        """Put a question in the queue; returns its id. ``domain``: whose matter it is, when
        the assistant could tell (养老服务…) but had no answer."""
        row = {
            "domain": domain,
            "created_at": utcnow(),
            "channel": channel or "unknown",
            "conversation_id": conversation_id,
            "text": text,
            "reason": reason,
            "top_intents": json.dumps(
                [{"name": i.name, "confidence": round(i.confidence, 4)} for i in top_intents],
                ensure_ascii=False,
            ),
        }
        with self.engine.begin() as connection:
            return int(connection.execute(unanswered.insert().values(**row)).inserted_primary_key[0])

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest questions, whatever their status."""
        query = unanswered.select().order_by(unanswered.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            row["top_intents"] = json.loads(row["top_intents"])
        return rows

    def pending(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Questions waiting for review, newest first."""
        query = (
            unanswered.select()
            .where(unanswered.c.status == "new")
            .order_by(unanswered.c.created_at.desc(), unanswered.c.id.desc())
            .limit(limit)
        )
        return self._questions(query)

    def questions(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = [int(i) for i in ids]
        if not ids:
            return []
        return self._questions(unanswered.select().where(unanswered.c.id.in_(ids)).order_by(unanswered.c.id))

    def _questions(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            try:
                row["top_intents"] = json.loads(row["top_intents"] or "[]")
            except ValueError:
                row["top_intents"] = []
            row["created_at"] = aware(row["created_at"])
        return rows

    def review(
        self,
        ids: Iterable[int],
        status: str,
        *,
        reviewer: str,
        intent: str | None = None,
        corrected_text: str | None = None,
        group_key: str | None = None,
    ) -> int:
        """Close questions still waiting for review; how many were closed (others were already
        reviewed by someone else)."""
        if status not in REVIEW_STATUSES[1:]:
            raise ConsoleError("bad-status", f"unknown review status {status!r}")
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    unanswered.update()
                    .where(unanswered.c.id.in_(ids), unanswered.c.status == "new")
                    .values(
                        status=status,
                        reviewed_by=reviewer,
                        reviewed_at=utcnow(),
                        assigned_intent=intent,
                        corrected_text=corrected_text,
                        group_key=group_key,
                    )
                ).rowcount
                or 0
            )
