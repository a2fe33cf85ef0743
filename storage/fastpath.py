"""The hot path of a command: its few statements run on the driver's cursor, not through SQLAlchemy.

A command reads one record and writes a handful of rows. Building, hashing and processing a
SQLAlchemy statement costs several times what SQLite takes to run it, so the statements of
that path are compiled once per database (by SQLAlchemy, from the Core tables, so the SQL
stays the one the schema defines) and executed on the DBAPI cursor, with the column types'
conversions done here. Everything else in ``storage`` uses SQLAlchemy as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from storage.coretables import UTCDateTime

UTC = dt.UTC


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


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; every time must be timezone-aware")
    return value.astimezone(UTC)


def _sqlite_time_out(value: dt.datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text (2026-05-11 01:00:00.000000, UTC): isoformat cut before the
    # offset, a fifth of strftime's time
    return _aware(value).isoformat(" ", "microseconds")[:26]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_time_in(value: str | dt.datetime) -> dt.datetime:
    return _utc(dt.datetime.fromisoformat(value) if isinstance(value, str) else value)


def _json_in(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _sqlite_date_out(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _date_in(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _same(value: Any) -> Any:
    return value


class Codec:
    """Python values to and from one backend's driver values, per column kind: one converter
    function per kind and direction, chosen once, so a statement's parameters and a row's
    columns are each one call."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.outs: dict[str, Callable[[Any], Any]]
        self.intos: dict[str, Callable[[Any], Any]] = {"json": _json_in, "bool": bool, "date": _date_in}
        if backend == "postgresql":
            from psycopg.types.json import Json

            self.outs = {"json": lambda value: Json(value, dumps=_dumps), "time": _aware, "bool": bool}
            self.outs["date"] = _same
            self.intos["time"] = _utc
        else:
            self.outs = {"json": _dumps, "time": _sqlite_time_out, "bool": int, "date": _sqlite_date_out}
            self.intos["time"] = _sqlite_time_in

    def out(self, kind: str, value: Any) -> Any:
        if value is None or kind == "plain":
            return value
        return self.outs[kind](value)


class Statement:
    """One statement compiled for one backend, with the converters of its typed parameters."""

    def __init__(self, sql: str, kinds: Mapping[str, str], codec: Codec, fixed: Mapping[str, Any]) -> None:
        self.sql = sql
        self.codec = codec
        self.fixed = dict(fixed)  # values SQLAlchemy bound itself (a LIMIT, say)
        self.converters = {name: codec.outs[kind] for name, kind in kinds.items() if kind != "plain"}

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        params = {**self.fixed, **values} if self.fixed else dict(values)
        converters = self.converters
        for name, value in values.items():
            if value is not None:
                convert = converters.get(name)
                if convert is not None:
                    params[name] = convert(value)
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
        self.kinds = {name: dict(columns) for name, columns in self.columns.items()}
        self._readers: dict[tuple[str, tuple[str, ...]], Callable[[Sequence[Any]], dict[str, Any]]] = {}

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
        key = ("insert", table, tuple(keys))
        found = self._cache.get(key)
        if found is not None:
            return found
        kinds = dict(self.columns[table])
        return self._compile(key, lambda: sa.insert(self.tables[table]), kinds, keys)

    def update(self, table: str, keys: Sequence[str], where: Sequence[str]) -> Statement:
        """``UPDATE table SET k = :p_k … WHERE w = :w_w …`` (parameters named p_… and w_…)."""
        found = self._cache.get(("update", table, tuple(keys), tuple(where)))
        if found is not None:
            return found
        t = self.tables[table]
        kinds = {f"p_{n}": k for n, k in self.columns[table]} | {f"w_{n}": k for n, k in self.columns[table]}

        def build() -> Any:
            statement = sa.update(t).values({k: sa.bindparam(f"p_{k}") for k in keys})
            return statement.where(*(t.c[w] == sa.bindparam(f"w_{w}") for w in where))

        return self._compile(("update", table, tuple(keys), tuple(where)), build, kinds)

    def delete(self, table: str, where: Sequence[str]) -> Statement:
        found = self._cache.get(("delete", table, tuple(where)))
        if found is not None:
            return found
        t = self.tables[table]
        kinds = {f"w_{n}": k for n, k in self.columns[table]}
        return self._compile(
            ("delete", table, tuple(where)),
            lambda: sa.delete(t).where(*(t.c[w] == sa.bindparam(f"w_{w}") for w in where)),
            kinds,
        )

    def select(self, key: str, build: Any) -> Statement:
        return self._compile(("select", key), build, {})

    def statement(self, key: str, build: Any) -> Statement:
        """Any other statement (an upsert, say), built once; its parameters keep their values."""
        return self._compile(("statement", key), build, {})

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

    def start(self, connection: Any, statement: Statement, values: Mapping[str, Any]) -> Any:
        """Execute ``statement`` and hand back its open cursor (the caller reads its row count
        when the answer is in, and closes it): for pipeline mode."""
        cursor = self.cursor(connection)
        cursor.execute(statement.sql, statement.params(values))
        return cursor

    def run_many(self, connection: Any, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        cursor = self.cursor(connection)
        try:
            cursor.executemany(statement.sql, [statement.params(r) for r in rows])
        finally:
            cursor.close()

    def reader(self, table: str, description: Sequence[Any]) -> Callable[[Sequence[Any]], dict[str, Any]]:
        """A function from a driver row of ``table`` (columns as in ``description``) to its
        Python values; the typed columns and their converters are worked out once per shape."""
        names = tuple(d[0] for d in description)
        found = self._readers.get((table, names))
        if found is None:
            kinds, intos = self.kinds[table], self.codec.intos
            typed = [(i, intos[kinds[n]]) for i, n in enumerate(names) if kinds.get(n, "plain") != "plain"]

            def found(row: Sequence[Any]) -> dict[str, Any]:
                converted = list(row)
                for i, convert in typed:
                    value = converted[i]
                    if value is not None:
                        converted[i] = convert(value)
                return dict(zip(names, converted, strict=True))

            self._readers[(table, names)] = found
        return found

    def stream(self, cursor: Any, table: str, batch: int) -> Iterator[dict[str, Any]]:
        """Rows of an executed ``SELECT *`` of ``table``, fetched ``batch`` at a time and converted."""
        read = self.reader(table, cursor.description)
        while fetched := cursor.fetchmany(batch):
            yield from map(read, fetched)

    def rows_together(
        self, connection: Any, queries: Sequence[tuple[Statement, Mapping[str, Any], str]]
    ) -> list[list[dict[str, Any]]]:
        """The rows of several ``SELECT *`` statements (statement, values, table), each list
        converted as ``rows`` does. On PostgreSQL they go to the server together in one
        round trip (psycopg's pipeline mode), in the connection's transaction."""
        if self.backend != "postgresql" or len(queries) < 2:
            return [self.rows(connection, s, v, t) for s, v, t in queries]
        driver = getattr(connection, "driver_connection", None) or connection.connection.driver_connection
        cursors = [driver.cursor() for _ in queries]
        try:
            with driver.pipeline():
                for cursor, (statement, values, _table) in zip(cursors, queries, strict=True):
                    cursor.execute(
                        statement.sql, {**statement.fixed, **values} if statement.fixed else values
                    )
            found = []
            for cursor, (_statement, _values, table) in zip(cursors, queries, strict=True):
                read = self.reader(table, cursor.description)
                found.append([read(row) for row in cursor.fetchall()])
            return found
        finally:
            for cursor in cursors:
                cursor.close()

    def rows(
        self, connection: Any, statement: Statement, values: Mapping[str, Any], table: str
    ) -> list[dict[str, Any]]:
        """Every row of a ``SELECT *`` of ``table``, converted back to Python values."""
        cursor = self.cursor(connection)
        try:
            cursor.execute(statement.sql, {**statement.fixed, **values} if statement.fixed else values)
            read = self.reader(table, cursor.description)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        return [read(row) for row in fetched]
