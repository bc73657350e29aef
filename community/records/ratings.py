"""Ratings (好差评): a resident's 👍 ("up") or 👎 ("down") on one of the assistant's answers,
on any channel (a button, a key at the kiosk or on the phone, "没听懂"). A 👎 also puts the
question in the review queue (reason ``rated_down``), once per resident and question.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from community.db import metadata, utcnow
from community.records.review_queue import insert_question

ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("rating", sa.String(8), nullable=False),
)
RATINGS = ("up", "down")


class Ratings:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def record(
        self,
        *,
        conversation_id: str,
        channel: str,
        question: str,
        answer: str,
        rating: str,
        top_intents: list[dict] | None = None,
    ) -> int:
        """Keep a rating (and queue a 👎's question for review, in the same transaction).
        ``top_intents``: what the assistant understood the question as, when the channel knows."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, got {rating!r}")
        now = utcnow()
        with self.engine.begin() as connection:
            row_id = connection.execute(
                ratings.insert().values(
                    created_at=now, channel=channel or "unknown", conversation_id=conversation_id,
                    question=question, answer=answer, rating=rating,
                )
            ).inserted_primary_key[0]
            if rating == "down":
                insert_question(
                    connection,
                    {
                        "created_at": now, "channel": channel or "unknown",
                        "conversation_id": conversation_id, "text": question or answer,
                        "reason": "rated_down",
                        "top_intents": json.dumps(top_intents or [], ensure_ascii=False),
                    },
                )
        return int(row_id)

    def list(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        query = ratings.select().order_by(ratings.c.id)
        if conversation_id:
            query = query.where(ratings.c.conversation_id == conversation_id)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]
