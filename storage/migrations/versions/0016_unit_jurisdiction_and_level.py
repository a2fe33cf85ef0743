"""units carry a jurisdiction and a level; figures reported for assessments

A unit of the directory now says which jurisdiction it belongs to (a key of
``definitions/jurisdictions.yaml``: tianjin, guangyuan, tongxin, taian) and its level (city,
district, department, township), so supervision rounds reach only the units of the
jurisdiction whose schedule fell due, escalation finds the level above, and reports roll a
unit's figures up to its superior (逐级归集).

- ``unit.jurisdiction`` and ``unit.level`` are added, nullable: units saved before keep NULL
  and are treated as before (they get the rounds of the definitions they have cases under).
- ``report_input`` holds the figures an assessment takes from outside the engine (Tongxin's lost
  administrative lawsuits and unperformed judgments, reported by the court or the legal office),
  one row per jurisdiction, period, unit and measure.

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-01 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("unit", sa.Column("jurisdiction", sa.String(length=32), nullable=True))
    op.add_column("unit", sa.Column("level", sa.String(length=32), nullable=True))
    op.create_table(
        "report_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jurisdiction", "period", "unit", "measure", name="uq_report_input"),
    )


def downgrade() -> None:
    op.drop_table("report_input")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("level")
        batch_op.drop_column("jurisdiction")
