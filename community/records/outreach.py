"""月探访: monthly check-in calls to residents who agreed to them (特殊困难老年人月探访).

Staff enrol a resident with their consent (:meth:`Outreach.enrol`): name, phone, who to alert,
the preferred time of day, and call or Telegram message. Each month every enrolled resident has
one check-in (:data:`outreach_checkins`, unique per resident and month) with its attempts
(:data:`outreach_attempts`): a call not answered is tried again on another day, at most
:data:`MAX_ATTEMPTS` times, then the check-in is *unreached*. An answered call stores how the
resident is (1好 2不太好), what they need (助餐, 上门, 看病, 找人说说话) and whether they want a
visit. "不太好", any need, a visit wanted, an emergency word or *unreached* make it a follow-up
(a task in the staff inbox); ``urgency`` orders them (2 emergency, 1 不太好 or unreached, 0 other).
The month's coverage (月探访率) is reached ÷ enrolled.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from community.db import LOCAL_TZ, aware, metadata, utcnow
from community.records import ConsoleError
from community.validators import find_phone

MAX_ATTEMPTS = 3
CHANNELS = {"call": "电话", "telegram": "Telegram 消息"}
NEEDS = {"meal": "助餐", "home": "上门服务", "doctor": "看病", "talk": "找人说说话", "person": "找工作人员"}
WELLBEING = {"good": "好", "not_good": "不太好"}
CHECKIN_STATUSES = {
    "pending": "待联系",
    "calling": "正在打",
    "reached": "已联系上",
    "messaged": "已发消息",
    "unreached": "联系不上",
}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")

outreach_residents = sa.Table(
    "outreach_residents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("alert_contact", sa.String(128), nullable=False, server_default=""),
    sa.Column("preferred_time", sa.String(5), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False, server_default="call"),
    sa.Column("telegram_conversation", sa.String(64), nullable=True),
    sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consent_by", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

outreach_checkins = sa.Table(
    "outreach_checkins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("resident_id", sa.Integer, sa.ForeignKey("outreach_residents.id"), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_attempt_day", sa.String(10), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("wellbeing", sa.String(16), nullable=True),
    sa.Column("needs", sa.String(64), nullable=False, server_default=""),
    sa.Column("wants_visit", sa.Boolean, nullable=True),
    sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("heard", sa.Text, nullable=False, server_default=""),
    sa.Column("followup", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("urgency", sa.Integer, nullable=False, server_default="0"),
    sa.Column("handoff_id", sa.Integer, nullable=True),
    sa.UniqueConstraint("resident_id", "month", name="uq_outreach_checkin_month"),
)

outreach_attempts = sa.Table(
    "outreach_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checkin_id", sa.Integer, sa.ForeignKey("outreach_checkins.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # answered, no_answer, busy, failed, messaged
    sa.Column("sip_code", sa.Integer, nullable=True),
)


def month_of(moment: dt.datetime) -> str:
    return aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m")  # type: ignore[union-attr]


def _local_day(moment: dt.datetime) -> str:
    return aware(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d")  # type: ignore[union-attr]


def parse_time(raw: str) -> str:
    match = _TIME.match((raw or "").strip())
    if not match:
        raise ConsoleError("bad-time", "时间请写成 9:30 这样的格式")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def followup_of(
    wellbeing: str | None, needs: list[str], wants_visit: bool | None, emergency: bool
) -> tuple[bool, int]:
    """(follow-up needed, urgency) of an answered check-in."""
    if emergency:
        return True, 2
    if wellbeing == "not_good":
        return True, 1
    return bool(needs) or bool(wants_visit), 0


def describe(resident: dict[str, Any], checkin: dict[str, Any]) -> str:
    """The task's words for the staff inbox."""
    parts = [f"月探访（{checkin['month']}）：{resident['name']}，电话 {resident['phone']}"]
    if checkin["status"] == "unreached":
        parts.append(f"连续{checkin['attempts']}天打电话都没有接通，请上门或联系紧急联系人")
    if checkin.get("emergency"):
        parts.append("通话中说到紧急情况：" + (checkin.get("heard") or ""))
    if checkin.get("wellbeing"):
        parts.append("身体：" + WELLBEING.get(checkin["wellbeing"], checkin["wellbeing"]))
    needs = [NEEDS.get(n, n) for n in (checkin.get("needs") or "").split(",") if n]
    if needs:
        parts.append("需要：" + "、".join(needs))
    if checkin.get("wants_visit"):
        parts.append("希望工作人员上门看看")
    if resident.get("alert_contact"):
        parts.append("紧急联系人：" + resident["alert_contact"])
    return "\n".join(parts)


class Outreach:
    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine

    # -- enrolment (staff) ----------------------------------------------------------------------
    def enrol(
        self,
        *,
        name: str,
        phone: str,
        preferred_time: str,
        consent: bool,
        staff: str,
        alert_contact: str = "",
        channel: str = "call",
        telegram_conversation: str = "",
        note: str = "",
        now: dt.datetime | None = None,
    ) -> int:
        """Enrol a resident who agreed (``consent``); returns the enrolment's id."""
        if not consent:
            raise ConsoleError("no-consent", "需要居民本人同意后才能登记月探访")
        name = (name or "").strip()
        if not name or len(name) > 64:
            raise ConsoleError("bad-name", "请填写居民姓名")
        checked = find_phone(phone or "")
        if checked is None or checked.value is None:
            problem = checked.problem if checked is not None else "请填写手机号或带区号的座机号"
            raise ConsoleError("bad-phone", f"电话号码不对：{problem}")
        if channel not in CHANNELS:
            raise ConsoleError("bad-channel", "联系方式只能是电话或 Telegram 消息")
        if channel == "telegram" and not telegram_conversation.strip():
            raise ConsoleError("no-telegram", "选了 Telegram 消息，请填写居民的 Telegram 会话（tg-…）")
        now = now or utcnow()
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    outreach_residents.insert().values(
                        created_at=now,
                        name=name,
                        phone=checked.value,
                        alert_contact=(alert_contact or "").strip()[:128],
                        preferred_time=parse_time(preferred_time),
                        channel=channel,
                        telegram_conversation=telegram_conversation.strip() or None,
                        consent_at=now,
                        consent_by=staff,
                        note=note or None,
                    )
                ).inserted_primary_key[0]
            )

    def withdraw(self, resident_id: int, now: dt.datetime | None = None) -> None:
        """The resident no longer wants the calls."""
        with self.engine.begin() as connection:
            done = connection.execute(
                outreach_residents.update()
                .where(outreach_residents.c.id == resident_id, outreach_residents.c.active.is_(True))
                .values(active=False, ended_at=now or utcnow())
            ).rowcount
        if not done:
            raise ConsoleError("not-found", "没有这位登记的居民")

    def resident(self, resident_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                outreach_residents.select().where(outreach_residents.c.id == resident_id)
            ).first()
        return dict(row._mapping) if row is not None else None

    def residents(self, active_only: bool = True) -> list[dict[str, Any]]:
        query = outreach_residents.select().order_by(outreach_residents.c.id)
        if active_only:
            query = query.where(outreach_residents.c.active.is_(True))
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    # -- the monthly run -----------------------------------------------------------------------
    def _checkin(
        self, connection: sa.engine.Connection, resident_id: int, month: str, now: dt.datetime
    ) -> dict[str, Any]:
        t = outreach_checkins.c
        row = connection.execute(
            outreach_checkins.select().where(t.resident_id == resident_id, t.month == month)
        ).first()
        if row is None:
            try:
                with connection.begin_nested():
                    connection.execute(
                        outreach_checkins.insert().values(
                            resident_id=resident_id, month=month, updated_at=now
                        )
                    )
            except sa.exc.IntegrityError:
                pass  # made by another run at the same moment
            row = connection.execute(
                outreach_checkins.select().where(t.resident_id == resident_id, t.month == month)
            ).first()
        return dict(row._mapping)

    def due(self, now: dt.datetime | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(resident, check-in) to contact now: enrolled, this month not yet reached, tried
        fewer than :data:`MAX_ATTEMPTS` times and not yet today, and past their preferred time."""
        now = now or utcnow()
        month, today = month_of(now), _local_day(now)
        clock = aware(now).astimezone(LOCAL_TZ).strftime("%H:%M")  # type: ignore[union-attr]
        found = []
        with self.engine.begin() as connection:
            for resident in connection.execute(
                outreach_residents.select()
                .where(outreach_residents.c.active.is_(True))
                .order_by(outreach_residents.c.preferred_time, outreach_residents.c.id)
            ):
                resident = dict(resident._mapping)
                if resident["preferred_time"] > clock:
                    continue
                checkin = self._checkin(connection, resident["id"], month, now)
                if checkin["status"] != "pending" or checkin["attempts"] >= MAX_ATTEMPTS:
                    continue
                if checkin["last_attempt_day"] == today:
                    continue
                found.append((resident, checkin))
        return found

    def begin_attempt(self, checkin_id: int, now: dt.datetime | None = None) -> bool:
        """Claim the check-in for one attempt now (False if someone else has it, or today's
        attempt was made)."""
        now = now or utcnow()
        t = outreach_checkins.c
        with self.engine.begin() as connection:
            done = connection.execute(
                outreach_checkins.update()
                .where(
                    t.id == checkin_id,
                    t.status == "pending",
                    t.attempts < MAX_ATTEMPTS,
                    sa.or_(t.last_attempt_day.is_(None), t.last_attempt_day != _local_day(now)),
                )
                .values(
                    status="calling",
                    attempts=t.attempts + 1,
                    last_attempt_day=_local_day(now),
                    updated_at=now,
                )
            ).rowcount
        return bool(done)

    def not_reached(
        self, checkin_id: int, *, code: int | None, outcome: str = "no_answer", now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """An attempt nobody answered; after the last one the check-in is *unreached* and a
        follow-up. Returns the check-in."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            row = self._get(connection, checkin_id)
            final = row["attempts"] >= MAX_ATTEMPTS
            connection.execute(
                outreach_attempts.insert().values(
                    checkin_id=checkin_id, at=now, outcome=outcome, sip_code=code
                )
            )
            connection.execute(
                outreach_checkins.update()
                .where(outreach_checkins.c.id == checkin_id)
                .values(
                    status="unreached" if final else "pending",
                    followup=final,
                    urgency=1 if final else 0,
                    updated_at=now,
                )
            )
            return self._get(connection, checkin_id)

    def reached(
        self,
        checkin_id: int,
        *,
        wellbeing: str | None,
        needs: list[str],
        wants_visit: bool | None,
        emergency: bool = False,
        heard: str = "",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """The resident answered: store the answers; returns the check-in (``followup``)."""
        if wellbeing is not None and wellbeing not in WELLBEING:
            raise ValueError(f"wellbeing must be one of {tuple(WELLBEING)}")
        unknown = [n for n in needs if n not in NEEDS]
        if unknown:
            raise ValueError(f"unknown needs {unknown}")
        now = now or utcnow()
        followup, urgency = followup_of(wellbeing, needs, wants_visit, emergency)
        with self.engine.begin() as connection:
            connection.execute(
                outreach_attempts.insert().values(
                    checkin_id=checkin_id, at=now, outcome="answered", sip_code=200
                )
            )
            connection.execute(
                outreach_checkins.update()
                .where(outreach_checkins.c.id == checkin_id)
                .values(
                    status="reached",
                    reached_at=now,
                    wellbeing=wellbeing,
                    needs=",".join(dict.fromkeys(needs)),
                    wants_visit=wants_visit,
                    emergency=emergency,
                    heard=heard[:2000],
                    followup=followup,
                    urgency=urgency,
                    updated_at=now,
                )
            )
            return self._get(connection, checkin_id)

    def messaged(self, checkin_id: int, now: dt.datetime | None = None) -> None:
        """A Telegram check-in message was queued instead of a call."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                outreach_attempts.insert().values(checkin_id=checkin_id, at=now, outcome="messaged")
            )
            connection.execute(
                outreach_checkins.update()
                .where(outreach_checkins.c.id == checkin_id)
                .values(status="messaged", updated_at=now)
            )

    def set_task(self, checkin_id: int, handoff_id: int | None) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                outreach_checkins.update()
                .where(outreach_checkins.c.id == checkin_id)
                .values(handoff_id=handoff_id)
            )

    def recover(self, now: dt.datetime | None = None) -> int:
        """Check-ins a stopped process left *calling* go back to *pending* (the attempt counts)."""
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    outreach_checkins.update()
                    .where(outreach_checkins.c.status == "calling")
                    .values(status="pending", updated_at=now or utcnow())
                ).rowcount
            )

    def _get(self, connection: sa.engine.Connection, checkin_id: int) -> dict[str, Any]:
        row = connection.execute(
            outreach_checkins.select().where(outreach_checkins.c.id == checkin_id)
        ).first()
        if row is None:
            raise ConsoleError("not-found", "没有这次探访记录")
        return dict(row._mapping)

    def checkin(self, checkin_id: int) -> dict[str, Any]:
        with self.engine.connect() as connection:
            return self._get(connection, checkin_id)

    # -- the month's report (console) ------------------------------------------------------------
    def month_report(self, month: str) -> dict[str, Any]:
        """Coverage (月探访率) and who was reached, needs follow-up, could not be reached, or
        is still to be contacted, for the residents enrolled that month."""
        year, number = (int(x) for x in month.split("-"))
        end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=LOCAL_TZ)
        r, c = outreach_residents.c, outreach_checkins.c
        query = (
            sa.select(outreach_residents, outreach_checkins)
            .select_from(
                outreach_residents.outerjoin(
                    outreach_checkins, sa.and_(c.resident_id == r.id, c.month == month)
                )
            )
            .where(r.consent_at < end)
            .where(sa.or_(r.active.is_(True), r.ended_at >= end))
            .order_by(r.id)
        )
        rows = []
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                data = dict(row._mapping)
                data["resident_id"] = data.get("resident_id") or data["id"]
                data["status"] = data.get("status") or "pending"
                data["attempts"] = data.get("attempts") or 0
                data["followup"] = bool(data.get("followup"))
                data["urgency"] = data.get("urgency") or 0
                rows.append(data)
        reached = [x for x in rows if x["status"] == "reached"]
        followup = sorted((x for x in rows if x["followup"]), key=lambda x: (-x["urgency"], x["resident_id"]))
        unreached = [x for x in rows if x["status"] == "unreached"]
        waiting = [x for x in rows if x["status"] in ("pending", "calling", "messaged")]
        enrolled = len(rows)
        return {
            "month": month,
            "enrolled": enrolled,
            "reached": reached,
            "followup": followup,
            "unreached": unreached,
            "waiting": waiting,
            "coverage": (len(reached) / enrolled) if enrolled else None,
        }
