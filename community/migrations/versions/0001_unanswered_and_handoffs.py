"""Unanswered questions and handoffs to staff.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("top_intents", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="waiting"),
    )


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("unanswered_questions")
