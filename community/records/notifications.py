"""Notifications: messages queued for a resident's channel (request status changes, staff
replies, acknowledgements, notices) until that channel has delivered them.

A channel's sender takes the rows that are due, claims each before sending it (one more attempt,
counted durably), marks it delivered as soon as the channel accepted it, or releases it to be
tried again later (or given up); rows a stopped sender left claimed are recovered at start-up and
re-sent once, marked as such. Order holds per conversation.

A claim is one conditional ``UPDATE`` (``claimed_at IS NULL``): of several senders, exactly one
gets a row. The web chat, whose pages acknowledge what they showed, claims with
:meth:`Notifications.claim_push` (a push not acknowledged within a while may be taken again).
On PostgreSQL, queueing a row also sends ``NOTIFY community_notifications`` in its transaction,
so every web process wakes at once (``bot.webchat.wakeup``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import sqlalchemy as sa

from community.db import metadata, utcnow

# PostgreSQL LISTEN/NOTIFY channel: "a notification was queued" (the payload is its channel).
WAKE_CHANNEL = "community_notifications"

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("ref", sa.String(20), nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True, index=True),
    # Claims (migration 0005): a sender claims a row before sending it and marks it delivered
    # as soon as the channel accepted it; a row left claimed by a run that stopped is re-sent
    # once, marked as such (``resend``); a row that keeps failing is given up.
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
    sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.String(64), nullable=True),
    sa.Column("resend", sa.Boolean, nullable=False, server_default=sa.false()),
)
# "answer": an assistant's answer the channel could not deliver at the time (kept, not dropped).
NOTIFICATION_KINDS = ("status", "staff_reply", "ack", "release", "outbox", "answer")


class Notifications:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    def notify(
        self,
        channel: str,
        conversation_id: str,
        text: str,
        *,
        kind: str = "staff_reply",
        ref: str | None = None,
    ) -> int:
        with self.engine.begin() as connection:
            return queue(connection, channel, conversation_id, kind, text, ref=ref)

    def pending(
        self, channel: str, conversation_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        t = notifications.c
        query = (
            notifications.select()
            .where(t.channel == channel, t.delivered_at.is_(None), t.gave_up_at.is_(None))
            .order_by(t.id)
            .limit(limit)
        )
        if conversation_id:
            query = query.where(t.conversation_id == conversation_id)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def due(
        self, channel: str, *, limit: int = 100, now: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Rows of ``channel`` a sender may claim now, oldest first: not delivered, not given
        up, not claimed, not waiting for a retry (``not_before``), and not queued behind an
        earlier row of their conversation that is waiting or claimed (order holds per chat)."""
        now = now or utcnow()
        t = notifications.c
        earlier = notifications.alias("earlier")
        e = earlier.c
        blocked = (
            sa.select(e.id)
            .where(
                e.channel == t.channel,
                e.conversation_id == t.conversation_id,
                e.id < t.id,
                e.delivered_at.is_(None),
                e.gave_up_at.is_(None),
                sa.or_(e.claimed_at.isnot(None), e.not_before > now),
            )
            .exists()
        )
        query = (
            notifications.select()
            .where(
                t.channel == channel,
                t.delivered_at.is_(None),
                t.gave_up_at.is_(None),
                t.claimed_at.is_(None),
                sa.or_(t.not_before.is_(None), t.not_before <= now),
                ~blocked,
            )
            .order_by(t.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def claim(
        self, notification_id: int, *, now: dt.datetime | None = None
    ) -> dict[str, Any] | None:
        """Claim a row before sending it: one more attempt, counted durably. The claimed row,
        or None when it is not free (delivered, given up, or claimed by someone else)."""
        t = notifications.c
        with self.engine.begin() as connection:
            claimed = connection.execute(
                notifications.update()
                .where(
                    t.id == notification_id,
                    t.delivered_at.is_(None),
                    t.gave_up_at.is_(None),
                    t.claimed_at.is_(None),
                )
                .values(claimed_at=now or utcnow(), attempts=t.attempts + 1)
            ).rowcount
            if claimed != 1:
                return None
            row = connection.execute(notifications.select().where(t.id == notification_id)).first()
        return dict(row._mapping) if row else None

    def claim_push(
        self, notification_id: int, *, stale_after: float, now: dt.datetime | None = None
    ) -> bool:
        """Web chat: take a row to push to an open page, unless another web process pushed it
        less than ``stale_after`` seconds ago (that page has not acknowledged it yet). Of several
        processes, exactly one gets it. True if this caller took it."""
        now = now or utcnow()
        t = notifications.c
        with self.engine.begin() as connection:
            taken = connection.execute(
                notifications.update()
                .where(
                    t.id == notification_id,
                    t.delivered_at.is_(None),
                    t.gave_up_at.is_(None),
                    sa.or_(t.claimed_at.is_(None), t.claimed_at <= now - dt.timedelta(seconds=stale_after)),
                )
                .values(claimed_at=now, attempts=t.attempts + 1)
            ).rowcount
        return taken == 1

    def unclaim_push(self, notification_id: int) -> None:
        """The push never reached a page: free the row for the next one at once."""
        t = notifications.c
        with self.engine.begin() as connection:
            connection.execute(
                notifications.update()
                .where(t.id == notification_id, t.delivered_at.is_(None))
                .values(claimed_at=None)
            )

    def release(
        self,
        notification_id: int,
        *,
        error: str,
        retry_at: dt.datetime | None = None,
        max_attempts: int | None = None,
        counted: bool = True,
        now: dt.datetime | None = None,
    ) -> bool:
        """Sending a claimed row failed (the channel did not accept it): free it to be tried
        again from ``retry_at`` (the conversation's later rows wait as long, so their order
        holds), or give it up when it has been tried ``max_attempts`` times. ``counted=False``
        takes the claim's attempt back (the channel itself was down, not the row refused).
        True if given up."""
        now = now or utcnow()
        t = notifications.c
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(t.attempts, t.channel, t.conversation_id).where(t.id == notification_id)
            ).first()
            if row is None:
                return False
            give_up = counted and max_attempts is not None and row.attempts >= max_attempts
            values: dict[str, Any] = {"claimed_at": None, "last_error": error[:64], "not_before": retry_at}
            if not counted:
                values["attempts"] = t.attempts - 1  # the claim added one
            if give_up:
                values["gave_up_at"] = now
            connection.execute(notifications.update().where(t.id == notification_id).values(**values))
            if retry_at is not None and not give_up:
                connection.execute(
                    notifications.update()
                    .where(
                        t.channel == row.channel,
                        t.conversation_id == row.conversation_id,
                        t.id > notification_id,
                        t.delivered_at.is_(None),
                        t.gave_up_at.is_(None),
                        sa.or_(t.not_before.is_(None), t.not_before < retry_at),
                    )
                    .values(not_before=retry_at)
                )
        return give_up

    def recover_claims(self, channel: str) -> int:
        """Rows an earlier run of ``channel``'s sender claimed and never confirmed (it stopped
        between claiming and marking delivered, so the resident may or may not have them):
        freed, and flagged to go out once more marked as re-sent. Call once at start-up; a
        channel has one sender at a time. How many rows were recovered."""
        t = notifications.c
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    notifications.update()
                    .where(
                        t.channel == channel,
                        t.claimed_at.isnot(None),
                        t.delivered_at.is_(None),
                        t.gave_up_at.is_(None),
                    )
                    .values(claimed_at=None, resend=True)
                ).rowcount
                or 0
            )

    def mark_delivered(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                notifications.update()
                .where(notifications.c.id.in_(ids), notifications.c.delivered_at.is_(None))
                .values(delivered_at=utcnow())
            )


def queue(
    connection: sa.engine.Connection,
    channel: str,
    conversation_id: str,
    kind: str,
    text: str,
    *,
    ref: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Queue a notification inside ``connection``'s transaction (with the change it tells of)."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"notification kind must be one of {NOTIFICATION_KINDS}")
    if connection.dialect.name == "postgresql":  # delivered with the commit, to every listener
        connection.execute(
            sa.text("SELECT pg_notify(:wake, :channel)"), {"wake": WAKE_CHANNEL, "channel": channel}
        )
    return int(
        connection.execute(
            notifications.insert().values(
                created_at=now or utcnow(),
                channel=channel or "unknown",
                conversation_id=conversation_id,
                kind=kind,
                text=text,
                ref=ref,
            )
        ).inserted_primary_key[0]
    )
