"""The staff console's data: accounts, login lockout, sessions, the audit log, the review
queue, the handoff inbox and the figures of the statistics page.

Same database as :class:`community.store.Store` (schema in migration 0004). Nothing here
imports Rasa or aiohttp, so the command line (``python -m bot.console``) and tests use it
directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from community.intents import report_domain
from community.store import handoffs, metadata, ratings, unanswered, utcnow

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ROLES = ("staff", "admin")
ROLE_LABELS = {"staff": "工作人员", "admin": "管理员"}
USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,32}$")
MIN_PASSWORD = 10
REVIEW_STATUSES = ("new", "assigned", "new_intent", "noise")
HANDOFF_REASON_LABELS = {
    "asked": "居民要求人工",
    "failed_twice": "助手连续两次没答上",
    "emergency": "紧急情况",
}
UNANSWERED_REASON_LABELS = {
    "fallback": "没听懂",
    "low_confidence": "把握不大",
    "clarification_abandoned": "追问后放弃",
    "rated_down": "居民点了👎",
}

users = sa.Table(
    "console_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
)
login_attempts = sa.Table(
    "console_login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
)
sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)
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


class ConsoleError(ValueError):
    """Something staff asked that cannot be done; ``code`` says why, the message is Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Lockout:
    """Failed logins in a row (within ``window``) that lock an account for ``duration``, and
    failed logins from one client address (within ``ip_window``) after which that address may
    not try any account until the oldest of them is ``ip_window`` old."""

    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    duration: dt.timedelta = dt.timedelta(minutes=15)
    ip_max_failures: int = 20
    ip_window: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.ip_max_failures < 1:
            raise ValueError("max_failures and ip_max_failures must be at least 1")


@dataclass(frozen=True)
class LoginResult:
    """``user`` when the login succeeded. Otherwise ``locked_until`` says until when no try is
    taken, and ``scope`` whether the account (``"account"``) or the client address
    (``"address"``) is limited."""

    user: dict[str, Any] | None
    locked_until: dt.datetime | None = None
    scope: str = "account"


@dataclass(frozen=True)
class _Claim:
    attempt_id: int | None  # the attempt row recorded (as failed) before the check
    locked_until: dt.datetime | None = None
    scope: str = "account"


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def local_date(moment: dt.datetime) -> dt.date:
    return _aware(moment).astimezone(LOCAL_TZ).date()  # type: ignore[union-attr]


class ConsoleStore:
    def __init__(
        self,
        engine: sa.engine.Engine,
        *,
        lockout: Lockout | None = None,
        hasher: PasswordHasher | None = None,
    ):
        self.engine = engine
        self.lockout = lockout or Lockout()
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # -- accounts -----------------------------------------------------------------------------
    def create_user(self, username: str, password: str, role: str) -> dict[str, Any]:
        username = (username or "").strip()
        if not USERNAME.match(username):
            raise ConsoleError(
                "bad-username", "用户名须为2-32个字母、数字、汉字或 _ . - (username: 2-32 letters/digits)"
            )
        if role not in ROLES:
            raise ConsoleError("bad-role", f"角色须为 {' / '.join(ROLES)} (role must be staff or admin)")
        self._check_password(password)
        row = {
            "username": username,
            "password_hash": self.hasher.hash(password),
            "role": role,
            "active": True,
            "created_at": utcnow(),
        }
        try:
            with self.engine.begin() as connection:
                row["id"] = connection.execute(users.insert().values(**row)).inserted_primary_key[0]
        except sa.exc.IntegrityError as err:
            raise ConsoleError("exists", f"用户 {username} 已存在 (user exists)") from err
        return _public(row)

    @staticmethod
    def _check_password(password: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise ConsoleError(
                "weak-password",
                f"密码至少{MIN_PASSWORD}位 (password needs at least {MIN_PASSWORD} characters)",
            )
        if len(password) > 256:
            raise ConsoleError("weak-password", "密码太长 (password too long)")

    def set_password(self, username: str, password: str) -> None:
        self._check_password(password)
        with self.engine.begin() as connection:
            done = connection.execute(
                users.update()
                .where(users.c.username == username)
                .values(password_hash=self.hasher.hash(password))
            ).rowcount
            user = self._user(connection, username)
            if user:
                connection.execute(sessions.delete().where(sessions.c.user_id == user["id"]))
        if not done:
            raise ConsoleError("not-found", f"没有用户 {username} (no such user)")

    def set_active(self, username: str, active: bool, *, actor: str | None = None) -> None:
        """Enable or disable an account (its sessions end). ``actor`` (who asks) may not
        disable their own account: an admin could lock everyone out that way."""
        if not active and actor is not None and actor.strip() == (username or "").strip():
            raise ConsoleError("self", "不能停用自己的账号。请让另一位管理员操作。")
        with self.engine.begin() as connection:
            user = self._user(connection, username)
            if user is None:
                raise ConsoleError("not-found", f"没有用户 {username} (no such user)")
            connection.execute(users.update().where(users.c.id == user["id"]).values(active=active))
            if not active:
                connection.execute(sessions.delete().where(sessions.c.user_id == user["id"]))

    def get_user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            user = self._user(connection, username)
        return _public(user) if user else None

    def list_users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [
                _public(dict(r._mapping))
                for r in connection.execute(users.select().order_by(users.c.username))
            ]

    @staticmethod
    def _user(connection: sa.engine.Connection, username: str) -> dict[str, Any] | None:
        row = connection.execute(users.select().where(users.c.username == username)).first()
        return dict(row._mapping) if row else None

    # -- logging in ---------------------------------------------------------------------------
    def locked_until(self, username: str, now: dt.datetime | None = None) -> dt.datetime | None:
        """When ``username`` may try again, if too many recent attempts failed."""
        with self.engine.connect() as connection:
            return self._account_locked(connection, username[:64], now or utcnow())

    def _account_locked(
        self, connection: sa.engine.Connection, username: str, now: dt.datetime
    ) -> dt.datetime | None:
        t = login_attempts.c
        query = (
            sa.select(t.at, t.success)
            .where(t.username == username, t.at >= now - self.lockout.window - self.lockout.duration)
            .order_by(t.id.desc())
            .limit(self.lockout.max_failures)
        )
        recent = [(_aware(at), ok) for at, ok in connection.execute(query)]
        if len(recent) < self.lockout.max_failures or any(ok for _, ok in recent):
            return None
        newest, oldest = recent[0][0], recent[-1][0]
        if newest - oldest > self.lockout.window:  # type: ignore[operator]
            return None
        until = newest + self.lockout.duration  # type: ignore[operator]
        return until if until > now else None

    def _address_limited(
        self, connection: sa.engine.Connection, ip: str, now: dt.datetime
    ) -> dt.datetime | None:
        """Until when ``ip`` may not try, if it failed ``ip_max_failures`` times in ``ip_window``."""
        if not ip:
            return None
        t = login_attempts.c
        limit = self.lockout.ip_max_failures
        failures = [
            _aware(at)
            for (at,) in connection.execute(
                sa.select(t.at)
                .where(t.ip == ip[:64], t.success.is_(False), t.at > now - self.lockout.ip_window)
                .order_by(t.at.desc(), t.id.desc())
                .limit(limit)
            )
        ]
        if len(failures) < limit:
            return None
        return failures[-1] + self.lockout.ip_window  # type: ignore[operator]

    def _serialize(self, connection: sa.engine.Connection, keys: Iterable[str]) -> None:
        """Make the rest of this transaction run alone for ``keys``: on PostgreSQL a transaction
        advisory lock per key (a row lock needs a row, and unknown usernames and addresses have
        none), taken in a fixed order; on SQLite the whole database (``BEGIN IMMEDIATE``)."""
        if connection.dialect.name == "postgresql":
            ids = sorted(
                int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True) for key in keys
            )
            for lock_id in ids:
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))
        elif connection.dialect.name == "sqlite":
            # pysqlite begins transactions lazily (at the first write): taking the write lock
            # first means no two checks read the same count.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _claim(self, username: str, ip: str, now: dt.datetime) -> _Claim:
        """In one transaction: refuse if the address or the account is limited, else record
        the attempt as failed (it becomes a success only after the password checked out)."""
        with self.engine.connect() as connection:
            self._serialize(connection, [f"console-login:user:{username}", f"console-login:ip:{ip}"])
            try:
                limited = self._address_limited(connection, ip, now)
                if limited is not None:
                    return _Claim(None, limited, "address")
                locked = self._account_locked(connection, username, now)
                if locked is not None:  # not recorded: tries while locked do not prolong the lock
                    return _Claim(None, locked, "account")
                attempt_id = connection.execute(
                    login_attempts.insert().values(at=now, username=username, ip=ip[:64], success=False)
                ).inserted_primary_key[0]
                connection.commit()
                return _Claim(int(attempt_id))
            finally:
                if connection.in_transaction():
                    connection.rollback()

    def authenticate(
        self, username: str, password: str, *, ip: str = "", now: dt.datetime | None = None
    ) -> LoginResult:
        """The user if the password is right and the account is active and not locked out.

        The attempt is claimed first, atomically: counted as a failure before the password is
        checked, so parallel tries cannot all pass the lockout check. A locked account (or an
        address over its limit) is not even checked."""
        now = now or utcnow()
        username = (username or "").strip()[:64]
        claim = self._claim(username, ip or "", now)
        if claim.attempt_id is None:
            return LoginResult(None, claim.locked_until, claim.scope)
        with self.engine.connect() as connection:
            user = self._user(connection, username)
        ok = False
        if user is None:
            self._verify(self._dummy(), password)  # same time as a real check: no user probing
        else:
            ok = self._verify(user["password_hash"], password) and bool(user["active"])
        if not ok:
            return LoginResult(None, self.locked_until(username, now))
        assert user is not None
        with self.engine.begin() as connection:
            connection.execute(
                login_attempts.update().where(login_attempts.c.id == claim.attempt_id).values(success=True)
            )
            values: dict[str, Any] = {"last_login_at": now}
            if self.hasher.check_needs_rehash(user["password_hash"]):
                values["password_hash"] = self.hasher.hash(password)
            connection.execute(users.update().where(users.c.id == user["id"]).values(**values))
        return LoginResult(_public(user))

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._dummy_hash

    # -- sessions -----------------------------------------------------------------------------
    def create_session(
        self,
        user_id: int,
        *,
        hours: float = 8,
        idle: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[str, str]:
        """A new session: (the cookie's token, the session's CSRF token). Only a hash of the
        token is stored, so a copy of the database cannot be used to log in.

        ``expires_at`` is when the session ends unless it is used again: ``hours`` after the
        login, or sooner (``idle``) when an idle timeout applies; :meth:`check_session` moves it
        on with every use, never beyond ``hours`` after the login."""
        now = now or utcnow()
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + dt.timedelta(hours=hours)
        if idle is not None:
            expires = min(expires, now + idle)
        with self.engine.begin() as connection:
            # Ended sessions are kept a day, so a late visit can still be told why it ended.
            connection.execute(sessions.delete().where(sessions.c.expires_at < now - dt.timedelta(days=1)))
            connection.execute(
                sessions.insert().values(
                    token_hash=_hash_token(token),
                    user_id=user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, csrf

    def check_session(
        self,
        token: str,
        *,
        idle: dt.timedelta | None = None,
        hours: float | None = None,
        touch: bool = True,
        now: dt.datetime | None = None,
    ) -> tuple[dict[str, Any] | None, str]:
        """(the logged-in user with the session's ``csrf``, "ok"), or (None, why): "missing"
        (no such session), "disabled" (the account), "idle" (no request for ``idle``) or
        "expired" (``hours`` after the login). With ``idle`` and ``touch``, this use moves the
        idle deadline on (written at most every minute, or every quarter of ``idle``)."""
        if not token or len(token) > 128:
            return None, "missing"
        now = now or utcnow()
        token_hash = _hash_token(token)
        query = (
            sa.select(
                users.c.id,
                users.c.username,
                users.c.role,
                users.c.active,
                sessions.c.csrf,
                sessions.c.created_at,
                sessions.c.expires_at,
            )
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == token_hash)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None, "missing"
        found = dict(row._mapping)
        created, expires = _aware(found.pop("created_at")), _aware(found["expires_at"])
        assert created is not None and expires is not None
        end = created + dt.timedelta(hours=hours) if hours is not None else None
        if not found["active"]:
            return None, "disabled"
        if expires <= now:
            idled = idle is not None and (end is None or expires < end)
            return None, "idle" if idled else "expired"
        if end is not None and end <= now:
            return None, "expired"
        if idle is not None and touch:
            moved = now + idle if end is None else min(now + idle, end)
            if moved - expires >= min(dt.timedelta(minutes=1), idle / 4):
                with self.engine.begin() as connection:
                    connection.execute(
                        sessions.update()
                        .where(sessions.c.token_hash == token_hash, sessions.c.expires_at < moved)
                        .values(expires_at=moved)
                    )
                found["expires_at"] = moved
        return found, "ok"

    def session(self, token: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """The logged-in user (with the session's ``csrf``), or None."""
        return self.check_session(token, now=now)[0]

    def end_session(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _hash_token(token or "")))

    # -- audit --------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str | None = None, detail: Any = None) -> None:
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

    def list_audit(self, limit: int = 200, actor: str | None = None) -> list[dict[str, Any]]:
        query = audit_log.select().order_by(audit_log.c.id.desc()).limit(limit)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    # -- review queue -------------------------------------------------------------------------
    def pending_questions(self, limit: int = 2000) -> list[dict[str, Any]]:
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
            row["created_at"] = _aware(row["created_at"])
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

    # -- handoff inbox ------------------------------------------------------------------------
    def inbox(self, include_taken: bool = True) -> list[dict[str, Any]]:
        """Handoffs not yet released: emergencies first, then the longest waiting."""
        statuses = ["waiting", "taken"] if include_taken else ["waiting"]
        query = (
            handoffs.select()
            .where(handoffs.c.status.in_(statuses))
            .order_by(handoffs.c.emergency.desc(), handoffs.c.created_at, handoffs.c.id)
        )
        return self._handoffs(query)

    def handoff(self, handoff_id: int) -> dict[str, Any] | None:
        rows = self._handoffs(handoffs.select().where(handoffs.c.id == handoff_id))
        return rows[0] if rows else None

    def _handoffs(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
        for row in rows:
            for key in ("created_at", "taken_at", "first_response_at", "released_at"):
                row[key] = _aware(row[key])
        return rows

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
        return self.handoff(handoff_id)  # type: ignore[return-value]

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
        row = self.handoff(handoff_id)
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
        return self.handoff(handoff_id)  # type: ignore[return-value]

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

    # -- statistics ---------------------------------------------------------------------------
    def daily_stats(
        self,
        days: int = 14,
        *,
        now: dt.datetime | None = None,
        tracker_engine: sa.engine.Engine | None = None,
    ) -> dict[str, Any]:
        """Per Beijing-time day over the last ``days`` days (oldest first), plus request backlog.

        Conversations and resident messages come from Rasa's tracker store (``events``) when
        ``tracker_engine`` is given and readable; otherwise from the conversations the store saw.
        """
        from community.request_store import CLOSED, service_requests

        now = now or utcnow()
        today = local_date(now)
        dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        start = dt.datetime.combine(dates[0], dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc)
        day: dict[dt.date, dict[str, Any]] = {
            d: {
                "date": d,
                "conversations": 0,
                "messages": 0,
                "domains": Counter(),
                "unanswered": 0,
                "handoffs": 0,
                "handoff_conversations": set(),
                "response_minutes": [],
                "up": 0,
                "down": 0,
                "requests": 0,
                "closed": 0,
            }
            for d in dates
        }
        with self.engine.connect() as connection:
            for (created,) in connection.execute(
                sa.select(unanswered.c.created_at).where(
                    unanswered.c.created_at >= start
                )
            ):
                if (d := local_date(created)) in day:
                    day[d]["unanswered"] += 1
            for created, conversation, first in connection.execute(
                sa.select(
                    handoffs.c.created_at, handoffs.c.conversation_id, handoffs.c.first_response_at
                ).where(handoffs.c.created_at >= start)
            ):
                if (d := local_date(created)) in day:
                    day[d]["handoffs"] += 1
                    day[d]["handoff_conversations"].add(conversation)
                    if first is not None:
                        minutes = (_aware(first) - _aware(created)).total_seconds() / 60  # type: ignore[operator]
                        day[d]["response_minutes"].append(max(0.0, minutes))
            for created, rating in connection.execute(
                sa.select(ratings.c.created_at, ratings.c.rating).where(ratings.c.created_at >= start)
            ):
                if (d := local_date(created)) in day:
                    day[d]["up" if rating == "up" else "down"] += 1
            r = service_requests.c
            for created, closed in connection.execute(
                sa.select(r.created_at, r.closed_at).where(
                    sa.or_(r.created_at >= start, r.closed_at >= start)
                )
            ):
                if (d := local_date(created)) in day:
                    day[d]["requests"] += 1
                if closed is not None and (d := local_date(closed)) in day:
                    day[d]["closed"] += 1
            backlog = {
                status: int(n)
                for status, n in connection.execute(
                    sa.select(r.status, sa.func.count()).where(r.status.notin_(CLOSED)).group_by(r.status)
                )
            }
            overdue = int(
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(service_requests)
                    .where(r.status.notin_(CLOSED), r.due_at.isnot(None), r.due_at < now)
                ).scalar_one()
            )
        source = "tracker"
        try:
            if tracker_engine is None:
                raise LookupError("no tracker store")
            self._tracker_counts(tracker_engine, start, day)
        except (LookupError, sa.exc.SQLAlchemyError):
            source = "store"
            self._store_counts(start, day)
        rows = []
        for d in dates:
            v = day[d]
            rated = v["up"] + v["down"]
            rows.append(
                {
                    "date": d,
                    "conversations": v["conversations"],
                    "messages": v["messages"],
                    "domains": dict(v["domains"]),
                    "unanswered": v["unanswered"],
                    "unanswered_rate": v["unanswered"] / v["messages"] if v["messages"] else None,
                    "handoffs": v["handoffs"],
                    "handoff_rate": (len(v["handoff_conversations"]) / v["conversations"])
                    if v["conversations"]
                    else None,
                    "median_response_minutes": statistics.median(v["response_minutes"])
                    if v["response_minutes"]
                    else None,
                    "up": v["up"],
                    "down": v["down"],
                    "satisfaction": v["up"] / rated if rated else None,
                    "requests": v["requests"],
                    "closed": v["closed"],
                }
            )
        return {"days": rows, "backlog": backlog, "overdue": overdue, "source": source}

    @staticmethod
    def _tracker_counts(
        engine: sa.engine.Engine, start: dt.datetime, day: dict[dt.date, dict[str, Any]]
    ) -> None:
        events = sa.table(
            "events",
            sa.column("sender_id"),
            sa.column("type_name"),
            sa.column("timestamp"),
            sa.column("intent_name"),
        )
        query = sa.select(events.c.sender_id, events.c.timestamp, events.c.intent_name).where(
            events.c.type_name == "user", events.c.timestamp >= start.timestamp()
        )
        seen: dict[dt.date, set[str]] = defaultdict(set)
        domain_seen: dict[dt.date, set[tuple[str, str]]] = defaultdict(set)
        with engine.connect() as connection:
            for sender, timestamp, intent in connection.execute(query):
                d = dt.datetime.fromtimestamp(float(timestamp), LOCAL_TZ).date()
                if d not in day:
                    continue
                day[d]["messages"] += 1
                seen[d].add(sender)
                domain = report_domain(intent)
                if (sender, domain) not in domain_seen[d]:
                    domain_seen[d].add((sender, domain))
                    day[d]["domains"][domain] += 1
        for d, senders in seen.items():
            day[d]["conversations"] = len(senders)

    def _store_counts(self, start: dt.datetime, day: dict[dt.date, dict[str, Any]]) -> None:
        """Without the tracker store: conversations the store saw (no message counts, so no
        unanswered rate)."""
        from community.request_store import service_requests

        seen: dict[dt.date, set[str]] = defaultdict(set)
        with self.engine.connect() as connection:
            for table in (unanswered, handoffs, ratings, service_requests):
                for created, conversation in connection.execute(
                    sa.select(table.c.created_at, table.c.conversation_id).where(table.c.created_at >= start)
                ):
                    if (d := local_date(created)) in day:
                        seen[d].add(conversation)
        for d, conversations in seen.items():
            day[d]["conversations"] = len(conversations)


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "password_hash"}
