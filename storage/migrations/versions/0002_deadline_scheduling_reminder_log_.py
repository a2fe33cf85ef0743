"""deadline scheduling, reminder log, holiday tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:58:08.008985
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "holiday_table",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "deadline_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("rung", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["deadline.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deadline_id", "rung", "due_at", name="uq_reminder_rung"),
    )
    with op.batch_alter_table("deadline_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadline_reminder_deadline_id"), ["deadline_id"], unique=False)

    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_index("ix_deadline_next_at", ["next_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_next_at")
        batch_op.drop_column("reminded")
        batch_op.drop_column("next_at")

    with op.batch_alter_table("deadline_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_reminder_deadline_id"))

    op.drop_table("deadline_reminder")
    op.drop_table("holiday_table")
