"""The assistant's store: unanswered questions, handoffs to staff, ratings; requests via ``.requests``.

SQLAlchemy 1.4 Core, SQLite by default and PostgreSQL when ``DATABASE_URL`` says so; the
schema is managed by Alembic migrations (``community/migrations``). Nothing here imports Rasa,
so the action server, the channels and the staff console all use it directly.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from community.request_store import RequestStore

metadata = sa.MetaData()

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
)

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
)


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
# Handoffs from one conversation within this time are one handoff (see Store.create_handoff).
HANDOFF_MERGE_WINDOW = dt.timedelta(minutes=10)
MAX_HANDOFF_TEXT = 2000


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _merged_text(before: str, new: str) -> str:
    """The handoff's words with ``new`` added, once, kept to :data:`MAX_HANDOFF_TEXT`."""
    if not new or new in before.split("\n"):
        return before
    merged = f"{before}\n{new}" if before else new
    return merged[-MAX_HANDOFF_TEXT:]


def make_engine(url: str) -> sa.engine.Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, future=True, hide_parameters=True, connect_args={"timeout": 15})
    # hide_parameters: a database error never quotes a resident's name, phone or address.
    return sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


class Store:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, migrate: bool = True) -> Store:
        store = cls(make_engine(url))
        if migrate:
            store.migrate()
        return store

    @property
    def requests(self) -> RequestStore:
        """Service requests (工单) and notifications to residents."""
        from community.request_store import RequestStore

        return RequestStore(self.engine)

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def record_unanswered(
        self,
        *,
        text: str,
        channel: str,
        conversation_id: str,
        reason: str,
        top_intents: list[IntentScore],
    ) -> int:
        row = {
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

    def list_unanswered(self, limit: int = 100) -> list[dict[str, Any]]:
        query = unanswered.select().order_by(unanswered.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            row["top_intents"] = json.loads(row["top_intents"])
        return rows

    def record_rating(
        self, *, conversation_id: str, channel: str, question: str, answer: str, rating: str
    ) -> int:
        """好差评: a resident's 👍 ("up") or 👎 ("down") on an answer. A 👎 also puts the question
        in the staff review queue (reason ``rated_down``)."""
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
                connection.execute(
                    unanswered.insert().values(
                        created_at=now, channel=channel or "unknown", conversation_id=conversation_id,
                        text=question or answer, reason="rated_down", top_intents="[]",
                    )
                )
        return int(row_id)

    def list_ratings(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        query = ratings.select().order_by(ratings.c.id)
        if conversation_id:
            query = query.where(ratings.c.conversation_id == conversation_id)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def create_handoff(
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

    def list_handoffs(self, status: str | None = "waiting") -> list[dict[str, Any]]:
        query = handoffs.select().order_by(handoffs.c.emergency.desc(), handoffs.c.created_at)
        if status:
            query = query.where(handoffs.c.status == status)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]
