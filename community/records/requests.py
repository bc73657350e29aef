"""Service requests (工单) and their history.

A confirmed request is committed in one transaction together with its reference number
``SQ-YYYYMMDD-NNNN`` (sequential per community-local day, allocated by a row lock on the
day's counter, so two residents confirming at once never share a number). Staff move a request
through submitted → accepted → in_progress → done (or rejected, with a note); every change is
kept in its history and queued as a notification to the resident's channel (in the same
transaction, see :mod:`community.records.notifications`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from community.db import LOCAL_TZ, metadata, utcnow
from community.privacy import mask_address, mask_id_number, mask_name, mask_phone, mask_text
from community.records.notifications import queue

STATUSES = ("submitted", "accepted", "in_progress", "done", "rejected")
STATUS_LABELS = {
    "submitted": "已提交",
    "accepted": "已受理",
    "in_progress": "办理中",
    "done": "已办结",
    "rejected": "未通过",
}
CLOSED = frozenset({"done", "rejected"})
TRANSITIONS = {
    "submitted": {"accepted", "in_progress", "done", "rejected"},
    "accepted": {"in_progress", "done", "rejected"},
    "in_progress": {"done", "rejected"},
    "done": set(),
    "rejected": set(),
}

service_requests = sa.Table(
    "service_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ref", sa.String(20), nullable=False, unique=True),
    sa.Column("client_key", sa.String(64), nullable=True, unique=True),
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("title", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
    sa.Column("contact_name", sa.String(64), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("id_number", sa.String(18), nullable=True),
    sa.Column("address", sa.String(128), nullable=True),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("staff_note", sa.Text, nullable=True),
    sa.Column("anonymised", sa.Boolean, nullable=False, server_default=sa.false()),
)

request_events = sa.Table(
    "request_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "request_id",
        sa.Integer,
        sa.ForeignKey("service_requests.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
)

request_sequences = sa.Table(
    "request_sequences",
    metadata,
    sa.Column("day", sa.String(8), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

class RequestError(ValueError):
    """A request that cannot be stored or changed as asked; ``code`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NewRequest:
    """What a resident confirmed. ``fields`` holds every answer of the form (for staff)."""

    kind: str
    title: str
    channel: str
    conversation_id: str
    fields: dict[str, Any]
    summary: str
    contact_name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    client_key: str | None = None
    due_days: int | None = None

    def __post_init__(self) -> None:
        if not self.kind or not self.title:
            raise ValueError("a request needs a kind and a title")
        if not self.conversation_id:
            raise ValueError("a request needs the resident's conversation id")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NewRequest:
        return cls(**data)


def local_day(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y%m%d")


# A reference number as written: SQ-20261202-0002 (``format_ref``).
REFERENCE_PATTERN = r"SQ-\d{8}-\d{4}"


def format_ref(day: str, number: int) -> str:
    return f"SQ-{day}-{number:04d}"


def masked(row: dict[str, Any]) -> dict[str, Any]:
    """A request as lists and logs show it: name, phone, 身份证号 and address masked."""
    out = dict(row)
    out["contact_name"] = mask_name(row.get("contact_name") or "")
    out["phone"] = mask_phone(row.get("phone") or "") if row.get("phone") else ""
    out["id_number"] = mask_id_number(row.get("id_number") or "") if row.get("id_number") else ""
    out["address"] = mask_address(row.get("address") or "")
    out["summary"] = mask_text(row.get("summary") or "")
    return out


def status_message(row: dict[str, Any], status: str, note: str | None) -> str:
    ref, title = row["ref"], row["title"]
    if row["kind"] == "report" and status == "accepted":
        text = f"接诉即办：您反映的问题（{ref}）已由社区工作人员受理，我们会尽快处理并告诉您结果。"
    else:
        text = f"您的{title}（{ref}）{STATUS_LABELS[status]}。"
    if note:
        text += f"\n工作人员说明：{note}"
    return text


class Requests:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    # -- creating -----------------------------------------------------------------------------
    def create(self, new: NewRequest, *, now: dt.datetime | None = None) -> dict[str, Any]:
        """Store a confirmed request and return it with its reference number.

        With a ``client_key`` (the outbox's id) the call is idempotent: a request already stored
        under that key is returned as it is.
        """
        now = now or utcnow()
        try:
            return self._create(new, now)
        except sa.exc.IntegrityError:
            # The same form confirmed twice at once: the other confirmation stored it first.
            existing = self._by_client_key(new.client_key) if new.client_key else None
            if existing is None:
                raise
            return existing

    def _by_client_key(self, client_key: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            existing = connection.execute(
                service_requests.select().where(service_requests.c.client_key == client_key)
            ).first()
        return dict(existing._mapping) if existing else None

    def _create(self, new: NewRequest, now: dt.datetime) -> dict[str, Any]:
        with self.engine.begin() as connection:
            if new.client_key:
                existing = connection.execute(
                    service_requests.select().where(service_requests.c.client_key == new.client_key)
                ).first()
                if existing:
                    return dict(existing._mapping)
            day = local_day(now)
            number = self._next_number(connection, day)
            row = {
                "ref": format_ref(day, number),
                "client_key": new.client_key,
                "kind": new.kind,
                "title": new.title,
                "status": "submitted",
                "created_at": now,
                "updated_at": now,
                "due_at": now + dt.timedelta(days=new.due_days) if new.due_days else None,
                "channel": new.channel or "unknown",
                "conversation_id": new.conversation_id,
                "contact_name": new.contact_name,
                "phone": new.phone,
                "id_number": new.id_number,
                "address": new.address,
                "fields": json.dumps(new.fields, ensure_ascii=False, sort_keys=True),
                "summary": new.summary,
            }
            request_id = connection.execute(service_requests.insert().values(**row)).inserted_primary_key[0]
            connection.execute(
                request_events.insert().values(
                    request_id=request_id, at=now, status="submitted", note=None, actor="resident"
                )
            )
        row["id"] = int(request_id)
        row["staff_note"] = None
        row["closed_at"] = None
        row["anonymised"] = False
        return row

    def _next_number(self, connection: sa.engine.Connection, day: str) -> int:
        dialect = connection.dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
        if insert is None:
            raise RequestError("unsupported-database", f"unsupported database dialect {dialect}")
        connection.execute(insert(request_sequences).values(day=day, last=0).on_conflict_do_nothing())
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite): a concurrent
        # confirmation waits here and then sees the incremented value.
        connection.execute(
            request_sequences.update()
            .where(request_sequences.c.day == day)
            .values(last=request_sequences.c.last + 1)
        )
        return int(
            connection.execute(
                sa.select(request_sequences.c.last).where(request_sequences.c.day == day)
            ).scalar_one()
        )

    # -- reading ------------------------------------------------------------------------------
    def get(self, ref: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                service_requests.select().where(service_requests.c.ref == ref.strip().upper())
            ).first()
        return _decode(row)

    def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        overdue: bool = False,
        conversation_id: str | None = None,
        limit: int = 500,
        now: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Requests, newest first, filtered as staff (or a resident's own channel) ask."""
        t = service_requests.c
        query = service_requests.select().order_by(t.created_at.desc(), t.id.desc()).limit(limit)
        if status:
            query = query.where(t.status == status)
        if kind:
            query = query.where(t.kind == kind)
        if since:
            query = query.where(t.created_at >= since)
        if until:
            query = query.where(t.created_at < until)
        if overdue:
            query = query.where(t.due_at.isnot(None), t.due_at < (now or utcnow()), t.status.notin_(CLOSED))
        if conversation_id:
            query = query.where(t.conversation_id == conversation_id)
        with self.engine.connect() as connection:
            return [_decode(r) for r in connection.execute(query)]

    def history(self, ref: str) -> list[dict[str, Any]]:
        query = (
            sa.select(request_events)
            .join(service_requests, service_requests.c.id == request_events.c.request_id)
            .where(service_requests.c.ref == ref)
            .order_by(request_events.c.id)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def counts_by_status(self) -> dict[str, int]:
        t = service_requests.c
        query = sa.select(t.status, sa.func.count()).group_by(t.status)
        with self.engine.connect() as connection:
            found = {status: int(n) for status, n in connection.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}

    def kinds(self) -> list[tuple[str, str]]:
        """The kinds of request stored so far, each with a title, by kind."""
        t = service_requests.c
        with self.engine.connect() as connection:
            return [
                (k, title)
                for k, title in connection.execute(
                    sa.select(t.kind, sa.func.min(t.title)).group_by(t.kind).order_by(t.kind)
                )
            ]

    # -- changing -----------------------------------------------------------------------------
    def set_status(
        self, ref: str, status: str, *, actor: str, note: str | None = None, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Move a request on (staff), record it, and queue a notification to the resident."""
        if status not in STATUSES:
            raise RequestError("bad-status", f"unknown status {status!r}; use one of {STATUSES}")
        note = (note or "").strip() or None
        if status == "rejected" and not note:
            raise RequestError("note-required", "a rejection needs a note for the resident (退回需填写说明)")
        now = now or utcnow()
        with self.engine.begin() as connection:
            row = connection.execute(
                service_requests.select().where(service_requests.c.ref == ref).with_for_update()
            ).first()
            if row is None:
                raise RequestError("not-found", f"no request {ref}")
            current = row._mapping["status"]
            if status not in TRANSITIONS[current]:
                raise RequestError("bad-transition", f"{ref} is {current}; it cannot become {status}")
            values: dict[str, Any] = {"status": status, "updated_at": now}
            if note:
                values["staff_note"] = note
            if status in CLOSED:
                values["closed_at"] = now
            connection.execute(
                service_requests.update().where(service_requests.c.id == row._mapping["id"]).values(**values)
            )
            connection.execute(
                request_events.insert().values(
                    request_id=row._mapping["id"], at=now, status=status, note=note, actor=actor
                )
            )
            record = dict(row._mapping)
            kind = "ack" if record["kind"] == "report" and status == "accepted" else "status"
            queue(
                connection,
                record["channel"],
                record["conversation_id"],
                kind,
                status_message(record, status, note),
                ref=ref,
                now=now,
            )
            record.update(values)
        return _decode_mapping(record)

    def purge_closed(
        self, *, older_than_days: int = 365, delete: bool = False, now: dt.datetime | None = None
    ) -> int:
        """Retention: anonymise (or delete) requests closed more than ``older_than_days`` ago."""
        if older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
        t = service_requests.c
        where = sa.and_(t.status.in_(CLOSED), t.closed_at.isnot(None), t.closed_at < cutoff)
        with self.engine.begin() as connection:
            if delete:
                ids = [r[0] for r in connection.execute(sa.select(t.id).where(where))]
                if ids:
                    connection.execute(request_events.delete().where(request_events.c.request_id.in_(ids)))
                    connection.execute(service_requests.delete().where(t.id.in_(ids)))
                return len(ids)
            result = connection.execute(
                service_requests.update()
                .where(where, t.anonymised.is_(False))
                .values(
                    contact_name=None,
                    phone=None,
                    id_number=None,
                    address=None,
                    fields="{}",
                    summary="（已按保存期限匿名化）",
                    anonymised=True,
                )
            )
            return int(result.rowcount or 0)


def _decode(row: Any) -> dict[str, Any] | None:
    return None if row is None else _decode_mapping(dict(row._mapping))


def _decode_mapping(record: dict[str, Any]) -> dict[str, Any]:
    if isinstance(record.get("fields"), str):
        record["fields"] = json.loads(record["fields"])
    return record
