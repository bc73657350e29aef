"""The review queue: residents' questions the assistant could not answer, or answered and the
resident showed it missed (👎, a rephrase within a minute, a menu left for another question, a
person asked for right after the answer), each with its reason, kept for staff to review:
new → assigned (to an intent) | new_intent | noise.

One resident asking the same question again (or its near twin) is counted once
(:func:`insert_question`). After a retrain the reviewed questions are asked again
(:meth:`ReviewQueue.unchecked`, :meth:`ReviewQueue.rechecked`): those that still fail come back
as new, marked ``recheck = "still_failing"``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from community.db import aware, metadata, utcnow
from community.question_groups import same_question
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
    # The review loop (0008): a group staff put the question in by hand (that group's key); the
    # result of asking it again after a retrain ("answered" | "still_failing") and when.
    sa.Column("manual_group", sa.String(64), nullable=True),
    sa.Column("recheck", sa.String(16), nullable=True),
    sa.Column("rechecked_at", sa.DateTime(timezone=True), nullable=True),
)

REVIEW_STATUSES = ("new", "assigned", "new_intent", "noise")
UNANSWERED_REASON_LABELS = {
    "fallback": "没听懂",
    "out_of_scope": "不在服务范围",
    "low_confidence": "把握不大",
    "clarification_abandoned": "追问后没选",
    "menu_abandoned": "给了选项，居民改问别的",
    "rephrased": "一分钟内换了说法再问",
    "rated_down": "居民说没帮上（👎）",
    "asked_person": "回答后马上要人工",
    "no_chinese": "不是中文",
}
# Reasons where the assistant did answer, and the resident's next move showed it missed.
MISSED_AFTER_ANSWER = ("menu_abandoned", "rephrased", "rated_down", "asked_person")
RECHECK_LABELS = {"still_failing": "重新训练后还答不了", "answered": "重新训练后能答了"}
# How many of a resident's recent questions are compared for "asked again".
SAME_RESIDENT_WINDOW = dt.timedelta(hours=24)


def insert_question(connection: sa.engine.Connection, row: dict[str, Any]) -> int:
    """Insert ``row`` into the queue, unless the same resident asked the same question (or its
    near twin, :func:`~community.question_groups.same_question`) within the last day and it
    still waits for review: then that question's id, and nothing is added."""
    since = row["created_at"] - SAME_RESIDENT_WINDOW
    earlier = connection.execute(
        sa.select(unanswered.c.id, unanswered.c.text)
        .where(
            unanswered.c.conversation_id == row["conversation_id"],
            unanswered.c.status == "new",
            unanswered.c.created_at >= since,
        )
        .order_by(unanswered.c.id.desc())
        .limit(50)
    ).all()
    for question_id, text in earlier:
        if text == row["text"] or same_question(text or "", row["text"] or ""):
            return int(question_id)
    return int(connection.execute(unanswered.insert().values(**row)).inserted_primary_key[0])


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
        """Put a question in the queue; returns its id (an earlier one's, when the resident
        asked it before: counted once). ``domain``: whose matter it is, when the assistant could
        tell (养老服务…) but had no answer."""
        if channel == "console":
            return 0  # staff trying wordings in the console (试一试): not a resident's question
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
            return insert_question(connection, row)

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest questions, whatever their status."""
        query = unanswered.select().order_by(unanswered.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            row["top_intents"] = json.loads(row["top_intents"])
        return rows

    def pending(
        self,
        limit: int = 2000,
        *,
        reasons: Iterable[str] | None = None,
        exclude_reasons: Iterable[str] | None = None,
        domain: str | None = None,
        channel: str | None = None,
        search: str | None = None,
    ) -> list[dict[str, Any]]:
        """Questions waiting for review, newest first; only those with one of ``reasons`` (none
        of ``exclude_reasons``), of ``domain`` (``"none"``: no domain), from ``channel``, or
        containing ``search``."""
        query = unanswered.select().where(unanswered.c.status == "new")
        if reasons:
            query = query.where(unanswered.c.reason.in_(list(reasons)))
        if exclude_reasons:
            query = query.where(unanswered.c.reason.notin_(list(exclude_reasons)))
        if domain == "none":
            query = query.where(unanswered.c.domain.is_(None))
        elif domain:
            query = query.where(unanswered.c.domain == domain)
        if channel:
            query = query.where(unanswered.c.channel == channel)
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                sa.or_(
                    unanswered.c.text.like(f"%{escaped}%", escape="\\"),
                    unanswered.c.corrected_text.like(f"%{escaped}%", escape="\\"),
                )
            )
        query = query.order_by(unanswered.c.created_at.desc(), unanswered.c.id.desc()).limit(limit)
        return self._questions(query)

    def counts(self) -> dict[str, int]:
        """Questions waiting for review by reason."""
        query = (
            sa.select(unanswered.c.reason, sa.func.count())
            .where(unanswered.c.status == "new")
            .group_by(unanswered.c.reason)
        )
        with self.engine.connect() as connection:
            return {str(reason): int(n) for reason, n in connection.execute(query)}

    def set_group(self, ids: Iterable[int], group_key: str | None) -> int:
        """Put waiting questions in the group ``group_key`` by hand (None: let grouping decide)."""
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    unanswered.update()
                    .where(unanswered.c.id.in_(ids), unanswered.c.status == "new")
                    .values(manual_group=group_key)
                ).rowcount
                or 0
            )

    def unchecked(self, limit: int = 5000) -> list[dict[str, Any]]:
        """Reviewed questions (taught to an intent or a new FAQ) not yet asked again after a
        retrain."""
        query = (
            unanswered.select()
            .where(unanswered.c.status.in_(("assigned", "new_intent")), unanswered.c.recheck.is_(None))
            .order_by(unanswered.c.id)
            .limit(limit)
        )
        return self._questions(query)

    def rechecked(self, answered: Iterable[int], failing: Iterable[int]) -> tuple[int, int]:
        """After a retrain: ``answered`` questions are marked so; ``failing`` ones come back to
        the queue (status new), marked ``still_failing``. Returns the two counts."""
        now = utcnow()
        answered, failing = [int(i) for i in answered], [int(i) for i in failing]
        with self.engine.begin() as connection:
            done = 0
            if answered:
                done = connection.execute(
                    unanswered.update()
                    .where(unanswered.c.id.in_(answered))
                    .values(recheck="answered", rechecked_at=now)
                ).rowcount
            back = 0
            if failing:
                back = connection.execute(
                    unanswered.update()
                    .where(unanswered.c.id.in_(failing))
                    .values(recheck="still_failing", rechecked_at=now, status="new")
                ).rowcount
        return int(done or 0), int(back or 0)

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
