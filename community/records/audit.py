"""The audit log: what staff did in the console (logins, take-overs, replies, status changes,
account changes), newest first.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from community.db import metadata, utcnow

audit_log = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)


class AuditLog:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def record(self, actor: str, action: str, target: str | None = None, detail: Any = None) -> None:
        if detail is not None and not isinstance(detail, str):
            detail = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        with self.engine.begin() as connection:
            connection.execute(
                audit_log.insert().values(
                    at=utcnow(),
                    actor=actor,
                    action=action,
                    target=(target or None) and str(target)[:128],
                    detail=detail,
                )
            )

    def list(self, limit: int = 200, actor: str | None = None) -> list[dict[str, Any]]:
        query = audit_log.select().order_by(audit_log.c.id.desc()).limit(limit)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]
