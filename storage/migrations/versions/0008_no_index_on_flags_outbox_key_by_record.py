"""no index on the record's two flags; the outbox's unique key begins with the record id

Two more index pages fewer for a command to flush (see 0007):

- ``ix_record_active`` and ``ix_record_overdue`` index a boolean that about half the records
  share; no query is narrowed by them, yet each command that flips one rewrote index pages;
- ``uq_outbox_cause`` becomes ``(record_id, cause)``: the cause already begins with the record
  id, so the rule (one mail per cause) is unchanged, and the same index now finds a record's
  mail, which ``ix_outbox_record_id`` did at the cost of one more page per queued mail. On
  SQLite the constraint is part of the table: the outbox is rebuilt once (rows copied as they are).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 18:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_record_active", table_name="record")
    op.drop_index("ix_record_overdue", table_name="record")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_cause", type_="unique")
        batch_op.drop_index("ix_outbox_record_id")
        batch_op.create_unique_constraint("uq_outbox_cause", ["record_id", "cause"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_cause", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_cause", ["cause"])
        batch_op.create_index("ix_outbox_record_id", ["record_id"], unique=False)
    op.create_index("ix_record_overdue", "record", ["overdue"], unique=False)
    op.create_index("ix_record_active", "record", ["active"], unique=False)
