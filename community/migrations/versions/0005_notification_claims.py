"""Notifications are claimed before they are sent: when a row was claimed, how many times, not
before when it may be tried again, whether it was given up (and why), and whether it must go out
marked as re-sent because an earlier run may have delivered it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resend", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        for name in ("resend", "last_error", "gave_up_at", "not_before", "attempts", "claimed_at"):
            batch.drop_column(name)
