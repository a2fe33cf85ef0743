"""The store: reads records and their histories, and commits a command's effects atomically.

A command's record update, history row, deadline rows, outbox mails and personal data are
written in one transaction, guarded by the record's version (optimistic concurrency): when
two writers read the same version, exactly one commits and the other gets
``VersionConflict``. The store never imports the engine; it speaks in ``storage.values``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError, OperationalError

from definitions.model import MAIN_TRACK
from storage import db
from storage.errors import (
    DatabaseUnavailable,
    DuplicateIdempotencyKey,
    DuplicateRecordId,
    SchemaOutdated,
    StorageBusy,
    VersionConflict,
)
from storage.fastpath import FastPath
from storage.tables import (
    Deadline,
    HistoryEvent,
    HolidayTableRow,
    Meta,
    Outbox,
    PersonalData,
    Record,
    RecordState,
    Reminder,
    SubjectQuery,
    Unit,
    WorkflowDefinition,
)
from storage.values import (
    CommandWrite,
    RawEvent,
    StoredDeadline,
    StoredEvent,
    StoredRecord,
)

record_t = Record.__table__  # type: ignore[attr-defined]
state_t = RecordState.__table__  # type: ignore[attr-defined]
event_t = HistoryEvent.__table__  # type: ignore[attr-defined]
deadline_t = Deadline.__table__  # type: ignore[attr-defined]
outbox_t = Outbox.__table__  # type: ignore[attr-defined]
meta_t = Meta.__table__  # type: ignore[attr-defined]
definition_t = WorkflowDefinition.__table__  # type: ignore[attr-defined]
personal_t = PersonalData.__table__  # type: ignore[attr-defined]
query_log_t = SubjectQuery.__table__  # type: ignore[attr-defined]
reminder_t = Reminder.__table__  # type: ignore[attr-defined]
holiday_t = HolidayTableRow.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

OPEN_DEADLINE = ("active", "paused", "expired")
_RECORD_COLUMNS = list(record_t.c)
_EVENT_COLUMNS = [c for c in event_t.c if c.name != "id"]

# Statements built once: a command executes the same few statements many times, and building
# and hashing a statement costs more than running it on SQLite.
_SELECT_RECORD = sa.select(record_t).where(record_t.c.id == sa.bindparam("w_id"))
_SELECT_RECORD_LOCKED = _SELECT_RECORD.with_for_update()
_SELECT_OPEN = (  # open: not closed (active, paused, or expired and still unmet)
    sa.select(deadline_t)
    .where(deadline_t.c.record_id == sa.bindparam("w_id"), deadline_t.c.closed_at.is_(None))
    .order_by(deadline_t.c.id)
)
_SELECT_ALL_DEADLINES = (
    sa.select(deadline_t).where(deadline_t.c.record_id == sa.bindparam("w_id")).order_by(deadline_t.c.id)
)
_CLAIM = (
    sa.select(deadline_t)
    .where(deadline_t.c.next_at <= sa.bindparam("w_now"))
    .order_by(deadline_t.c.next_at, deadline_t.c.id)
    .limit(sa.bindparam("w_limit", type_=sa.Integer))
)
_CLAIM_LOCKED = _CLAIM.with_for_update(skip_locked=True)
_INSERT_RECORD = sa.insert(record_t)
_UPDATE_RECORD = (
    sa.update(record_t)
    .where(record_t.c.id == sa.bindparam("w_id"), record_t.c.version == sa.bindparam("w_version"))
    .values({c.name: sa.bindparam(f"p_{c.name}") for c in record_t.c if c.name not in {"id", "created_at"}})
)
_INSERT_EVENT = sa.insert(event_t)
_DELETE_STATES = sa.delete(state_t).where(
    state_t.c.record_id == sa.bindparam("w_record"), state_t.c.track == sa.bindparam("w_track")
)
_INSERT_STATE = sa.insert(state_t)
_INSERT_DEADLINE = sa.insert(deadline_t)
_INSERT_OUTBOX = sa.insert(outbox_t)
_INSERT_REMINDER = sa.insert(reminder_t)
_DEADLINE_UPDATES: dict[frozenset[str], sa.Update] = {}


def _shallow(value: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass's fields as a dict, without the deep copy ``dataclasses.asdict`` makes."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__ if name not in exclude}


def _record(row: Row[Any]) -> StoredRecord:
    m = row._mapping
    return StoredRecord(**{c.name: m[c.name] for c in _RECORD_COLUMNS})


def _event(row: Row[Any]) -> StoredEvent:
    m = row._mapping
    values = {c.name: m[c.name] for c in _EVENT_COLUMNS}
    values["changes"] = tuple(tuple(change) for change in values["changes"])
    return StoredEvent(**values)


def _deadline(row: Row[Any]) -> StoredDeadline:
    values = dict(row._mapping)
    values["reminded"] = tuple(values.get("reminded") or ())
    return StoredDeadline(**values)


def _record_of(values: Mapping[str, Any]) -> StoredRecord:
    return StoredRecord(**{c.name: values[c.name] for c in _RECORD_COLUMNS})


def _event_of(values: Mapping[str, Any]) -> StoredEvent:
    fields = {c.name: values[c.name] for c in _EVENT_COLUMNS}
    fields["changes"] = tuple(tuple(change) for change in fields["changes"])
    return StoredEvent(**fields)


def _deadline_of(values: Mapping[str, Any]) -> StoredDeadline:
    return StoredDeadline(**{**values, "reminded": tuple(values.get("reminded") or ())})


def _driver_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The drivers' own integrity and operational errors (the fast path runs on their cursors)."""
    import sqlite3

    import psycopg

    return (sqlite3.IntegrityError, psycopg.IntegrityError), (
        sqlite3.OperationalError,
        psycopg.OperationalError,
    )


DRIVER_INTEGRITY, DRIVER_OPERATIONAL = _driver_errors()
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, *DRIVER_INTEGRITY)
OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (OperationalError, *DRIVER_OPERATIONAL)


E = TypeVar("E", StoredEvent, RawEvent)


def _aware(value: dt.datetime) -> dt.datetime:
    """Aggregates bypass the column type on SQLite and come back naive; they are UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


class Store:
    """Persistence for one database. Thread-safe: every call takes its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
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
            },
        )

    @classmethod
    def open(cls, url: str | None = None, *, require_schema: bool = True) -> Store:
        """Connect to ``url`` and check the schema is current.

        Raises:
            DatabaseUnavailable: the server cannot be reached or the file's folder is missing.
            SchemaOutdated: the schema is missing or older than this chengxin (run ``chengxin init``).
        """
        store = cls(db.create_engine(url))
        try:
            if require_schema:
                current, head = db.current_revision(store.engine), db.head_revision()
                if current != head:
                    raise SchemaOutdated(current, head)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- connections

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection, connection.begin():
                yield connection
        except OperationalError as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it holds the write lock from its first statement."""
        try:
            with self.engine.connect() as plain:
                connection = (
                    plain.execution_options(sqlite_begin="IMMEDIATE") if self.backend == "sqlite" else plain
                )
                with connection.begin():
                    yield connection
        except OperationalError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        if "locked" in detail.lower() or "busy" in detail.lower():
            return StorageBusy(detail)
        return DatabaseUnavailable(db.redact(str(self.engine.url)), detail)

    # ---------------------------------------------------------------------- meta

    def meta(self) -> dict[str, str]:
        with self.reading() as c:
            return {row.key: row.value for row in c.execute(sa.select(meta_t))}

    def set_meta_if_absent(self, values: Mapping[str, str]) -> dict[str, str]:
        """Insert the keys that are not set yet; returns every meta value afterwards."""
        with self.writing() as c:
            present = {row.key: row.value for row in c.execute(sa.select(meta_t))}
            missing = [{"key": k, "value": v} for k, v in values.items() if k not in present]
            if missing:
                c.execute(sa.insert(meta_t), missing)
            present.update({m["key"]: m["value"] for m in missing})
            return present

    def advance_meta(self, key: str, value: str, *, only_if_greater: bool = True) -> str:
        """Set a meta value that only moves forward (ISO timestamps compare as text); returns the value kept."""
        with self.writing() as c:
            current = c.execute(
                sa.select(meta_t.c.value).where(meta_t.c.key == key).with_for_update()
            ).scalar()
            if current is None:
                c.execute(sa.insert(meta_t).values(key=key, value=value))
                return value
            if only_if_greater and value <= current:
                return str(current)
            c.execute(sa.update(meta_t).where(meta_t.c.key == key).values(value=value))
            return value

    # --------------------------------------------------------------- definitions

    def stored_definition(self, name: str, version: int) -> tuple[str, str] | None:
        """(sha256, resolved JSON) of a definition version used by records, or None."""
        with self.reading() as c:
            row = c.execute(
                sa.select(definition_t.c.sha256, definition_t.c.body).where(
                    definition_t.c.name == name, definition_t.c.version == version
                )
            ).first()
        return (row.sha256, row.body) if row else None

    def stored_definitions(self) -> list[tuple[str, int, str, str]]:
        with self.reading() as c:
            rows = c.execute(sa.select(definition_t).order_by(definition_t.c.name, definition_t.c.version))
            return [(r.name, r.version, r.sha256, r.body) for r in rows]

    def register_definition(self, name: str, version: int, sha256: str, body: str, at: dt.datetime) -> str:
        """Store a definition version the first time a record uses it; returns the stored sha256."""
        with self.writing() as c:
            found = c.execute(
                sa.select(definition_t.c.sha256).where(
                    definition_t.c.name == name, definition_t.c.version == version
                )
            ).scalar()
            if found is not None:
                return str(found)
            c.execute(
                sa.insert(definition_t).values(
                    name=name, version=version, sha256=sha256, body=body, registered_at=at
                )
            )
            return sha256

    # ------------------------------------------------------------------- records

    def load(
        self, record_id: str, *, conn: Connection | None = None, lock: bool = False, session: Any = None
    ) -> tuple[StoredRecord, list[StoredDeadline]] | None:
        """A record and its open deadlines, read in one snapshot.

        Inside ``conn`` with ``lock`` the record row stays locked until that transaction ends
        (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already excludes other writers).
        On a ``session`` (see ``session``) the read takes no lock: the write checks the version.
        """
        if session is not None:
            try:
                return self._load(session, record_id, lock=False)
            except OPERATIONAL_ERRORS as exc:
                raise self._translate(exc) from exc
        if conn is None:
            with self._peeking() as c:
                return self._load(c, record_id, lock=False)
        return self._load(conn, record_id, lock=lock)

    @contextmanager
    def session(self) -> Iterator[Any]:
        """One pooled driver connection for a command: its read, then its write transaction
        (``commit(write, session=…)``). One checkout instead of two; on PostgreSQL that spares
        a ping and the read's own rollback, two round trips."""
        with self._peeking() as raw:
            yield raw

    @contextmanager
    def _peeking(self) -> Iterator[Any]:
        """A pooled driver connection for fast-path reads, without an explicit transaction.

        The command that reads a record this way writes it back only if its version is still
        the one read, so the two reads need no common snapshot.
        """
        try:
            raw = self.engine.raw_connection()
        except OPERATIONAL_ERRORS as exc:
            raise self._translate(exc) from exc
        try:
            yield raw
        except OPERATIONAL_ERRORS as exc:
            raise self._translate(exc) from exc
        finally:
            raw.close()  # back to the pool, which ends any implicit read transaction

    @contextmanager
    def raw_writing(self, session: Any = None) -> Iterator[Any]:
        """A write transaction on a pooled driver connection (the command's hot path), or on the
        ``session`` the command read through (which stays checked out)."""
        try:
            raw = self.engine.raw_connection() if session is None else session
        except OPERATIONAL_ERRORS as exc:
            raise self._translate(exc) from exc
        try:
            if self.backend == "sqlite":
                cursor = raw.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                cursor.close()
            yield raw
            raw.commit()
        except OPERATIONAL_ERRORS as exc:
            raw.rollback()
            raise self._translate(exc) from exc
        except BaseException:
            raw.rollback()
            raise
        finally:
            if session is None:
                raw.close()

    def _load(
        self, c: Any, record_id: str, *, lock: bool
    ) -> tuple[StoredRecord, list[StoredDeadline]] | None:
        locked = lock and self.backend == "postgresql"
        select = self.fast.select(
            "record+lock" if locked else "record", lambda: _SELECT_RECORD_LOCKED if locked else _SELECT_RECORD
        )
        rows = self.fast.rows(c, select, {"w_id": record_id}, "record")
        if not rows:
            return None
        opened = self.fast.rows(
            c, self.fast.select("open", lambda: _SELECT_OPEN), {"w_id": record_id}, "deadline"
        )
        return _record_of(rows[0]), [_deadline_of(d) for d in opened]

    def claim_due(self, c: Any, now: dt.datetime, *, exclude: Iterable[int] = ()) -> StoredDeadline | None:
        """Lock the earliest deadline with something due at ``now``, skipping rows other sweeps hold.

        The claim lasts as long as the caller's transaction: a sweep killed mid-item releases it.
        """
        skip = set(exclude)  # items that failed earlier in this sweep
        locked = self.backend == "postgresql"
        claim = self.fast.select(
            "claim+lock" if locked else "claim", lambda: _CLAIM_LOCKED if locked else _CLAIM
        )
        params = {"w_now": self.fast.codec.out("time", now), "w_limit": len(skip) + 1}
        rows = self.fast.rows(c, claim, params, "deadline")
        found = next((row for row in rows if row["id"] not in skip), None)
        return _deadline_of(found) if found else None

    def get(self, record_id: str) -> StoredRecord | None:
        with self.reading() as c:
            row = c.execute(_SELECT_RECORD, {"w_id": record_id}).first()
        return _record(row) if row else None

    def get_with_deadlines(self, record_id: str) -> tuple[StoredRecord, list[StoredDeadline]] | None:
        """A record and all its deadlines (closed ones too), in one read transaction."""
        with self._peeking() as c:
            rows = self.fast.rows(
                c, self.fast.select("record", lambda: _SELECT_RECORD), {"w_id": record_id}, "record"
            )
            if not rows:
                return None
            every = self.fast.select("deadlines", lambda: _SELECT_ALL_DEADLINES)
            deadlines = self.fast.rows(c, every, {"w_id": record_id}, "deadline")
        return _record_of(rows[0]), [_deadline_of(d) for d in deadlines]

    def event_by_key(self, key: str) -> StoredEvent | None:
        with self.reading() as c:
            row = c.execute(sa.select(event_t).where(event_t.c.idempotency_key == key)).first()
        return _event(row) if row else None

    def commit(self, write: CommandWrite, *, conn: Connection | None = None, session: Any = None) -> None:
        """Apply one command's effects in one transaction.

        Raises:
            VersionConflict: the record is no longer at ``write.record.expected_version``.
            DuplicateIdempotencyKey: the event's idempotency key was used before.
            DuplicateRecordId: a new record's id exists already.
            StorageBusy: the database stayed locked past the busy timeout.
        """
        rec = write.record
        ev = write.event
        try:
            if conn is not None:  # inside the caller's transaction (the sweep's claim)
                self._commit(conn, write)
                return
            with self.raw_writing(session) as c:
                self._commit(c, write)
        except DRIVER_OPERATIONAL as exc:
            raise self._translate(exc) from exc
        except INTEGRITY_ERRORS as exc:
            message = str(getattr(exc, "orig", exc)).lower()
            if "idempotency" in message:
                raise DuplicateIdempotencyKey(ev.idempotency_key or "") from exc
            if rec.expected_version is None and ("record.id" in message or "record_pkey" in message):
                raise DuplicateRecordId(rec.id) from exc
            if "uq_record_event_seq" in message or "record_event.record_id, record_event.seq" in message:
                raise VersionConflict(rec.id, rec.expected_version or 0, None) from exc
            raise

    def _commit(self, c: Any, write: CommandWrite) -> None:
        fast = self.fast
        rec = write.record
        ev = write.event
        values = _shallow(rec, exclude=("expected_version", "unchanged"))
        values["updated_at"] = ev.occurred_at
        if rec.expected_version is None:
            values["created_at"] = ev.occurred_at
            fast.run(c, fast.insert("record", list(values)), values)
        else:
            # Only the columns that changed are set, so indexes on the others are left alone.
            keys = [k for k in values if k != "id" and k not in rec.unchanged]
            params = {f"p_{k}": values[k] for k in keys} | {"w_id": rec.id, "w_version": rec.expected_version}
            if fast.run(c, fast.update("record", keys, ("id", "version")), params) != 1:
                now_at = fast.rows(
                    c, fast.select("record", lambda: _SELECT_RECORD), {"w_id": rec.id}, "record"
                )
                raise VersionConflict(rec.id, rec.expected_version, now_at[0]["version"] if now_at else None)
        event_values = _shallow(ev)
        event_values["changes"] = [list(change) for change in ev.changes]
        fast.run(c, fast.insert("record_event", list(event_values)), event_values)
        if ev.changes:
            self._write_states(c, rec.id, ev.changes)
        self._write_deadlines(c, write)
        if write.outbox:
            mails = [
                {
                    "cause": m.cause,
                    "record_id": rec.id,
                    "template": m.template,
                    "recipient_unit": m.recipient_unit,
                    "context": m.context,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": ev.occurred_at,
                    "message_id": m.message_id,
                    "created_at": ev.occurred_at,
                }
                for m in write.outbox
            ]
            fast.run_many(c, fast.insert("outbox", list(mails[0])), mails)
        if write.purge_personal:
            fast.run(c, fast.delete("record_personal", ("record_id",)), {"w_record_id": rec.id})
        for name, value in write.personal.items():
            fast.run(
                c,
                fast.delete("record_personal", ("record_id", "field")),
                {"w_record_id": rec.id, "w_field": name},
            )
            fast.run(
                c,
                fast.insert("record_personal", ["record_id", "field", "value"]),
                {"record_id": rec.id, "field": name, "value": value},
            )
        if write.reminders:
            rows = [
                {**_shallow(r), "record_id": rec.id, "fired_at": ev.occurred_at, "seq": ev.seq}
                for r in write.reminders
            ]
            fast.run_many(c, fast.insert("deadline_reminder", list(rows[0])), rows)

    def _write_states(self, c: Any, record_id: str, changes: Sequence[Sequence[Any]]) -> None:
        """Mirror the changed parallel tracks into ``record_state`` (the main track is ``record.state``):
        a moved track's row is updated in place (its key and the key index stay untouched: fewer
        pages to flush), a started track's row inserted, a stopped track's row deleted."""
        fast = self.fast
        inserts = []
        for track, before, after in changes:
            if track == MAIN_TRACK:
                continue
            if after is None:
                fast.run(
                    c,
                    fast.delete("record_state", ("record_id", "track")),
                    {"w_record_id": record_id, "w_track": track},
                )
                continue
            moved = before is not None and fast.run(
                c,
                fast.update("record_state", ["state"], ("record_id", "track")),
                {"p_state": after, "w_record_id": record_id, "w_track": track},
            )
            if not moved:  # a new track (or a row that was missing): insert it
                inserts.append({"record_id": record_id, "track": track, "state": after})
        fast.run_many(c, fast.insert("record_state", ["record_id", "track", "state"]), inserts)

    def _write_deadlines(self, c: Any, write: CommandWrite) -> None:
        fast = self.fast
        if write.deadline_inserts:
            defaults = {
                "record_id": write.record.id,
                "started_seq": write.event.seq,
                "extended": 0,
                "reminded": [],
            }
            rows = [{**_shallow(d), **defaults} for d in write.deadline_inserts]
            for columns in {tuple(r) for r in rows}:
                same = [r for r in rows if tuple(r) == columns]
                fast.run_many(c, fast.insert("deadline", list(columns)), same)
        for update in write.deadline_updates:
            keys = sorted(update.values)
            params = {f"p_{k}": update.values[k] for k in keys} | {"w_id": update.id}
            fast.run(c, fast.update("deadline", keys, ("id",)), params)

    # ------------------------------------------------------------------ history

    def history(self, record_id: str, *, until: dt.datetime | None = None) -> list[StoredEvent]:
        query = sa.select(event_t).where(event_t.c.record_id == record_id)
        if until is not None:
            query = query.where(event_t.c.occurred_at <= until)
        with self.reading() as c:
            return [_event(row) for row in c.execute(query.order_by(event_t.c.seq))]

    def _bytewise(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        """Order text by code point, as Python does, whatever the database's locale."""
        return column.collate("C") if self.backend == "postgresql" else column

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
            raise self._translate(exc) from exc

    def iter_histories(self, *, batch: int = 2000) -> Iterator[tuple[StoredRecord | None, list[StoredEvent]]]:
        """Every record with its history, streamed record by record from one snapshot (memory stays flat).

        A history whose record row is missing is yielded with ``None`` as the record.
        """
        with self._read_snapshot() as (open_cursor, fast):
            all_records = fast.select(
                "all records", lambda: sa.select(record_t).order_by(self._bytewise(record_t.c.id))
            )
            all_events = fast.select(
                "all events",
                lambda: sa.select(event_t).order_by(self._bytewise(event_t.c.record_id), event_t.c.seq),
            )
            records = open_cursor("chengxin_records")
            records.execute(all_records.sql)
            events = open_cursor("chengxin_events", streamed=True)
            events.execute(all_events.sql)
            yield from _merge_streams(
                (_record_of(r) for r in fast.stream(records, "record", batch)),
                (_event_of(e) for e in fast.stream(events, "record_event", batch)),
            )

    def iter_raw_histories(
        self, *, batch: int = 1000, after: str | None = None, upto: str | None = None
    ) -> Iterator[tuple[StoredRecord | None, list[RawEvent]]]:
        """Like ``iter_histories``, with history rows as ``RawEvent`` (JSON left as stored text).

        ``after`` / ``upto`` limit it to record ids in (after, upto] (code-point order), so that
        several processes can verify one database in parts.
        """
        text = sa.Text()
        sqlite = self.backend == "sqlite"
        # The time as the hash writes it. PostgreSQL formats it in the server, which costs far less
        # than building an aware datetime per row and formatting it again in Python.
        occurred_at = (
            event_t.c.occurred_at
            if sqlite
            else sa.literal_column(
                "to_char(record_event.occurred_at AT TIME ZONE 'UTC', "
                """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
            ).label("occurred_at")
        )
        columns = [
            event_t.c.record_id,
            event_t.c.seq,
            event_t.c.event,
            sa.cast(event_t.c.changes, text).label("changes"),
            event_t.c.actor,
            event_t.c.role,
            event_t.c.unit,
            sa.cast(event_t.c.payload, text).label("payload"),
            event_t.c.comment,
            sa.cast(event_t.c.effects, text).label("effects"),
            event_t.c.definition_name,
            event_t.c.definition_version,
            occurred_at,
            event_t.c.idempotency_key,
            event_t.c.prev_hash,
            event_t.c.hash,
        ]

        def bounded(query: Any, column: Any) -> Any:
            if after is not None:
                query = query.where(self._bytewise(column) > sa.bindparam("w_after"))
            if upto is not None:
                query = query.where(self._bytewise(column) <= sa.bindparam("w_upto"))
            return query

        bounds = {k: v for k, v in (("w_after", after), ("w_upto", upto)) if v is not None}
        shape = f"{after is not None}/{upto is not None}"
        with self._read_snapshot() as (open_cursor, fast):
            all_records = fast.select(
                f"records {shape}",
                lambda: bounded(sa.select(record_t), record_t.c.id).order_by(self._bytewise(record_t.c.id)),
            )
            raw_events = fast.select(
                f"raw events {shape}",
                lambda: bounded(sa.select(*columns), event_t.c.record_id).order_by(
                    self._bytewise(event_t.c.record_id), event_t.c.seq
                ),
            )
            records = open_cursor("chengxin_records")
            records.execute(all_records.sql, bounds)
            events = open_cursor("chengxin_raw_events", streamed=True)
            events.execute(raw_events.sql, bounds)

            def raw_rows() -> Iterator[RawEvent]:
                from_row = RawEvent.from_row
                while fetched := events.fetchmany(batch):
                    if not sqlite:  # formatted by the server already
                        yield from map(from_row, fetched)
                        continue
                    for row in fetched:
                        values = list(row)
                        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
                        values[12] = values[12].replace(" ", "T", 1) + "+00:00"
                        yield from_row(values)

            yield from _merge_streams(
                (_record_of(r) for r in fast.stream(records, "record", max(1, batch // 10))), raw_rows()
            )

    def split_points(self, parts: int) -> list[str]:
        """Record ids that cut the records into ``parts`` runs of about equal length."""
        with self.reading() as c:
            total = int(c.execute(sa.select(sa.func.count()).select_from(record_t)).scalar_one())
            points: list[str] = []
            for index in range(1, parts):
                found = c.execute(
                    sa.select(record_t.c.id)
                    .order_by(self._bytewise(record_t.c.id))
                    .offset(total * index // parts)
                    .limit(1)
                ).scalar()
                if found is not None and (not points or found > points[-1]):
                    points.append(str(found))
            return points

    @contextmanager
    def _read_snapshot(self) -> Iterator[tuple[Callable[..., Any], FastPath]]:
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

        driver = connect()
        snapshot: list[str] = []

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

        try:
            if not postgresql:
                driver.execute("BEGIN")
            yield open_cursor, self.fast
        except OPERATIONAL_ERRORS as exc:
            raise self._translate(exc) from exc
        finally:
            for cursor in opened:
                cursor.close()
            for raw, previous in raws:
                raw.rollback()
                if postgresql:
                    raw.driver_connection.isolation_level = previous
                raw.close()

    def heads(self) -> Iterator[tuple[str, int, str]]:
        """(record id, last seq, last hash) for every record, taken from the history rows."""
        with self.snapshot() as c:
            last = (
                sa.select(event_t.c.record_id, sa.func.max(event_t.c.seq).label("seq"))
                .group_by(event_t.c.record_id)
                .subquery()
            )
            query = (
                sa.select(event_t.c.record_id, event_t.c.seq, event_t.c.hash)
                .join(last, sa.and_(last.c.record_id == event_t.c.record_id, last.c.seq == event_t.c.seq))
                .order_by(self._bytewise(event_t.c.record_id))
            )
            for row in c.execution_options(stream_results=True, yield_per=5000).execute(query):
                yield row.record_id, row.seq, row.hash

    def iter_event_hashes(self) -> Iterator[tuple[str, int, str]]:
        """(record id, seq, hash) of every history row, in record and seq order, streamed."""
        with self.snapshot() as c:
            query = sa.select(event_t.c.record_id, event_t.c.seq, event_t.c.hash).order_by(
                self._bytewise(event_t.c.record_id), event_t.c.seq
            )
            for row in c.execution_options(stream_results=True, yield_per=5000).execute(query):
                yield row.record_id, row.seq, row.hash

    def event_at(self, record_id: str, seq: int) -> StoredEvent | None:
        with self.reading() as c:
            row = c.execute(
                sa.select(event_t).where(event_t.c.record_id == record_id, event_t.c.seq == seq)
            ).first()
        return _event(row) if row else None

    # -------------------------------------------------------------------- queries

    def query(
        self,
        *,
        state: str | None = None,
        track: str | None = None,
        unit: str | None = None,
        subject: str | None = None,
        subject_key: str | None = None,
        overdue_at: dt.datetime | None = None,
        active: bool | None = None,
        definition: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredRecord]:
        q = sa.select(record_t)
        if state is not None:
            if track is None or track == MAIN_TRACK:
                q = q.where(record_t.c.state == state)
            else:
                q = q.where(
                    sa.exists().where(
                        state_t.c.record_id == record_t.c.id,
                        state_t.c.track == track,
                        state_t.c.state == state,
                    )
                )
        if unit is not None:
            q = q.where(sa.or_(record_t.c.responsible_unit == unit, record_t.c.finding_unit == unit))
        if subject is not None:
            q = q.where(
                sa.or_(record_t.c.subject_code == subject.upper(), record_t.c.subject_name == subject)
            )
        if subject_key is not None:
            q = q.where(record_t.c.subject_key == subject_key)
        if active is not None:
            q = q.where(record_t.c.active == active)
        if definition is not None:
            q = q.where(record_t.c.definition_name == definition)
        if overdue_at is not None:
            late = sa.exists().where(
                deadline_t.c.record_id == record_t.c.id,
                deadline_t.c.closed_at.is_(None),  # a deadline that ran its course is not a late one
                sa.or_(
                    deadline_t.c.status == "expired",
                    sa.and_(deadline_t.c.status == "active", deadline_t.c.due_at < overdue_at),
                ),
            )
            q = q.where(sa.or_(record_t.c.overdue.is_(True), late))
        q = q.order_by(record_t.c.created_at, record_t.c.id).limit(limit).offset(offset)
        with self.reading() as c:
            return [_record(row) for row in c.execute(q)]

    def deadlines(self, record_id: str) -> list[StoredDeadline]:
        with self.reading() as c:
            rows = c.execute(
                sa.select(deadline_t).where(deadline_t.c.record_id == record_id).order_by(deadline_t.c.id)
            )
            return [_deadline(r) for r in rows]

    def definitions_in_use(self) -> dict[str, tuple[int, dt.datetime]]:
        """Per definition name: the newest version records use, and when the name was first used."""
        with self.reading() as c:
            rows = c.execute(
                sa.select(
                    definition_t.c.name,
                    sa.func.max(definition_t.c.version),
                    sa.func.min(definition_t.c.registered_at),
                ).group_by(definition_t.c.name)
            ).all()
        return {name: (version, _aware(since)) for name, version, since in rows}

    def distinct_units(
        self, definition_name: str, *, exclude_states: Sequence[str] = ()
    ) -> list[tuple[str, str | None]]:
        """(responsible unit, its superior unit) for every unit with a record of that definition not in a final state."""
        superior = record_t.c.data["superior_unit"].as_string()
        query = (
            sa.select(record_t.c.responsible_unit, sa.func.max(superior))
            .where(record_t.c.definition_name == definition_name, record_t.c.responsible_unit.is_not(None))
            .group_by(record_t.c.responsible_unit)
            .order_by(record_t.c.responsible_unit)
        )
        if exclude_states:
            query = query.where(record_t.c.state.not_in(list(exclude_states)))
        with self.reading() as c:
            return [(unit, sup) for unit, sup in c.execute(query)]

    def count_records(
        self,
        *,
        definition_name: str,
        unit: str,
        active: bool | None = None,
        track: str | None = None,
        state: str | None = None,
        exclude_states: Sequence[str] = (),
        sample: int = 50,
    ) -> tuple[int, list[str]]:
        """How many of a unit's records match, and up to ``sample`` of their ids."""
        where = [record_t.c.definition_name == definition_name, record_t.c.responsible_unit == unit]
        if active is not None:
            where.append(record_t.c.active == active)
        if exclude_states:
            where.append(record_t.c.state.not_in(list(exclude_states)))
        if track == MAIN_TRACK and state is not None:
            where.append(record_t.c.state == state)
        elif track is not None and state is not None:
            where.append(
                sa.exists().where(
                    state_t.c.record_id == record_t.c.id, state_t.c.track == track, state_t.c.state == state
                )
            )
        with self.reading() as c:
            total = c.execute(sa.select(sa.func.count()).select_from(record_t).where(*where)).scalar_one()
            ids = c.execute(
                sa.select(record_t.c.id).where(*where).order_by(record_t.c.id).limit(sample)
            ).scalars()
            return int(total), list(ids)

    def set_next_at(self, c: Any, deadline_id: int, when: dt.datetime | None) -> None:
        self.fast.run(
            c, self.fast.update("deadline", ["next_at"], ("id",)), {"p_next_at": when, "w_id": deadline_id}
        )

    # --------------------------------------------------------------------- units

    def units(self) -> list[dict[str, Any]]:
        with self.reading() as c:
            return [dict(r._mapping) for r in c.execute(sa.select(unit_t).order_by(unit_t.c.code))]

    def unit(self, code: str) -> dict[str, Any] | None:
        with self.reading() as c:
            row = c.execute(sa.select(unit_t).where(unit_t.c.code == code)).first()
        return dict(row._mapping) if row else None

    def units_by_code(self, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(set(codes))
        if not wanted:
            return {}
        with self.reading() as c:
            rows = c.execute(sa.select(unit_t).where(unit_t.c.code.in_(wanted)))
            return {r.code: dict(r._mapping) for r in rows}

    def save_units(self, units: Sequence[Mapping[str, Any]], at: dt.datetime) -> int:
        """Insert or replace units (code, name, superior, emails, contact) in one transaction."""
        with self.writing() as c:
            for unit in units:
                c.execute(sa.delete(unit_t).where(unit_t.c.code == unit["code"]))
                c.execute(sa.insert(unit_t).values(**unit, updated_at=at))
        return len(units)

    # -------------------------------------------------------------------- outbox

    def claim_outbox(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[dict[str, Any]]:
        """Mark up to ``limit`` due mails as being sent by this dispatcher, and return them.

        Due: queued, failed and due for a retry, or left ``sending`` by a dispatcher that died
        (claimed longer ago than ``lease``). Other dispatchers skip the rows this one locks.
        """
        due = sa.or_(
            sa.and_(outbox_t.c.status.in_(("queued", "failed")), outbox_t.c.next_attempt_at <= now),
            sa.and_(outbox_t.c.status == "sending", outbox_t.c.claimed_at <= now - lease),
        )
        query = sa.select(outbox_t.c.id).where(due).order_by(outbox_t.c.id).limit(limit)
        if self.backend == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self.writing() as c:
            ids = list(c.execute(query).scalars())
            if not ids:
                return []
            c.execute(
                sa.update(outbox_t)
                .where(outbox_t.c.id.in_(ids))
                .values(status="sending", claimed_at=now, attempts=outbox_t.c.attempts + 1)
            )
            rows = c.execute(sa.select(outbox_t).where(outbox_t.c.id.in_(ids)).order_by(outbox_t.c.id))
            return [dict(r._mapping) for r in rows]

    def mark_outbox(self, outbox_id: int, **values: Any) -> None:
        """Record one mail's delivery (each in its own transaction: a crash loses no mark but the one in flight)."""
        keys = sorted(values)
        params = {f"p_{k}": values[k] for k in keys} | {"w_id": outbox_id}
        with self.raw_writing() as c:
            self.fast.run(c, self.fast.update("outbox", keys, ("id",)), params)

    def retry_outbox(self, *, ids: Sequence[int] = (), dead: bool = False, now: dt.datetime) -> int:
        """Put dead (or failed) mails back in the queue; returns how many."""
        where = []
        if ids:
            where.append(outbox_t.c.id.in_(list(ids)))
        if dead:
            where.append(outbox_t.c.status == "dead")
        else:
            where.append(outbox_t.c.status.in_(("dead", "failed")))
        with self.writing() as c:
            result = c.execute(
                sa.update(outbox_t)
                .where(*where)
                .values(status="queued", next_attempt_at=now, last_error=None)
            )
            return int(result.rowcount)

    def outbox_counts(self) -> dict[str, int]:
        with self.reading() as c:
            rows = c.execute(sa.select(outbox_t.c.status, sa.func.count()).group_by(outbox_t.c.status))
            return {status: int(n) for status, n in rows}

    def reminders(self, *, record_id: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(reminder_t).order_by(reminder_t.c.id)
        if record_id is not None:
            q = q.where(reminder_t.c.record_id == record_id)
        with self.reading() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def holiday_tables(self) -> list[tuple[int, bool, str, str]]:
        """(year, provisional, source, YAML text) of every table loaded into this database."""
        with self.reading() as c:
            rows = c.execute(sa.select(holiday_t).order_by(holiday_t.c.year))
            return [(r.year, r.provisional, r.source, r.body) for r in rows]

    def save_holiday_table(
        self, year: int, provisional: bool, source: str, body: str, at: dt.datetime
    ) -> None:
        with self.writing() as c:
            c.execute(sa.delete(holiday_t).where(holiday_t.c.year == year))
            c.execute(
                sa.insert(holiday_t).values(
                    year=year, provisional=provisional, source=source, body=body, loaded_at=at
                )
            )

    def provisional_deadlines(self) -> list[StoredDeadline]:
        with self.reading() as c:
            rows = c.execute(
                sa.select(deadline_t)
                .where(deadline_t.c.provisional.is_(True), deadline_t.c.status.in_(("active", "expired")))
                .order_by(deadline_t.c.id)
            )
            return [_deadline(r) for r in rows]

    def outbox(
        self, *, record_id: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        q = sa.select(outbox_t)
        if record_id is not None:
            q = q.where(outbox_t.c.record_id == record_id)
        if status is not None:
            q = q.where(outbox_t.c.status == status)
        with self.reading() as c:
            return [dict(r._mapping) for r in c.execute(q.order_by(outbox_t.c.id).limit(limit))]

    def personal(self, record_id: str) -> dict[str, str]:
        with self.reading() as c:
            rows = c.execute(sa.select(personal_t).where(personal_t.c.record_id == record_id))
            return {r.field: r.value for r in rows}

    def log_subject_query(
        self, *, at: dt.datetime, requester: str, purpose: str, subject: str, matches: int
    ) -> None:
        with self.writing() as c:
            c.execute(
                sa.insert(query_log_t).values(
                    at=at, requester=requester, purpose=purpose, subject=subject, matches=matches
                )
            )

    def count(self, table: str) -> int:
        tables = {"record": record_t, "record_event": event_t, "deadline": deadline_t, "outbox": outbox_t}
        with self.reading() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(tables[table])).scalar_one())


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


def _merge_streams(
    records: Iterator[StoredRecord], events: Iterator[E]
) -> Iterator[tuple[StoredRecord | None, list[E]]]:
    """Pair a record stream and an event stream, both ordered by record id."""
    record = next(records, None)
    event = next(events, None)
    while record is not None or event is not None:
        if event is not None and (record is None or event.record_id < record.id):
            orphan_id = event.record_id  # history rows whose record row is gone
            orphans = []
            while event is not None and event.record_id == orphan_id:
                orphans.append(event)
                event = next(events, None)
            yield None, orphans
            continue
        assert record is not None
        history = []
        while event is not None and event.record_id == record.id:
            history.append(event)
            event = next(events, None)
        yield record, history
        record = next(records, None)
