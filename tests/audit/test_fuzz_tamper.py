"""Random edits of every table verify reads, made in SQL, on SQLite and PostgreSQL: verify never
raises, it reports; and an edit that changes what a behaviour-driving column holds is reported.

Each example edits one column of one row, runs verify and puts the stored value back (as the
database's own text, so the restored row is the row that was there), so one database serves every
example. Budget: a few seconds per backend (``max_examples`` below).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from support.harness import SH, Harness

from storage.tables import TABLES
from workflow import audit
from workflow.testing import PERSON

# Per table: its key columns, and the columns whose edits need not show (surrogate ids; a MAC,
# which only ``--key-file`` checks; when a reminder was scheduled, a calendar fact; when a
# definition version was first used).
TABLES_EDITED: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "record": (("id",), frozenset()),
    "record_event": (("id",), frozenset({"id", "mac"})),
    "record_state": (("record_id", "track"), frozenset()),
    "deadline": (("id",), frozenset({"id"})),
    "deadline_reminder": (("id",), frozenset({"id", "scheduled_at"})),
    "record_personal": (("record_id", "field"), frozenset()),
    "workflow_definition": (("name", "version"), frozenset({"name", "version", "registered_at"})),
}

_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_json_texts = st.sampled_from(
    ["{}", "[]", "null", "1", '"x"', "[1, 2]", '{"a": 1}', '[["main", null, "x"]]', "not json", "{", ""]
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31),
    _texts,
    _json_texts,
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds; timezones= adds the zone
        max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(dt.UTC),
    ),
    st.sampled_from(["2026-05-12 02:00:00+00:00", "2026-05-11 01:00:00", "garbage", "2026-13-45"]),
)


def _raw(
    connection: sa.Connection, postgresql: bool, table: str, column: str, where: str, key: dict[str, Any]
) -> Any:
    """A column's value as the database holds it (PostgreSQL: as text, to be cast back)."""
    selected = f"{column}::text" if postgresql else column
    return connection.execute(sa.text(f"select {selected} from {table} where {where}"), key).scalar_one()


def _typed(connection: sa.Connection, table: str, column: str, where: str, key: dict[str, Any]) -> Any:
    """A column's value as the engine reads it; the error when it cannot be read."""
    t = TABLES.tables[table]
    try:
        return connection.execute(sa.select(t.c[column]).where(sa.text(where)), key).scalar_one()
    except (ValueError, TypeError) as exc:  # not what the engine writes: unreadable
        return exc


@pytest.fixture
def shop(h: Harness) -> Harness:
    """A database with records whose deadlines, reminders, tracks and personal data all exist."""
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.at(dt.datetime(2026, 5, 18, 10, 0, tzinfo=SH))
    h.engine.sweep()
    h.recorded(**{**PERSON, "subject_code": None})
    h.submitted()
    assert audit.verify(
        h.engine.registry, h.engine.cases(), real_time=False, subject_key=h.engine.subject_key
    ).intact
    return h


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_random_edit_of_any_table_is_reported_never_raised(shop: Harness, data: st.DataObject) -> None:
    h = shop
    engine = h.engine.store.engine
    postgresql = engine.dialect.name == "postgresql"
    table = data.draw(st.sampled_from(sorted(TABLES_EDITED)), label="table")
    keys, quiet = TABLES_EDITED[table]
    t = TABLES.tables[table]
    column = data.draw(st.sampled_from([c.name for c in t.c if c.name not in keys]), label="column")
    value = data.draw(_values, label="value")
    where = " and ".join(f"{k} = :k_{k}" for k in keys)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(f"select {', '.join(keys)} from {table} order by {', '.join(keys)}")
        ).all()
        assume(rows)
        row = data.draw(st.sampled_from(rows), label="row")
        key = {f"k_{k}": v for k, v in zip(keys, row, strict=True)}
        old = _raw(connection, postgresql, table, column, where, key)
        before = _typed(connection, table, column, where, key)
    cast = f"cast(:v as {t.c[column].type.compile(engine.dialect)})" if postgresql else ":v"
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"update {table} set {column} = {cast} where {where}"), {**key, "v": value}
            )
    except sa.exc.DBAPIError:
        assume(False)  # the database refused the value (a type, a constraint): nothing to verify
    try:
        with engine.connect() as connection:
            after = _typed(connection, table, column, where, key)
        report = _verify(h)  # must not raise, whatever was written
        if column not in quiet and _differs(before, after):
            assert report.problems, f"{table}.{column}: {before!r} → {after!r} went unreported"
    finally:
        restore = f"cast(:v as {t.c[column].type.compile(engine.dialect)})" if postgresql else ":v"
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"update {table} set {column} = {restore} where {where}"), {**key, "v": old}
            )


def _verify(h: Harness) -> audit.Report:
    from workflow import Engine, ManualClock

    url = h.engine.store.engine.url.render_as_string(hide_password=False)
    with Engine.open(url, clock=ManualClock(h.clock.now()), audit=True) as auditor:
        replayed = [p for case in auditor.cases() for p in audit.replay(auditor.registry, case.events)]
        assert all(isinstance(p, audit.Problem) for p in replayed)
        return audit.verify(
            auditor.registry, auditor.cases(), real_time=False, subject_key=auditor.subject_key
        )


def _differs(before: Any, after: Any) -> bool:
    if isinstance(after, Exception):
        return True
    if isinstance(before, dt.datetime) and isinstance(after, dt.datetime):
        return before != after
    return before != after or type(before) is not type(after)
