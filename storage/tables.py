"""The SQLModel tables of chengxin: the schema as Alembic and the migration tests see it.

The store itself runs on the same tables as Core ``Table`` objects (``storage.coretables``,
which a test keeps in step with these), so a command does not build these classes. These classes
stay inside ``storage``: what the store hands to the engine are frozen values
(``storage.values``), never live ORM rows. Every datetime column is timezone-aware and
stored in UTC. Schema changes go through Alembic migrations (``storage/migrations``); a test
checks that the migrations and these tables agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.coretables import RECORD_ID, UTCDateTime

__all__ = ["RECORD_ID", "TABLES", "UTCDateTime"]


def _json() -> Any:
    return sa.Column(sa.JSON, nullable=False)


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Meta(SQLModel, table=True):
    """Facts about this database: clock mode (real or simulated), the simulated now, a pepper."""

    __tablename__ = "chengxin_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=4000)


class WorkflowDefinition(SQLModel, table=True):
    """The resolved text of every definition version used by a record: replay needs it forever."""

    __tablename__ = "workflow_definition"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    sha256: str = Field(max_length=64)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    registered_at: dt.datetime = Field(sa_column=_time())


class Record(SQLModel, table=True):
    """The current projection of a case of any kind; ``version`` counts its history rows.

    One index holds the main state, ``(state, responsible_unit)``: a command that moves the main
    track rewrites that one, while the unit's own index stays as it is (migration 0009).
    """

    __tablename__ = "record"
    __table_args__ = (
        sa.Index("ix_record_definition", "definition_name", "definition_version"),
        sa.Index("ix_record_state_unit", "state", "responsible_unit"),
        sa.Index("ix_record_unit", "responsible_unit"),
    )

    id: str = Field(primary_key=True, sa_type=RECORD_ID)
    kind: str = Field(max_length=32)  # the definition's kind: record, complaint, supervision_round, …
    definition_name: str = Field(max_length=64)
    definition_version: int
    state: str = Field(max_length=64)
    tracks: dict[str, str] = Field(sa_column=_json())
    data: dict[str, Any] = Field(sa_column=_json())
    actors: dict[str, Any] = Field(sa_column=_json())
    # The indexed columns below are filled from the record fields the definition names (``index:``).
    subject_name: str | None = Field(default=None, max_length=200, index=True)
    subject_code: str | None = Field(default=None, max_length=18, index=True)
    subject_key: str | None = Field(default=None, max_length=64, index=True)
    responsible_unit: str | None = Field(default=None, max_length=64)
    originating_unit: str | None = Field(default=None, max_length=64, index=True)
    severity: str | None = Field(default=None, max_length=32)
    case_date: dt.date | None = None
    # Not indexed: a flag that half the records share narrows no query, and every command that
    # flips it would rewrite an index page (migration 0008).
    active: bool = Field(default=False)
    overdue: bool = Field(default=False)
    version: int
    head_hash: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=_time())
    updated_at: dt.datetime = Field(sa_column=_time())


class RecordState(SQLModel, table=True):
    """One row per active parallel track of a record, so records can be found by any track's state.

    The main track is not here: ``record.state`` holds it, indexed (migration 0007).
    """

    __tablename__ = "record_state"
    __table_args__ = (sa.Index("ix_record_state_track_state", "track", "state"),)

    record_id: str = Field(foreign_key="record.id", primary_key=True, sa_type=RECORD_ID)
    track: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=64)


class HistoryEvent(SQLModel, table=True):
    """The append-only history: one row per event, SHA-256 chained per record."""

    __tablename__ = "record_event"
    __table_args__ = (
        sa.UniqueConstraint("record_id", "seq", name="uq_record_event_seq"),
        # Partial: most events carry no key, and a NULL entry per event would cost a page per commit.
        sa.Index(
            "uq_record_event_idempotency_key",
            "idempotency_key",
            unique=True,
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", sa_type=RECORD_ID)
    seq: int
    event: str = Field(max_length=64)
    changes: list[Any] = Field(sa_column=_json())
    actor: str = Field(max_length=128)
    role: str = Field(max_length=64)
    unit: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=_json())
    comment: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    effects: dict[str, Any] = Field(sa_column=_json())
    definition_name: str = Field(max_length=64)
    definition_version: int
    occurred_at: dt.datetime = Field(sa_column=_time())
    idempotency_key: str | None = Field(default=None, max_length=200)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # HMAC-SHA256 of ``hash`` under a key kept outside the database (``CHENGXIN_HISTORY_KEY_FILE``);
    # NULL for rows written without one (migration 0011).
    mac: str | None = Field(default=None, max_length=64)


class Deadline(SQLModel, table=True):
    """A running legal period. The sweep finds due ones by ``next_at``.

    ``ix_deadline_next_at`` covers the claim's whole ``ORDER BY next_at, id``: many deadlines share
    one due instant (every publication ends at 17:00), and on PostgreSQL an index on ``next_at``
    alone made each claim sort all of them again, so a sweep's cost grew with the square of its
    due items (migration 0004). It is partial: a closed deadline (``next_at`` NULL) leaves it.

    A record's deadlines are found through ``uq_deadline_start``, which begins with ``record_id``.
    """

    __tablename__ = "deadline"
    __table_args__ = (
        sa.UniqueConstraint("record_id", "name", "started_seq", name="uq_deadline_start"),
        sa.Index(
            "ix_deadline_next_at",
            "next_at",
            "id",
            sqlite_where=sa.text("next_at IS NOT NULL"),
            postgresql_where=sa.text("next_at IS NOT NULL"),
        ),
        # The console's "my work" walks open deadlines soonest first and stops after a page
        # (migration 0019); partial, so closed deadlines, most of them, stay out of it.
        sa.Index(
            "ix_deadline_open_due",
            "due_at",
            "record_id",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", sa_type=RECORD_ID)
    name: str = Field(max_length=64)
    started_seq: int
    status: str = Field(max_length=16)  # active | paused | expired | met | met_late | cancelled
    started_at: dt.datetime = Field(sa_column=_time())
    due_at: dt.datetime = Field(sa_column=_time())
    unit: str = Field(max_length=16)  # working_days | days
    amount: int
    extended: int = 0
    paused_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    remaining: int | None = None
    provisional: bool = False
    basis: dict[str, Any] = Field(sa_column=_json())
    closed_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    closed_seq: int | None = None
    next_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    reminded: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False, server_default="[]")
    )


class Reminder(SQLModel, table=True):
    """One row per reminder rung fired (or skipped as superseded): the key makes a rung fire once per due date."""

    __tablename__ = "deadline_reminder"
    __table_args__ = (sa.UniqueConstraint("deadline_id", "rung", "due_at", name="uq_reminder_rung"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    record_id: str = Field(sa_type=RECORD_ID)
    rung: str = Field(max_length=64)
    due_at: dt.datetime = Field(sa_column=_time())
    scheduled_at: dt.datetime = Field(sa_column=_time())
    fired_at: dt.datetime = Field(sa_column=_time())
    outcome: str = Field(max_length=16)  # sent | superseded
    seq: int


class HolidayTableRow(SQLModel, table=True):
    """A year's holiday arrangement loaded as data (``chengxin calendar load``); overrides the bundled ones."""

    __tablename__ = "holiday_table"

    year: int = Field(primary_key=True)
    provisional: bool
    source: str = Field(max_length=500)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    loaded_at: dt.datetime = Field(sa_column=_time())


class Outbox(SQLModel, table=True):
    """Mail queued in the same transaction as its cause; the dispatcher drains it.

    A cause (``record/seq/notice/template/unit``) is queued once; its unique key begins with the
    record id, so it also finds a record's mail (migration 0008).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("record_id", "cause", name="uq_outbox_cause"),
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cause: str = Field(max_length=300)
    record_id: str | None = Field(default=None, sa_type=RECORD_ID)
    template: str = Field(max_length=64)
    recipient_unit: str = Field(max_length=64)
    context: dict[str, Any] = Field(sa_column=_json())
    status: str = Field(max_length=16)  # queued | sending | sent | failed | dead
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(sa_column=_time())
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    message_id: str = Field(max_length=300)
    created_at: dt.datetime = Field(sa_column=_time())
    sent_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    claimed_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    # who holds the claim: only the dispatcher that claimed a mail may mark it (migration 0011)
    claim_token: str | None = Field(default=None, max_length=32)
    # what the row is delivered by: "mail" (to ``recipient_unit``) or "webhook" (to the
    # subscription whose id is in ``recipient_unit``); migration 0014
    channel: str = Field(
        default="mail", sa_column=sa.Column(sa.String(16), nullable=False, server_default="mail")
    )


class WebhookSubscription(SQLModel, table=True):
    """A service that is told of transitions over HTTP: where, of which events, and the secret
    its deliveries are signed with (kept here because the dispatcher must sign with it)."""

    __tablename__ = "webhook_subscription"
    # ids are never reused (SQLite AUTOINCREMENT): a retried delivery cannot reach another subscriber
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    secret: str = Field(max_length=200)
    created_at: dt.datetime = Field(sa_column=_time())


class Unit(SQLModel, table=True):
    """A unit mails go to: its name, its superior, the addresses of its contact people, and where it
    stands: its jurisdiction and its level (which rounds reach it, where its reports roll up)."""

    __tablename__ = "unit"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    superior: str | None = Field(default=None, max_length=64)
    emails: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    contact: str | None = Field(default=None, max_length=100)
    jurisdiction: str | None = Field(default=None, max_length=32)  # a key of definitions/jurisdictions.yaml
    level: str | None = Field(default=None, max_length=32)  # city | district | department | township
    updated_at: dt.datetime = Field(sa_column=_time())


class PersonalData(SQLModel, table=True):
    """Personal data kept outside the hash chain, so it can be purged when a record is archived."""

    __tablename__ = "record_personal"

    record_id: str = Field(foreign_key="record.id", primary_key=True, sa_type=RECORD_ID)
    field: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class SubjectQuery(SQLModel, table=True):
    """Who looked up which subject, when and why (credit checks by other services)."""

    __tablename__ = "subject_query_log"
    __table_args__ = (sa.Index("ix_subject_query_log_subject", "subject", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_column=_time(index=True))
    requester: str = Field(max_length=128)
    purpose: str = Field(max_length=200)
    subject: str = Field(max_length=200)  # a code, or a person's masked ID number: never the number
    matches: int
    reason: str | None = Field(default=None, max_length=500)  # why (migration 0015)
    # check: a credit check; read: a read of a person's record; archive: an integrity archive
    kind: str = Field(default="check", max_length=16, sa_column_kwargs={"server_default": "check"})


class ApiToken(SQLModel, table=True):
    """An HTTP API token: who holds it, in which role and unit, until when. Only the SHA-256 of
    its secret is kept; the secret is shown once, when the token is created."""

    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=16)
    secret_sha256: str = Field(max_length=64)
    person: str = Field(max_length=128)
    role: str = Field(max_length=64)
    unit: str = Field(max_length=64)
    label: str = Field(default="", max_length=200)
    created_at: dt.datetime = Field(sa_column=_time())
    expires_at: dt.datetime = Field(sa_column=_time())
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))


class ReportInput(SQLModel, table=True):
    """A figure a report takes from outside the engine, as the body that keeps it reported it
    (Tongxin: the administrative lawsuits a unit lost and the judgments it has not performed,
    reported by the court or the legal office). One row per jurisdiction, period, unit and
    measure; a new report of the same figure replaces the old one."""

    __tablename__ = "report_input"
    __table_args__ = (
        sa.UniqueConstraint("jurisdiction", "period", "unit", "measure", name="uq_report_input"),
    )

    id: int | None = Field(default=None, primary_key=True)
    jurisdiction: str = Field(max_length=32)
    period: str = Field(max_length=16)  # 2026, 2026H2, 2026Q3
    unit: str = Field(max_length=64)
    measure: str = Field(max_length=64)
    value: int
    source: str = Field(max_length=200)  # who reported it: 县人民法院, 县司法局
    reported_by: str = Field(max_length=128)
    reported_at: dt.datetime = Field(sa_column=_time())


class ConsoleUser(SQLModel, table=True):
    """A local account of the web console: a login name, the argon2 hash of its password, the
    person, roles and unit it acts as (like an API token), whether it is disabled, and its
    recent failed sign-ins (for the lock-out)."""

    __tablename__ = "console_user"

    name: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=255)
    person: str = Field(max_length=128)
    roles: str = Field(max_length=255)
    unit: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=_time())
    disabled_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))
    failed_sign_ins: int = Field(default=0)
    locked_until: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))


class ConsoleSession(SQLModel, table=True):
    """A signed-in console session. Only the SHA-256 of the cookie's random value is kept; the
    CSRF token of its forms, the role it acts in, until when it lives, when it ended."""

    __tablename__ = "console_session"

    id_sha256: str = Field(primary_key=True, max_length=64)
    user_name: str = Field(max_length=64, index=True)
    role: str = Field(max_length=64)
    csrf: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=_time())
    expires_at: dt.datetime = Field(sa_column=_time())
    ended_at: dt.datetime | None = Field(default=None, sa_column=_time(nullable=True))


class RecordImport(SQLModel, table=True):
    """A case brought in by ``chengxin record import``: the old system's id of it (unique, so a
    second run of the same file skips it), the case it became, the file and line it came from and
    the SHA-256 of that line. Written in the transaction that writes the case."""

    __tablename__ = "record_import"

    source_id: str = Field(primary_key=True, max_length=200)
    record_id: str = Field(foreign_key="record.id", index=True, sa_type=RECORD_ID)
    source: str = Field(max_length=500)
    line: int
    row_sha256: str = Field(max_length=64)
    imported_at: dt.datetime = Field(sa_column=_time())


TABLES = SQLModel.metadata
