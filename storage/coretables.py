"""The tables of chengxin as SQLAlchemy Core ``Table`` objects: what the store reads and writes.

The store never uses ORM rows (it hands frozen values to the engine, ``storage.values``), so it
runs on these plain tables, which build in a few milliseconds. The SQLModel classes of
``storage.tables`` describe the same schema for Alembic and the migration tests; building them
imports the ORM and pydantic and costs a command about a quarter of a second, so only migrating
and the tests load them. ``tests/storage/test_core_tables.py`` checks that both agree column by
column (types, nullability, keys, defaults) and index by index on SQLite and PostgreSQL: a
schema change is made in both, with its migration.

Every datetime column is timezone-aware and stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC

# Record ids are codes: they sort by code point (as Python compares them) on every backend, so an
# index on them serves the auditor's ordered scans. PostgreSQL's default collation follows the
# database locale; "C" is bytewise there. SQLite's default (BINARY) is bytewise already.
RECORD_ID = sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; every time must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

meta_t = sa.Table(
    "chengxin_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True, nullable=False),
    sa.Column("value", sa.String(4000), nullable=False),
)

definition_t = sa.Table(
    "workflow_definition",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True, nullable=False),
    sa.Column("version", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("registered_at", UTCDateTime(), nullable=False),
)

record_t = sa.Table(
    "record",
    metadata,
    sa.Column("id", RECORD_ID, primary_key=True, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("definition_name", sa.String(64), nullable=False),
    sa.Column("definition_version", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(64), nullable=False),
    sa.Column("tracks", sa.JSON(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("actors", sa.JSON(), nullable=False),
    sa.Column("subject_name", sa.String(200), nullable=True, index=True),
    sa.Column("subject_code", sa.String(18), nullable=True, index=True),
    sa.Column("subject_key", sa.String(64), nullable=True, index=True),
    sa.Column("responsible_unit", sa.String(64), nullable=True),
    sa.Column("originating_unit", sa.String(64), nullable=True, index=True),
    sa.Column("severity", sa.String(32), nullable=True),
    sa.Column("case_date", sa.Date(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, default=False),
    sa.Column("overdue", sa.Boolean(), nullable=False, default=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_record_definition", "definition_name", "definition_version"),
    sa.Index("ix_record_state_unit", "state", "responsible_unit"),
    sa.Index("ix_record_unit", "responsible_unit"),
)

record_state_t = sa.Table(
    "record_state",
    metadata,
    sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), primary_key=True, nullable=False),
    sa.Column("track", sa.String(64), primary_key=True, nullable=False),
    sa.Column("state", sa.String(64), nullable=False),
    sa.Index("ix_record_state_track_state", "track", "state"),
)

event_t = sa.Table(
    "record_event",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("changes", sa.JSON(), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("effects", sa.JSON(), nullable=False),
    sa.Column("definition_name", sa.String(64), nullable=False),
    sa.Column("definition_version", sa.Integer(), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=True),
    sa.UniqueConstraint("record_id", "seq", name="uq_record_event_seq"),
    sa.Index(
        "uq_record_event_idempotency_key",
        "idempotency_key",
        unique=True,
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    ),
)

deadline_t = sa.Table(
    "deadline",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("started_seq", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("amount", sa.Integer(), nullable=False),
    sa.Column("extended", sa.Integer(), nullable=False, default=0),
    sa.Column("paused_at", UTCDateTime(), nullable=True),
    sa.Column("remaining", sa.Integer(), nullable=True),
    sa.Column("provisional", sa.Boolean(), nullable=False, default=False),
    sa.Column("basis", sa.JSON(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("closed_seq", sa.Integer(), nullable=True),
    sa.Column("next_at", UTCDateTime(), nullable=True),
    sa.Column("reminded", sa.JSON(), nullable=False, server_default="[]"),
    sa.UniqueConstraint("record_id", "name", "started_seq", name="uq_deadline_start"),
    sa.Index(
        "ix_deadline_next_at",
        "next_at",
        "id",
        sqlite_where=sa.text("next_at IS NOT NULL"),
        postgresql_where=sa.text("next_at IS NOT NULL"),
    ),
    sa.Index(
        "ix_deadline_open_due",
        "due_at",
        "record_id",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

reminder_t = sa.Table(
    "deadline_reminder",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("deadline_id", sa.Integer(), sa.ForeignKey("deadline.id"), nullable=False, index=True),
    sa.Column("record_id", RECORD_ID, nullable=False),
    sa.Column("rung", sa.String(64), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("scheduled_at", UTCDateTime(), nullable=False),
    sa.Column("fired_at", UTCDateTime(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.UniqueConstraint("deadline_id", "rung", "due_at", name="uq_reminder_rung"),
)

holiday_t = sa.Table(
    "holiday_table",
    metadata,
    sa.Column("year", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("provisional", sa.Boolean(), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("loaded_at", UTCDateTime(), nullable=False),
)

outbox_t = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("cause", sa.String(300), nullable=False),
    sa.Column("record_id", RECORD_ID, nullable=True),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("recipient_unit", sa.String(64), nullable=False),
    sa.Column("context", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("message_id", sa.String(300), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=True),
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False, server_default="mail"),
    sa.UniqueConstraint("record_id", "cause", name="uq_outbox_cause"),
    sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

webhook_t = sa.Table(
    "webhook_subscription",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", sa.JSON(), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

unit_t = sa.Table(
    "unit",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("superior", sa.String(64), nullable=True),
    sa.Column("emails", sa.JSON(), nullable=False),
    sa.Column("contact", sa.String(100), nullable=True),
    sa.Column("jurisdiction", sa.String(32), nullable=True),
    sa.Column("level", sa.String(32), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

personal_t = sa.Table(
    "record_personal",
    metadata,
    sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), primary_key=True, nullable=False),
    sa.Column("field", sa.String(64), primary_key=True, nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
)

query_log_t = sa.Table(
    "subject_query_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False, index=True),
    sa.Column("requester", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("matches", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False, default="check", server_default="check"),
    sa.Index("ix_subject_query_log_subject", "subject", "at"),
)

token_t = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True, nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("person", sa.String(128), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("label", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

report_input_t = sa.Table(
    "report_input",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
    sa.Column("jurisdiction", sa.String(32), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("measure", sa.String(64), nullable=False),
    sa.Column("value", sa.Integer(), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("reported_by", sa.String(128), nullable=False),
    sa.Column("reported_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("jurisdiction", "period", "unit", "measure", name="uq_report_input"),
)

console_user_t = sa.Table(
    "console_user",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("person", sa.String(128), nullable=False),
    sa.Column("roles", sa.String(255), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("disabled_at", UTCDateTime(), nullable=True),
    sa.Column("failed_sign_ins", sa.Integer(), nullable=False, default=0),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
)

console_session_t = sa.Table(
    "console_session",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True, nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False, index=True),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
)

import_t = sa.Table(
    "record_import",
    metadata,
    sa.Column("source_id", sa.String(200), primary_key=True, nullable=False),
    sa.Column("record_id", RECORD_ID, sa.ForeignKey("record.id"), nullable=False, index=True),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("line", sa.Integer(), nullable=False),
    sa.Column("row_sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", UTCDateTime(), nullable=False),
)
