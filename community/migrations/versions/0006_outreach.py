"""月探访: residents enrolled (with consent) for monthly check-in calls, one check-in per
resident and month, and each attempt to reach them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreach_residents",
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
    op.create_table(
        "outreach_checkins",
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
    op.create_table(
        "outreach_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checkin_id", sa.Integer, sa.ForeignKey("outreach_checkins.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sip_code", sa.Integer, nullable=True),
    )
    op.create_index("ix_outreach_attempts_checkin_id", "outreach_attempts", ["checkin_id"])


def downgrade() -> None:
    op.drop_index("ix_outreach_attempts_checkin_id", "outreach_attempts")
    op.drop_table("outreach_attempts")
    op.drop_table("outreach_checkins")
    op.drop_table("outreach_residents")
