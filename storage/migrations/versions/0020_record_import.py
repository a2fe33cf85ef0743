"""Bulk import of existing cases: which source record became which case

``record_import`` holds one row per case brought in by ``chengxin record import``: the old
system's id of it (primary key, so a second run of the same file imports only what the first
did not), the case it became, the file and line it came from and the SHA-256 of that line. Each
row is committed in the transaction that writes its case. New table: no existing row is touched.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# record ids collate "C" on PostgreSQL (migration 0005), as the record's own id does
RECORD_ID = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_import",
        sa.Column("source_id", sa.String(length=200), primary_key=True),
        sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("row_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_record_import_record_id", "record_import", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_record_import_record_id", table_name="record_import")
    op.drop_table("record_import")
