"""API tokens an admin issues to other systems (a city's 12345 platform) for the staff
console's JSON API (``/staff/api/``): a name, a role, who issued it; only a hash is kept, the
token is shown once; revoked tokens stop working at once."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa

from community.db import aware, metadata, utcnow
from community.records import ConsoleError
from community.records.accounts import ROLES

api_tokens = sa.Table(
    "console_api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
PREFIX = "sqa_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "token_hash"}
    for key in ("created_at", "last_used_at", "revoked_at"):
        out[key] = aware(out[key])
    return out


class ApiTokens:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def issue(self, name: str, role: str, created_by: str) -> tuple[str, dict[str, Any]]:
        """A new token (shown once) and its record."""
        name = " ".join(str(name or "").split())[:64]
        if not name:
            raise ConsoleError("no-name", "请给令牌起个名字（如：12345平台）。")
        if role not in ROLES:
            raise ConsoleError("bad-role", "角色只能是工作人员或管理员。")
        token = PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": name,
            "token_hash": _hash(token),
            "role": role,
            "created_by": created_by,
            "created_at": utcnow(),
        }
        with self.engine.begin() as connection:
            row_id = connection.execute(api_tokens.insert().values(**row)).inserted_primary_key[0]
        return token, self.get(int(row_id))  # type: ignore[return-value]

    def get(self, token_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(api_tokens.select().where(api_tokens.c.id == token_id)).first()
        return _public(dict(row._mapping)) if row else None

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [
                _public(dict(r._mapping))
                for r in connection.execute(api_tokens.select().order_by(api_tokens.c.id))
            ]

    def verify(self, token: str) -> dict[str, Any] | None:
        """The token's record if it is valid (and not revoked); marks it used."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        digest = _hash(token)
        with self.engine.begin() as connection:
            row = connection.execute(
                api_tokens.select().where(
                    api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                return None
            connection.execute(
                api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=utcnow())
            )
        return _public(dict(row._mapping))

    def revoke(self, token_id: int) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    api_tokens.update()
                    .where(api_tokens.c.id == int(token_id), api_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                ).rowcount
            )
