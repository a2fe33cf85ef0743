"""the query log says why and what kind of look-up, and is found by subject

Every credit check (信用核查) and every read of a natural person's record is written to
``subject_query_log``: who, when, why, which subject (a person only by masked ID number).
Until now a row held the requester, a purpose and the subject; an operator's reason and the kind
of look-up had nowhere to go, and "who looked up this subject" scanned the table.

- ``reason`` (why; nullable: rows written before keep NULL) and ``kind`` (``check`` — a credit
  check, ``read`` — a read of a person's record, ``archive`` — an integrity archive; existing rows
  are credit checks) are added. On SQLite ``ADD COLUMN`` does not rebuild the table.
- ``ix_subject_query_log_subject`` on ``(subject, at)`` answers "who looked up X, newest first".

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subject_query_log", sa.Column("reason", sa.String(length=500), nullable=True))
    op.add_column(
        "subject_query_log",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="check"),
    )
    op.create_index("ix_subject_query_log_subject", "subject_query_log", ["subject", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_subject_query_log_subject", table_name="subject_query_log")
    op.drop_column("subject_query_log", "kind")
    op.drop_column("subject_query_log", "reason")
