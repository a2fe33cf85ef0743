"""records, history, deadlines, outbox

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 11:45:27.412081
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "chengxin_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=300), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("recipient_unit", sa.String(length=64), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause", name="uq_outbox_cause"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_record_id"), ["record_id"], unique=False)
        batch_op.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "record",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("definition_name", sa.String(length=64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("tracks", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actors", sa.JSON(), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=True),
        sa.Column("subject_code", sa.String(length=18), nullable=True),
        sa.Column("subject_key", sa.String(length=64), nullable=True),
        sa.Column("responsible_unit", sa.String(length=64), nullable=True),
        sa.Column("finding_unit", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=32), nullable=True),
        sa.Column("finding_date", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_active"), ["active"], unique=False)
        batch_op.create_index("ix_record_definition", ["definition_name", "definition_version"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_finding_unit"), ["finding_unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_overdue"), ["overdue"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_subject_code"), ["subject_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_subject_key"), ["subject_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_subject_name"), ["subject_name"], unique=False)
        batch_op.create_index("ix_record_unit_state", ["responsible_unit", "state"], unique=False)

    op.create_table(
        "subject_query_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subject_query_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_query_log_at"), ["at"], unique=False)

    op.create_table(
        "workflow_definition",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "version"),
    )
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "name", "started_seq", name="uq_deadline_start"),
    )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_record", ["record_id", "status"], unique=False)
        batch_op.create_index("ix_deadline_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "record_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("definition_name", sa.String(length=64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_record_event_idempotency_key"),
        sa.UniqueConstraint("record_id", "seq", name="uq_record_event_seq"),
    )
    with op.batch_alter_table("record_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_event_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "record_personal",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("record_id", "field"),
    )
    op.create_table(
        "record_state",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("track", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("record_id", "track"),
    )
    with op.batch_alter_table("record_state", schema=None) as batch_op:
        batch_op.create_index("ix_record_state_track_state", ["track", "state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("record_state", schema=None) as batch_op:
        batch_op.drop_index("ix_record_state_track_state")

    op.drop_table("record_state")
    op.drop_table("record_personal")
    with op.batch_alter_table("record_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_event_occurred_at"))

    op.drop_table("record_event")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_status_due")
        batch_op.drop_index("ix_deadline_record")

    op.drop_table("deadline")
    op.drop_table("workflow_definition")
    with op.batch_alter_table("subject_query_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_query_log_at"))

    op.drop_table("subject_query_log")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index("ix_record_unit_state")
        batch_op.drop_index(batch_op.f("ix_record_subject_name"))
        batch_op.drop_index(batch_op.f("ix_record_subject_key"))
        batch_op.drop_index(batch_op.f("ix_record_subject_code"))
        batch_op.drop_index(batch_op.f("ix_record_state"))
        batch_op.drop_index(batch_op.f("ix_record_overdue"))
        batch_op.drop_index(batch_op.f("ix_record_finding_unit"))
        batch_op.drop_index("ix_record_definition")
        batch_op.drop_index(batch_op.f("ix_record_active"))

    op.drop_table("record")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next")
        batch_op.drop_index(batch_op.f("ix_outbox_record_id"))

    op.drop_table("outbox")
    op.drop_table("chengxin_meta")
