"""idempotency keys: a partial unique index instead of a unique constraint

Most history rows carry no idempotency key; the unique constraint still indexed their NULLs, one
more index page dirtied (and flushed) by every command. A unique index over the rows that have a
key enforces the same rule. On SQLite the constraint is part of the table, so the history table
is rebuilt once (rows copied as they are: their hashes are unchanged).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "uq_record_event_idempotency_key"
WHERE = sa.text("idempotency_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("record_event", schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_="unique")
    op.create_index(
        NAME, "record_event", ["idempotency_key"], unique=True, sqlite_where=WHERE, postgresql_where=WHERE
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="record_event")
    with op.batch_alter_table("record_event", schema=None) as batch_op:
        batch_op.create_unique_constraint(NAME, ["idempotency_key"])
