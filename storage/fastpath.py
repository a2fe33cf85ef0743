"""The hot path of a command: its few statements run on the driver's cursor, not through SQLAlchemy.

A command reads one record and writes a handful of rows. Building, hashing and processing a
SQLAlchemy statement costs several times what SQLite takes to run it, so the statements of
that path are compiled once per database (by SQLAlchemy, from the SQLModel tables, so the SQL
stays the one the schema defines) and executed on the DBAPI cursor, with the column types'
conversions done here. Everything else in ``storage`` uses SQLAlchemy as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from storage.tables import UTCDateTime

UTC = dt.UTC
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _dumps(value: Any) -> str:
    """JSON columns are written canonically (sorted keys, no spaces), so a history row's stored
    text is the text its hash was taken over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _kind(column: sa.Column[Any]) -> str:
    if isinstance(column.type, sa.JSON):
        return "json"
    if isinstance(column.type, UTCDateTime):
        return "time"
    if isinstance(column.type, sa.Boolean):
        return "bool"
    if isinstance(column.type, sa.Date):
        return "date"
    return "plain"


class Codec:
    """Python values to and from one backend's driver values, per column kind."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        if backend == "postgresql":
            from psycopg.types.json import Json

            self._json_out: Any = lambda value: Json(value, dumps=_dumps)
        else:
            self._json_out = _dumps

    def out(self, kind: str, value: Any) -> Any:
        if value is None or kind == "plain":
            return value
        if kind == "json":
            return self._json_out(value)
        if kind == "time":
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database; every time must be timezone-aware")
            value = value.astimezone(UTC)
            return value.strftime(SQLITE_TIME) if self.backend == "sqlite" else value
        if kind == "bool":
            return int(value) if self.backend == "sqlite" else bool(value)
        if kind == "date":
            return value.isoformat() if self.backend == "sqlite" and isinstance(value, dt.date) else value
        return value

    def into(self, kind: str, value: Any) -> Any:
        if value is None or kind == "plain":
            return value
        if kind == "json":
            return orjson.loads(value) if isinstance(value, str | bytes) else value
        if kind == "time":
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if kind == "bool":
            return bool(value)
        if kind == "date":
            return dt.date.fromisoformat(value) if isinstance(value, str) else value
        return value


class Statement:
    """One statement compiled for one backend, with the kinds of its parameters."""

    def __init__(self, sql: str, kinds: Mapping[str, str], codec: Codec, fixed: Mapping[str, Any]) -> None:
        self.sql = sql
        self.kinds = dict(kinds)
        self.codec = codec
        self.fixed = dict(fixed)  # values SQLAlchemy bound itself (a LIMIT, say)

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out = self.codec.out
        kinds = self.kinds
        params = {**self.fixed, **values}
        for name, value in values.items():
            kind = kinds.get(name, "plain")
            if kind != "plain" and value is not None:
                params[name] = out(kind, value)
        return params


class FastPath:
    """The compiled statements of a command, for one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, tables: Mapping[str, sa.Table]) -> None:
        self.backend = engine.dialect.name
        self.dialect = sqlite.dialect(paramstyle="named") if self.backend == "sqlite" else engine.dialect
        self.codec = Codec(self.backend)
        self.tables = tables
        self._cache: dict[Any, Statement] = {}
        self.columns = {name: [(c.name, _kind(c)) for c in table.c] for name, table in tables.items()}

    def _compile(
        self, key: Any, build: Any, kinds: Mapping[str, str], column_keys: Sequence[str] | None = None
    ) -> Statement:
        found = self._cache.get(key)
        if found is None:
            compiled = build().compile(
                dialect=self.dialect, column_keys=list(column_keys) if column_keys else None
            )
            fixed = {
                k: v for k, v in compiled.params.items() if v is not None and not k.startswith(("w_", "p_"))
            }
            found = self._cache[key] = Statement(str(compiled), kinds, self.codec, fixed)
        return found

    def insert(self, table: str, keys: Sequence[str]) -> Statement:
        kinds = dict(self.columns[table])
        return self._compile(
            ("insert", table, tuple(keys)), lambda: sa.insert(self.tables[table]), kinds, keys
        )

    def update(self, table: str, keys: Sequence[str], where: Sequence[str]) -> Statement:
        """``UPDATE table SET k = :p_k … WHERE w = :w_w …`` (parameters named p_… and w_…)."""
        t = self.tables[table]
        kinds = {f"p_{n}": k for n, k in self.columns[table]} | {f"w_{n}": k for n, k in self.columns[table]}

        def build() -> Any:
            statement = sa.update(t).values({k: sa.bindparam(f"p_{k}") for k in keys})
            return statement.where(*(t.c[w] == sa.bindparam(f"w_{w}") for w in where))

        return self._compile(("update", table, tuple(keys), tuple(where)), build, kinds)

    def delete(self, table: str, where: Sequence[str]) -> Statement:
        t = self.tables[table]
        kinds = {f"w_{n}": k for n, k in self.columns[table]}
        return self._compile(
            ("delete", table, tuple(where)),
            lambda: sa.delete(t).where(*(t.c[w] == sa.bindparam(f"w_{w}") for w in where)),
            kinds,
        )

    def select(self, key: str, build: Any) -> Statement:
        return self._compile(("select", key), build, {})

    # ---------------------------------------------------------------------- running

    @staticmethod
    def cursor(connection: Any) -> Any:
        """A driver cursor from an SQLAlchemy ``Connection`` or a pooled DBAPI connection."""
        if isinstance(connection, Connection):
            return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return connection.cursor()

    def run(self, connection: Any, statement: Statement, values: Mapping[str, Any]) -> int:
        cursor = self.cursor(connection)
        try:
            cursor.execute(statement.sql, statement.params(values))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, connection: Any, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        cursor = self.cursor(connection)
        try:
            cursor.executemany(statement.sql, [statement.params(r) for r in rows])
        finally:
            cursor.close()

    def stream(self, cursor: Any, table: str, batch: int) -> Iterator[dict[str, Any]]:
        """Rows of an executed ``SELECT *`` of ``table``, fetched ``batch`` at a time and converted."""
        names = [d[0] for d in cursor.description]
        kinds = dict(self.columns[table])
        into = self.codec.into
        typed = [(n, kinds[n]) for n in names if kinds.get(n, "plain") != "plain"]
        while True:
            fetched = cursor.fetchmany(batch)
            if not fetched:
                return
            for row in fetched:
                values = dict(zip(names, row, strict=True))
                for name, kind in typed:
                    value = values[name]
                    if value is not None:
                        values[name] = into(kind, value)
                yield values

    def rows(
        self, connection: Any, statement: Statement, values: Mapping[str, Any], table: str
    ) -> list[dict[str, Any]]:
        """Every row of a ``SELECT *`` of ``table``, converted back to Python values."""
        cursor = self.cursor(connection)
        try:
            cursor.execute(statement.sql, {**statement.fixed, **values})
            names = [d[0] for d in cursor.description]
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        kinds = dict(self.columns[table])
        into = self.codec.into
        typed = [(n, kinds[n]) for n in names if kinds.get(n, "plain") != "plain"]
        result = []
        for row in fetched:
            values = dict(zip(names, row, strict=True))
            for name, kind in typed:
                value = values[name]
                if value is not None:
                    values[name] = into(kind, value)
            result.append(values)
        return result
