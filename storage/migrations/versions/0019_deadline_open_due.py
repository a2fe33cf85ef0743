"""An index of open deadlines by due time, for the console's "my work" at 100,000 open cases

``ix_deadline_open_due`` on ``deadline (due_at, record_id) WHERE closed_at IS NULL``: the page
walks the open deadlines soonest first, joins each to its case and stops after a page, instead of
computing every case's next due date to sort them. Partial, so closed deadlines stay out of it.
No row is touched.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deadline_open_due",
        "deadline",
        ["due_at", "record_id"],
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_open_due", table_name="deadline")
