"""deadline claim index covers (next_at, id)

The sweep claims ``ORDER BY next_at, id LIMIT n``. With the index on ``next_at`` alone, every
claim among deadlines sharing one instant sorted all of them again on PostgreSQL (an incremental
sort), so a sweep of n items sharing a due time cost n². (SQLite's index already ends in the
rowid, which is ``id``; the wider index changes nothing there.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_next_at")
        batch_op.create_index("ix_deadline_next_at", ["next_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_next_at")
        batch_op.create_index("ix_deadline_next_at", ["next_at"], unique=False)
