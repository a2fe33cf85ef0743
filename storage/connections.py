"""Connections to one database: read, write and snapshot transactions, and error translation.

Every part of the store (records, history, outbox, directory) borrows its connections from one
``Database``. SQLite write transactions take the write lock up front (``BEGIN IMMEDIATE``) so two
writers queue instead of failing half-way; a driver's "locked" or "busy" becomes ``StorageBusy``
and any other operational error ``DatabaseUnavailable``. Nothing here knows what the rows mean.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import db
from storage.coretables import (
    console_session_t,
    console_user_t,
    deadline_t,
    definition_t,
    event_t,
    holiday_t,
    import_t,
    meta_t,
    outbox_t,
    personal_t,
    query_log_t,
    record_state_t,
    record_t,
    reminder_t,
    report_input_t,
    token_t,
    unit_t,
    webhook_t,
)
from storage.errors import DatabaseUnavailable, StorageBusy
from storage.fastpath import FastPath

state_t = record_state_t

__all__ = [  # the parts of the store take the tables from here
    "INTEGRITY_ERRORS",
    "Database",
    "console_session_t",
    "console_user_t",
    "deadline_t",
    "definition_t",
    "event_t",
    "holiday_t",
    "meta_t",
    "outbox_t",
    "personal_t",
    "query_log_t",
    "record_state_t",
    "record_t",
    "reminder_t",
    "report_input_t",
    "state_t",
    "token_t",
    "unit_t",
    "webhook_t",
]


def _driver_errors(*, postgres: bool) -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The drivers' own integrity and operational errors (the fast path runs on their cursors).

    psycopg's are added when the first PostgreSQL database opens (``Database``), so a SQLite user
    does not pay for importing psycopg; ``except`` clauses read these names when they match.
    """
    import sqlite3

    integrity: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
    operational: tuple[type[Exception], ...] = (sqlite3.OperationalError,)
    if postgres:
        import psycopg

        integrity, operational = (
            (*integrity, psycopg.IntegrityError),
            (*operational, psycopg.OperationalError),
        )
    return integrity, operational


def _errors_of(*, postgres: bool) -> None:
    global DRIVER_INTEGRITY, DRIVER_OPERATIONAL, INTEGRITY_ERRORS, OPERATIONAL_ERRORS  # noqa: PLW0603 - see _driver_errors
    DRIVER_INTEGRITY, DRIVER_OPERATIONAL = _driver_errors(postgres=postgres)
    INTEGRITY_ERRORS = (IntegrityError, *DRIVER_INTEGRITY)
    OPERATIONAL_ERRORS = (OperationalError, *DRIVER_OPERATIONAL)


DRIVER_INTEGRITY: tuple[type[Exception], ...] = ()
DRIVER_OPERATIONAL: tuple[type[Exception], ...] = ()
INTEGRITY_ERRORS: tuple[type[Exception], ...] = ()
OPERATIONAL_ERRORS: tuple[type[Exception], ...] = ()
_errors_of(postgres="psycopg" in sys.modules)


class Database:
    """One database's engine, its compiled fast-path statements, and its kinds of transaction.

    Thread-safe: every call takes a connection of its own from the pool.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        # SQLite has one writer at a time: threads of this process queue for it here, woken as
        # soon as it is free, instead of sleeping in SQLite's busy handler (which backs off up to
        # 100 ms a try). Other processes still wait through busy_timeout.
        self._writer: Any = threading.RLock() if self.backend == "sqlite" else nullcontext()
        if self.backend == "postgresql" and len(DRIVER_INTEGRITY) == 1:
            _errors_of(postgres=True)
        self.fast = FastPath(
            engine,
            {
                "record": record_t,
                "record_event": event_t,
                "record_state": state_t,
                "deadline": deadline_t,
                "outbox": outbox_t,
                "deadline_reminder": reminder_t,
                "record_personal": personal_t,
                "webhook_subscription": webhook_t,
                "query_log": query_log_t,
                "api_token": token_t,
                "record_import": import_t,
            },
        )

    def close(self) -> None:
        self.engine.dispose()

    def translate(self, exc: Exception) -> Exception:
        """The storage error a driver's operational error stands for."""
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        if "locked" in detail.lower() or "busy" in detail.lower():
            return StorageBusy(detail)
        return DatabaseUnavailable(db.redact(str(self.engine.url)), detail)

    def bytewise(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        """Order text by code point, as Python does, whatever the database's locale."""
        return column.collate("C") if self.backend == "postgresql" else column

    # ---------------------------------------------------------------- SQLAlchemy

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection, connection.begin():
                yield connection
        except OperationalError as exc:
            raise self.translate(exc) from exc

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it holds the write lock from its first statement."""
        try:
            with self._writer, self.engine.connect() as plain:
                connection = (
                    plain.execution_options(sqlite_begin="IMMEDIATE") if self.backend == "sqlite" else plain
                )
                with connection.begin():
                    yield connection
        except OperationalError as exc:
            raise self.translate(exc) from exc

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One consistent read snapshot for several queries (repeatable read on PostgreSQL)."""
        try:
            with self.engine.connect() as plain:
                c = (
                    plain.execution_options(isolation_level="REPEATABLE READ")
                    if self.backend == "postgresql"
                    else plain
                )
                with c.begin():
                    yield c
        except OperationalError as exc:
            raise self.translate(exc) from exc

    # ------------------------------------------------------------ driver (fast path)

    @contextmanager
    def pooled(self) -> Iterator[Any]:
        """A pooled driver connection without an explicit transaction (fast-path reads; a
        command's optimistic read, whose write checks the version it read)."""
        try:
            raw = self.engine.raw_connection()
        except OPERATIONAL_ERRORS as exc:
            raise self.translate(exc) from exc
        try:
            yield raw
        except OPERATIONAL_ERRORS as exc:
            raise self.translate(exc) from exc
        finally:
            raw.close()  # back to the pool, which ends any implicit read transaction

    @contextmanager
    def transaction(self, raw: Any) -> Iterator[Any]:
        """A write transaction on a checked-out driver connection; committed when the block ends."""
        with self._writer:
            yield from self._transaction(raw)

    def _transaction(self, raw: Any) -> Iterator[Any]:
        try:
            if self.backend == "sqlite":
                cursor = raw.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                cursor.close()
            yield raw
            raw.commit()
        except OPERATIONAL_ERRORS as exc:
            raw.rollback()
            raise self.translate(exc) from exc
        except BaseException:
            raw.rollback()
            raise

    @contextmanager
    def raw_writing(self) -> Iterator[Any]:
        """A write transaction on a pooled driver connection of its own."""
        with self.pooled() as raw, self.transaction(raw):
            yield raw

    @contextmanager
    def streamed_snapshot(self) -> Iterator[tuple[Callable[..., Any], FastPath]]:
        """Driver cursors on one consistent snapshot, fetching in batches.

        ``open_cursor(name)`` on PostgreSQL is a server-side cursor on this snapshot's connection;
        ``open_cursor(name, streamed=True)`` runs its query on a second connection that imports
        the same snapshot (``SET TRANSACTION SNAPSHOT``, as pg_dump does) and streams the rows as
        the server produces them (psycopg ``stream``), instead of a round trip per batch during
        which the server waits for the client and the client for the server. On SQLite both are
        cursors of one read transaction.
        """
        raws: list[Any] = []
        opened: list[Any] = []
        postgresql = self.backend == "postgresql"

        def connect() -> Any:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            raws.append((raw, driver.isolation_level if postgresql else None))
            if postgresql:
                import psycopg

                driver.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            return driver

        snapshot: list[str] = []
        try:
            driver = connect()

            def open_cursor(name: str, *, streamed: bool = False) -> Any:
                if not postgresql:
                    cursor = driver.cursor()
                elif not streamed:
                    cursor = driver.cursor(name=name)
                else:
                    if not snapshot:
                        snapshot.append(driver.execute("SELECT pg_export_snapshot()").fetchone()[0])
                    second = connect()
                    second.execute(f"SET TRANSACTION SNAPSHOT '{snapshot[0]}'")
                    cursor = _StreamedCursor(second.cursor())
                opened.append(cursor)
                return cursor

            if not postgresql:
                driver.execute("BEGIN")
            yield open_cursor, self.fast
        except OPERATIONAL_ERRORS as exc:
            raise self.translate(exc) from exc
        finally:
            for cursor in opened:
                cursor.close()
            for raw, previous in raws:
                raw.rollback()
                if postgresql:
                    raw.driver_connection.isolation_level = previous
                raw.close()


class _StreamedCursor:
    """``execute`` and ``fetchmany`` over psycopg's ``stream``: rows arrive as the server sends them."""

    def __init__(self, cursor: Any, chunk: int = 500) -> None:
        self._cursor = cursor
        self._chunk = chunk
        self._stream: Any = None
        self._rows: Iterator[Any] = iter(())

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._stream = self._cursor.stream(sql, params, size=self._chunk)
        first = list(itertools.islice(self._stream, 1))  # sends the query: the columns are known
        self._rows = itertools.chain(first, self._stream)

    def fetchmany(self, size: int) -> list[Any]:
        return list(itertools.islice(self._rows, size))

    @property
    def description(self) -> Any:
        return self._cursor.description or ()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()  # a stream left early: psycopg cancels the rest of the query
        self._cursor.close()
