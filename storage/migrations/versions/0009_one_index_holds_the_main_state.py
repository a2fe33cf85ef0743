"""one index of the record table holds the main state

``ix_record_state (state)`` and ``ix_record_unit_state (responsible_unit, state)`` both changed
whenever a command moved the main track: two index pages to flush where one will do.
``ix_record_state_unit (state, responsible_unit)`` serves the look-ups by state and by state and
unit; ``ix_record_unit (responsible_unit)`` the look-ups by unit, and a unit never changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_record_state_unit", "record", ["state", "responsible_unit"], unique=False)
    op.create_index("ix_record_unit", "record", ["responsible_unit"], unique=False)
    op.drop_index("ix_record_unit_state", table_name="record")
    op.drop_index("ix_record_state", table_name="record")


def downgrade() -> None:
    op.create_index("ix_record_state", "record", ["state"], unique=False)
    op.create_index("ix_record_unit_state", "record", ["responsible_unit", "state"], unique=False)
    op.drop_index("ix_record_unit", table_name="record")
    op.drop_index("ix_record_state_unit", table_name="record")
