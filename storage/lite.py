"""A read of a SQLite database on the ``sqlite3`` module alone: what ``record show`` and an
unfiltered ``record list`` read, without importing SQLAlchemy (a fifth of a second of a command's
start-up).

The statements are the ones the store runs (``storage.records``, ``storage.directory``): their
column lists are the fields of the stored values (``RECORD_COLUMNS``, ``DEADLINE_COLUMNS``), and
the typed columns and their conversions are ``KINDS`` here, which
``tests/storage/test_lite.py`` pins to the Core tables' types (``storage.coretables`` through
``storage.fastpath``) and whose rows it compares with the store's. Everything is read in one
read transaction; nothing here writes. Any other database, or any other query, goes through
``storage.store``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from storage.errors import DatabaseUnavailable, SchemaOutdated, StorageBusy
from storage.revision import head_revision
from storage.values import (
    RECORD_COLUMNS,
    Loaded,
    StoredDeadline,
    StoredDefinition,
    StoredHolidayTable,
    StoredRecord,
)

DEFAULT_URL = "sqlite:///chengxin.db"  # storage.db.DEFAULT_URL (a test checks they agree)
SQLITE_BUSY_TIMEOUT_MS = 30_000  # storage.db.SQLITE_BUSY_TIMEOUT_MS
DEADLINE_COLUMNS: tuple[str, ...] = tuple(StoredDeadline.__dataclass_fields__)

KINDS: dict[str, dict[str, str]] = {
    "record": {
        "tracks": "json",
        "data": "json",
        "actors": "json",
        "case_date": "date",
        "active": "bool",
        "overdue": "bool",
        "created_at": "time",
        "updated_at": "time",
    },
    "deadline": {
        "started_at": "time",
        "due_at": "time",
        "paused_at": "time",
        "provisional": "bool",
        "basis": "json",
        "closed_at": "time",
        "next_at": "time",
        "reminded": "json",
    },
    "holiday_table": {"provisional": "bool", "loaded_at": "time"},
}
"""The columns of each table read here that are not plain text or numbers, by kind."""

SORTS: dict[str, str] = {
    "created": "record.created_at, record.id",
    "-created": "record.created_at DESC, record.id DESC",
    "updated": "record.updated_at, record.id",
    "-updated": "record.updated_at DESC, record.id DESC",
    "id": "record.id",
    "-id": "record.id DESC",
}
"""The orders of an unfiltered page (``storage.records.Records.query``'s, bar ``due``)."""


def _time(value: str | dt.datetime) -> dt.datetime:
    # SQLAlchemy's SQLite DATETIME text, in UTC (storage.fastpath._sqlite_time_in)
    found = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return found.replace(tzinfo=dt.UTC) if found.tzinfo is None else found.astimezone(dt.UTC)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


CONVERT: dict[str, Callable[[Any], Any]] = {"json": _json, "bool": bool, "date": _date, "time": _time}


def sqlite_path(url: str | None) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (the default when None) that exists, else None:
    every other URL (PostgreSQL, a query string, memory, a missing file) is for ``storage.store``,
    which names what is wrong with it."""
    chosen = url or DEFAULT_URL
    if not chosen.startswith("sqlite:///") or "?" in chosen:
        return None
    database = chosen.removeprefix("sqlite:///")
    if not database or database == ":memory:" or "%" in database:
        return None
    path = Path(database)
    return path if path.is_file() else None


def _converter(table: str, names: Sequence[str]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    kinds = KINDS.get(table, {})
    typed = [(i, CONVERT[kinds[n]]) for i, n in enumerate(names) if n in kinds]

    def convert(row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for i, into in typed:
            if values[i] is not None:
                values[i] = into(values[i])
        return dict(zip(names, values, strict=True))

    return convert


class LiteReader:
    """One read transaction on a SQLite file (``open``), the schema checked to be current."""

    def __init__(self, path: Path, url: str) -> None:
        self.url = url
        try:
            self._connection = sqlite3.connect(path, isolation_level=None)
            self._connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    @classmethod
    @contextmanager
    def open(cls, path: Path, url: str) -> Iterator[LiteReader]:
        """The reader of ``path`` inside one read transaction, closed when the block ends.

        Raises:
            SchemaOutdated: the schema is missing or older than this chengxin.
            DatabaseUnavailable, StorageBusy: the file cannot be read.
        """
        reader = cls(path, url)
        try:
            reader._run("BEGIN")
            current = reader._revision()
            head = head_revision()
            if current != head:
                raise SchemaOutdated(current, head)
            yield reader
        finally:
            reader.close()

    def close(self) -> None:
        """End the read transaction and close the connection."""
        try:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
        finally:
            self._connection.close()

    def _translate(self, exc: Exception) -> Exception:
        detail = (str(exc).splitlines() or [""])[0]
        if "locked" in detail.lower() or "busy" in detail.lower():
            return StorageBusy(detail)
        return DatabaseUnavailable(self.url, detail)

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._connection.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc

    def _rows(self, table: str, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._run(sql, params)
        convert = _converter(table, [d[0] for d in cursor.description])
        try:
            return [convert(row) for row in cursor.fetchall()]
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc

    def _revision(self) -> str | None:
        present = self._run("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
        if present.fetchone() is None:
            return None
        found = self._run("SELECT version_num FROM alembic_version").fetchall()
        return str(found[0][0]) if len(found) == 1 else None

    # ----------------------------------------------------------- what opening reads

    def meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._run('SELECT "key", value FROM chengxin_meta').fetchall()}

    def definitions(self) -> list[StoredDefinition]:
        rows = self._run(
            "SELECT name, version, sha256, body FROM workflow_definition ORDER BY name, version"
        ).fetchall()
        return [StoredDefinition(name=n, version=v, sha256=s, body=b) for n, v, s, b in rows]

    def holiday_tables(self) -> list[StoredHolidayTable]:
        rows = self._rows(
            "holiday_table", "SELECT year, provisional, source, body FROM holiday_table ORDER BY year"
        )
        return [StoredHolidayTable(**row) for row in rows]

    # ----------------------------------------------------------------- cases

    def load(self, record_id: str) -> Loaded | None:
        """A case with all its deadlines (``storage.records.load``)."""
        found = self._rows(
            "record", f"SELECT {', '.join(RECORD_COLUMNS)} FROM record WHERE record.id = ?", (record_id,)
        )
        if not found:
            return None
        deadlines = self._rows(
            "deadline",
            f"SELECT {', '.join(DEADLINE_COLUMNS)} FROM deadline WHERE deadline.record_id = ? "
            "ORDER BY deadline.id",
            (record_id,),
        )
        return Loaded(
            StoredRecord(**found[0]),
            [StoredDeadline(**{**d, "reminded": tuple(d.get("reminded") or ())}) for d in deadlines],
        )

    def query(self, *, sort: str = "created", limit: int = 100, offset: int = 0) -> list[StoredRecord]:
        """One page of every case, in a ``SORTS`` order."""
        rows = self._rows(
            "record",
            f"SELECT {', '.join(RECORD_COLUMNS)} FROM record ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [StoredRecord(**row) for row in rows]

    def count(self) -> int:
        return int(self._run("SELECT count(*) FROM record").fetchone()[0])

    def next_due(self, record_ids: Sequence[str]) -> dict[str, tuple[dt.datetime, str]]:
        """The earliest open deadline of each case (``storage.records.Records.next_due``)."""
        if not record_ids:
            return {}
        found: dict[str, tuple[dt.datetime, str]] = {}
        marks = ", ".join("?" * len(record_ids))
        rows = self._run(
            f"SELECT record_id, due_at, name FROM deadline WHERE record_id IN ({marks}) "
            "AND closed_at IS NULL AND status IN ('active', 'expired') ORDER BY record_id, due_at",
            list(record_ids),
        ).fetchall()
        for record_id, due_at, name in rows:
            if record_id not in found and due_at is not None:
                found[record_id] = (_time(due_at), name)
        return found
