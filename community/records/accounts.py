"""Staff accounts of the console: users and their roles, passwords (argon2), the login limits
(an account locked after failed logins in a row, a client address limited after too many failed
logins), and sessions (only a hash of the cookie's token is kept; idle timeout and a maximum
length).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from community.db import aware, metadata, utcnow
from community.records import ConsoleError

ROLES = ("staff", "admin")
ROLE_LABELS = {"staff": "工作人员", "admin": "管理员"}
USERNAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,32}$")
MIN_PASSWORD = 10

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


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()



class Accounts:
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
        recent = [(aware(at), ok) for at, ok in connection.execute(query)]
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
            aware(at)
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
        created, expires = aware(found.pop("created_at")), aware(found["expires_at"])
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

    def signed_in(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Active accounts with a session that has not ended (who is at the console now):
        username and role, by username."""
        now = now or utcnow()
        query = (
            sa.select(users.c.username, users.c.role)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(users.c.active.is_(True), sessions.c.expires_at > now)
            .group_by(users.c.username, users.c.role)
            .order_by(users.c.username)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def session(self, token: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """The logged-in user (with the session's ``csrf``), or None."""
        return self.check_session(token, now=now)[0]

    def end_session(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _hash_token(token or "")))


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "password_hash"}
