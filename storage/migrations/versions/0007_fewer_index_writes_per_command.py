"""fewer index pages written per command

With ``synchronous=FULL`` every page a command dirties is flushed at its commit, one WAL frame
each on SQLite; a command's time grows with the number of indexes it touches. This revision
drops what no query reads and narrows what the sweep reads:

- ``ix_record_event_occurred_at``: no query orders or filters the whole history by time (a
  record's history at a past time is read through ``uq_record_event_seq``);
- ``ix_deadline_status_due`` (its one reader was unused) and ``ix_deadline_record`` (a record's
  deadlines are found through ``uq_deadline_start``, which begins with ``record_id``);
- ``ix_deadline_next_at`` becomes partial (``next_at IS NOT NULL``): closing a deadline removes
  its entry instead of moving it among the closed ones;
- ``record_state`` no longer mirrors the main track, which ``record.state`` holds and indexes.

Only indexes and ``record_state`` rows change; no history row is touched.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = sa.text("next_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_record_event_occurred_at", table_name="record_event")
    op.drop_index("ix_deadline_status_due", table_name="deadline")
    op.drop_index("ix_deadline_record", table_name="deadline")
    op.drop_index("ix_deadline_next_at", table_name="deadline")
    op.create_index(
        "ix_deadline_next_at", "deadline", ["next_at", "id"], sqlite_where=OPEN, postgresql_where=OPEN
    )
    op.execute("DELETE FROM record_state WHERE track = 'main'")


def downgrade() -> None:
    op.execute("INSERT INTO record_state (record_id, track, state) SELECT id, 'main', state FROM record")
    op.drop_index("ix_deadline_next_at", table_name="deadline")
    op.create_index("ix_deadline_next_at", "deadline", ["next_at", "id"])
    op.create_index("ix_deadline_record", "deadline", ["record_id", "status"])
    op.create_index("ix_deadline_status_due", "deadline", ["status", "due_at"])
    op.create_index("ix_record_event_occurred_at", "record_event", ["occurred_at"])
