"""A database written by the code before cases had kinds (schema 0009, commit 519544a) upgrades
with ``chengxin init`` and every chain still verifies, on SQLite and PostgreSQL.

``tests/fixtures/legacy_0009.json`` holds every row of a drill database that code wrote
(``tests/fixtures/make_legacy_0009.py`` is its recipe): 29 cases on the national, Tianjin,
Guangyuan, Tongxin and Tai'an definitions and supervision rounds, 209 history rows, deadlines,
reminders, mail, units, a holiday table and credit checks. The test rebuilds that database at
revision 0009 — JSON columns as the very text that was stored, since the history hash was taken
over it — and upgrades it with today's engine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage import db as storage_db
from storage.tables import UTCDateTime
from workflow import Actor, Engine, audit
from workflow.runtime.rounds import open_due_rounds

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_0009.json"
# Parents before children (foreign keys); alembic_version is written by the migrations themselves.
TABLE_ORDER = (
    "chengxin_meta",
    "workflow_definition",
    "unit",
    "holiday_table",
    "record",
    "record_state",
    "record_event",
    "deadline",
    "deadline_reminder",
    "outbox",
    "record_personal",
    "subject_query_log",
)


def _kind(sqlite_type: str) -> str:
    return {"DATETIME": "time", "DATE": "date", "BOOLEAN": "bool", "JSON": "json"}.get(
        sqlite_type.upper(), "plain"
    )


def _typed(kind: str, value: Any) -> Any:
    """A value as SQLite stored it, as the Python value it stands for (JSON stays text)."""
    if value is None or kind in {"plain", "json"}:
        return value
    if kind == "time":  # '2026-05-11 01:00:00.000000', UTC without an offset
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return bool(value)


def _bind_type(kind: str) -> Any:
    return {"time": UTCDateTime(), "date": sa.Date(), "bool": sa.Boolean(), "json": sa.Text()}.get(
        kind, sa.types.NullType()
    )


def _load(dump: Mapping[str, Any], url: str) -> None:
    """Build the dumped database at ``url``: the migrations up to 0009, then every row as stored."""
    engine = storage_db.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(storage_db.MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, dump["schema_revision"])
    postgresql = engine.dialect.name == "postgresql"
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        for name in TABLE_ORDER:
            table = dump["tables"][name]
            kinds = [_kind(t) for t in table["types"]]
            values = [
                f"CAST(:p{i} AS JSON)" if k == "json" and postgresql else f":p{i}"
                for i, k in enumerate(kinds)
            ]
            insert = sa.text(
                f"INSERT INTO {quote(name)} ({', '.join(quote(c) for c in table['columns'])}) "
                f"VALUES ({', '.join(values)})"
            ).bindparams(*(sa.bindparam(f"p{i}", type_=_bind_type(k)) for i, k in enumerate(kinds)))
            rows = [
                {f"p{i}": _typed(k, v) for i, (k, v) in enumerate(zip(kinds, row, strict=True))}
                for row in table["rows"]
            ]
            if rows:
                connection.execute(insert, rows)
            serial = (
                table["primary_key"] == ["id"]
                and kinds[table["columns"].index("id")] == "plain"
                and (table["types"][table["columns"].index("id")].upper() == "INTEGER")
            )
            if postgresql and serial:  # rows went in with their ids: move the sequence past them
                connection.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {quote(name)}), false)"
                    )
                )
    engine.dispose()


def _dump() -> dict[str, Any]:
    dump: dict[str, Any] = json.loads(DUMP.read_text(encoding="utf-8"))
    assert dump["format"] == "chengxin-legacy-dump/1" and dump["schema_revision"] == "0009"
    return dump


def _column(dump: Mapping[str, Any], table: str, column: str) -> list[Any]:
    t = dump["tables"][table]
    index = t["columns"].index(column)
    return [row[index] for row in t["rows"]]


def test_a_database_of_revision_0009_upgrades_and_every_chain_verifies(database_url: str) -> None:
    dump = _dump()
    _load(dump, database_url)
    engine, before, after = Engine.init(database_url)
    with engine:
        assert (before, after) == ("0009", storage_db.head_revision())
        report = audit.verify(engine.registry, engine.histories(), real_time=False)
        assert report.intact, report.problems
        assert (report.records, report.events) == (29, 209)
        for _record, events in engine.histories():
            assert audit.replay(engine.registry, events) == []
        # every case keeps its id, and now says what kind of case it is
        rows = engine.query(limit=1000)
        assert sorted(v.id for v in rows) == sorted(_column(dump, "record", "id"))
        kinds = {v.id: v.kind for v in rows}
        names = dict(
            zip(_column(dump, "record", "id"), _column(dump, "record", "definition_name"), strict=True)
        )
        assert {kinds[i] for i, n in names.items() if n == "supervision"} == {"supervision_round"}
        assert {kinds[i] for i, n in names.items() if n != "supervision"} == {"record"}
        # the stored definitions now match the bundled files: no version reads as changed
        assert engine.registry.conflicts == []
        # the indexed columns kept their values under their new names
        court = list(engine.query(unit="hexi-court", limit=1000))
        assert court and all(
            v.data["finding_unit"] == "hexi-court" or v.data["responsible_unit"] == "hexi-court"
            for v in court
        )


def test_an_upgraded_database_goes_on_working_with_new_ids_for_new_kinds(database_url: str) -> None:
    _load(_dump(), database_url)
    Engine.init(database_url)[0].close()
    with Engine.open(database_url) as engine:
        recorder = Actor(id="li.lei", role="recorder", unit="hexi-court")
        draft = next(v for v in engine.query(state="draft", definition="national", limit=10))
        fired = engine.fire(draft.id, "submit", actor=recorder)
        assert fired.state == "submitted"
        engine.advance_clock(engine.clock.now() + dt.timedelta(days=200))
        assert engine.sweep().errors == []
        opened = open_due_rounds(engine).opened
        assert opened and all(rid.startswith("DC") for rid in opened)
        assert audit.verify(engine.registry, engine.histories(), real_time=False).intact


def test_revision_0010_goes_down_and_up_again_with_the_stored_definitions_as_they_were(
    database_url: str,
) -> None:
    dump = _dump()
    _load(dump, database_url)
    engine = storage_db.create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(storage_db.MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "0010")
    command.downgrade(config, "0009")
    with engine.connect() as connection:
        stored = {
            (n, v): (s, json.loads(b))
            for n, v, s, b in connection.execute(
                sa.text("SELECT name, version, sha256, body FROM workflow_definition")
            )
        }
        columns = {c["name"] for c in sa.inspect(connection).get_columns("record")}
    wanted = {
        (n, v): (s, json.loads(b))
        for n, v, s, b in zip(
            *(_column(dump, "workflow_definition", c) for c in ("name", "version", "sha256", "body")),
            strict=True,
        )
    }
    assert stored == wanted
    assert {"finding_unit", "finding_date"} <= columns and "kind" not in columns
    command.upgrade(config, "head")
    engine.dispose()
    with Engine.open(database_url) as opened:
        assert audit.verify(opened.registry, opened.histories(), real_time=False).intact
