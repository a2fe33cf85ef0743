"""The Alembic migrations build exactly the schema the tables declare, on both backends."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage import db
from storage.connections import Database, event_t
from storage.records import CLAIM as _CLAIM
from storage.records import CLAIM_LOCKED as _CLAIM_LOCKED
from storage.tables import TABLES


def test_migrations_match_the_table_definitions(database_url: str) -> None:
    engine = db.create_engine(database_url)
    before, after = db.upgrade(engine)
    assert before is None
    assert after == db.head_revision()
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), TABLES)
    engine.dispose()
    assert diff == []


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    assert db.upgrade(engine) == (db.head_revision(), db.head_revision())
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: object) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


# On a near-empty table PostgreSQL's planner would rather scan and sort; forbid what it can avoid.
SORT_AVOIDABLE = ("enable_seqscan", "enable_sort", "enable_incremental_sort", "enable_bitmapscan")


def _plan(engine: Any, sql: str, forbidden: tuple[str, ...]) -> str:
    """The query plan of ``sql`` as text (PostgreSQL: with the ``forbidden`` planner methods off)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            for setting in forbidden:
                connection.exec_driver_sql(f"set local {setting} = off")
            return "\n".join(row[0] for row in connection.exec_driver_sql(f"explain {sql}"))
        return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(f"explain query plan {sql}"))


def test_the_sweep_claim_walks_the_index_in_order_without_sorting(database_url: str) -> None:
    """Many deadlines share one due instant; a claim that sorts them costs the sweep n² (see 0004)."""
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    query = _CLAIM_LOCKED if engine.dialect.name == "postgresql" else _CLAIM
    sql = str(
        query.params(w_now=dt.datetime(2026, 5, 11, tzinfo=dt.UTC), w_limit=1).compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    plan = _plan(engine, sql, SORT_AVOIDABLE)
    engine.dispose()
    assert "ix_deadline_next_at" in plan
    assert "sort" not in plan.lower() and "temp b-tree" not in plan.lower(), plan


def test_the_auditors_ordered_history_scan_walks_the_index_without_sorting(database_url: str) -> None:
    """Verify and replay read every history row by record id in code-point order; on PostgreSQL a
    locale collation made that a sort of the whole history (see 0005)."""
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    database = Database(engine)
    query = sa.select(event_t.c.record_id, event_t.c.seq).order_by(
        database.bytewise(event_t.c.record_id), event_t.c.seq
    )
    sql = str(query.compile(dialect=engine.dialect))
    plan = _plan(engine, sql, SORT_AVOIDABLE)
    engine.dispose()
    assert "sort" not in plan.lower() and "temp b-tree" not in plan.lower(), plan


def test_an_idempotency_key_is_looked_up_through_its_partial_unique_index(database_url: str) -> None:
    """The index leaves out the many events without a key (see 0006) and still serves the look-up."""
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    query = sa.select(event_t.c.id).where(event_t.c.idempotency_key == "req-1")
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    plan = _plan(engine, sql, ("enable_seqscan",))
    engine.dispose()
    assert "uq_record_event_idempotency_key" in plan, plan


def test_a_records_mail_is_found_through_the_outbox_unique_key(database_url: str) -> None:
    """The outbox's unique key begins with the record id and serves ``mail list --record`` (see 0008)."""
    from storage.connections import outbox_t

    engine = db.create_engine(database_url)
    db.upgrade(engine)
    query = (
        sa.select(outbox_t.c.id).where(outbox_t.c.record_id == "SX20260511-1X2AYQ").order_by(outbox_t.c.id)
    )
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    plan = _plan(engine, sql, ("enable_seqscan",))
    engine.dispose()
    assert "uq_outbox_cause" in plan or "sqlite_autoindex_outbox" in plan, plan


def test_records_are_found_by_state_and_by_unit_through_their_indexes(database_url: str) -> None:
    """The main state lives in one index, (state, responsible_unit); the unit has its own (see 0009)."""
    from storage.connections import record_t

    engine = db.create_engine(database_url)
    db.upgrade(engine)
    by_state = sa.select(record_t.c.id).where(record_t.c.state == "recorded")
    by_unit = sa.select(record_t.c.id).where(record_t.c.responsible_unit == "hexi-zjw")
    plans = [
        _plan(
            engine,
            str(q.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})),
            SORT_AVOIDABLE,
        )
        for q in (by_state, by_unit)
    ]
    engine.dispose()
    assert "ix_record_state_unit" in plans[0], plans[0]
    assert re.search(r"\bix_record_unit\b", plans[1]), plans[1]


def _main_track_rows(engine: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql("select count(*) from record_state where track = 'main'").scalar()
        )


def test_migrating_down_and_up_again_keeps_a_history_intact(database_url: str) -> None:
    """0004–0007 rebuild indexes (and on SQLite the history table); rows and hashes survive, and
    the main track's mirror rows, dropped by 0007, come back on the way down."""
    from alembic import command
    from support.harness import Harness

    from workflow import Engine, audit

    h = Harness.create(database_url)
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    before = [(e.seq, e.hash) for e in h.engine.history(rid)]
    h.engine.close()
    engine = db.create_engine(database_url)
    assert _main_track_rows(engine) == 0
    command.downgrade(db._alembic_config(engine), "0006")
    assert _main_track_rows(engine) == 1
    command.downgrade(db._alembic_config(engine), "0003")
    assert db.current_revision(engine) == "0003"
    assert db.upgrade(engine) == ("0003", db.head_revision())
    assert _main_track_rows(engine) == 0
    engine.dispose()
    reopened = Engine.open(database_url)
    try:
        assert [(e.seq, e.hash) for e in reopened.history(rid)] == before
        assert audit.verify(reopened.registry, reopened.histories(), real_time=False).intact
        assert [r.id for r in reopened.query(state="main:recorded")] == [rid]
        assert [r.id for r in reopened.query(state="publication:published")] == [rid]
    finally:
        reopened.close()


def test_a_refused_init_leaves_an_old_schema_and_the_database_facts_as_they_were(database_url: str) -> None:
    """``init --simulated-clock`` on a real-time database at an older revision is refused before
    the schema is upgraded or a fact is written."""
    from alembic import command

    from workflow import ClockError, Engine

    engine = db.create_engine(database_url)
    command.upgrade(db._alembic_config(engine), "0010")
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO chengxin_meta (key, value) VALUES ('clock_mode', 'real'), ('pepper', 'ab')")
        )
    with pytest.raises(ClockError, match="real time"):
        Engine.init(database_url, simulated_start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    revision = db.current_revision(engine)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT key, value FROM chengxin_meta"))
            facts = {str(row.key): str(row.value) for row in rows}
    finally:
        engine.dispose()
    assert revision == "0010"
    assert facts == {"clock_mode": "real", "pepper": "ab"}


def test_the_work_list_walks_open_deadlines_through_their_index_without_sorting(database_url: str) -> None:
    """The console's "my work" walks open deadlines soonest first and stops after a page; a
    sort of every open deadline would cost it the whole table at 100,000 cases (see 0019)."""
    from storage.worklist import open_deadlines_by_due

    engine = db.create_engine(database_url)
    db.upgrade(engine)
    plans = []
    for due_by in (None, dt.datetime(2026, 5, 11, tzinfo=dt.UTC)):
        query = open_deadlines_by_due(due_by).limit(200)
        sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        plans.append(_plan(engine, sql, SORT_AVOIDABLE))
    engine.dispose()
    for plan in plans:
        assert "ix_deadline_open_due" in plan, plan
        assert "sort" not in plan.lower() and "temp b-tree" not in plan.lower(), plan
