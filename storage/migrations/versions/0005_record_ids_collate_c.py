"""record ids collate "C" on PostgreSQL

The auditor's scans (``audit verify``, ``replay``, checkpoints) read every history row ordered by
record id in code-point order, as Python compares them. Under the database's locale collation
no index could serve ``ORDER BY record_id COLLATE "C"``, so PostgreSQL sorted the whole history
on every verify. Record ids are codes; collated "C" they sort bytewise and the unique index on
(record_id, seq) serves the scan. SQLite compares bytewise already: nothing to do there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("record", "id"),
    ("record_state", "record_id"),
    ("record_event", "record_id"),
    ("deadline", "record_id"),
    ("deadline_reminder", "record_id"),
    ("outbox", "record_id"),
    ("record_personal", "record_id"),
)


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(40) COLLATE "{collation}"')


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
