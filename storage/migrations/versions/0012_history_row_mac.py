"""history rows may carry a keyed MAC

A history row's SHA-256 chain shows any row altered after it was written — unless whoever
altered it recomputed the hashes, which anyone with write access to the database can. With a
key kept outside the database (``CHENGXIN_HISTORY_KEY_FILE``), the engine also stores an
HMAC-SHA256 of each new row's hash, which cannot be recomputed without the key; ``chengxin
audit verify --key-file`` checks it.

- ``record_event.mac`` is added, nullable: rows written before (or without) a key keep NULL and
  are reported as unkeyed, never as altered. No row is rewritten; on SQLite ``ADD COLUMN`` does
  not rebuild the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("record_event", sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("record_event", "mac")  # SQLite 3.35+ drops a column without rebuilding the table
