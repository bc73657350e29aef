"""The staff review loop (issue 17): a group staff put a question in by hand, the result of
re-asking a reviewed question after a retrain (still failing → back in the queue, marked), the
note of a handoff closed in bulk on a busy day, and API tokens an admin issues to other systems
(a city's 12345 platform).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("manual_group", sa.String(64), nullable=True))
        batch.add_column(sa.Column("recheck", sa.String(16), nullable=True))
        batch.add_column(sa.Column("rechecked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("close_note", sa.Text, nullable=True))
    op.create_table(
        "console_api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("console_api_tokens")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("close_note")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("rechecked_at")
        batch.drop_column("recheck")
        batch.drop_column("manual_group")
