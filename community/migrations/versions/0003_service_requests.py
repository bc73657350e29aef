"""Service requests (工单), their history, per-day reference counters, notifications.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_requests",
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
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "request_id", sa.Integer,
            sa.ForeignKey("service_requests.id", ondelete="CASCADE"), nullable=False, index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
    )
    op.create_table(
        "request_sequences",
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ref", sa.String(20), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("request_sequences")
    op.drop_table("request_events")
    op.drop_table("service_requests")
