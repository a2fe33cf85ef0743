"""The append-only history: one case's events, an event by idempotency key, and the streamed
passes an auditor makes over every chain (raw rows with what hangs on each case, heads, hashes,
split points). The auditor's passes never stop at a row they cannot read: it is handed on as an
``Unreadable`` for verification to report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from storage.connections import Database, deadline_t, event_t, personal_t, record_t, reminder_t, state_t
from storage.coretables import UTCDateTime
from storage.records import record_of
from storage.values import (
    CaseRows,
    RawDeadline,
    RawEvent,
    RawReminder,
    StoredEvent,
    StoredRecord,
    Unreadable,
)

_EVENT_COLUMNS = [c.name for c in event_t.c if c.name != "id"]


def event_of(values: Mapping[Any, Any]) -> StoredEvent:
    fields = {name: values[name] for name in _EVENT_COLUMNS}
    fields["changes"] = tuple(tuple(change) for change in fields["changes"])
    return StoredEvent(**fields)


class History:
    """Reads of the history table; rows are written only by a command (``storage.records``)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def of(self, record_id: str, *, until: dt.datetime | None = None) -> list[StoredEvent]:
        """One case's events, oldest first (those that occurred up to ``until`` if given)."""
        query = sa.select(event_t).where(event_t.c.record_id == record_id)
        if until is not None:
            query = query.where(event_t.c.occurred_at <= until)
        with self.db.reading() as c:
            return [event_of(row._mapping) for row in c.execute(query.order_by(event_t.c.seq))]

    def by_key(self, key: str) -> StoredEvent | None:
        """The event written with an idempotency key, if any."""
        with self.db.reading() as c:
            row = c.execute(sa.select(event_t).where(event_t.c.idempotency_key == key)).first()
        return event_of(row._mapping) if row else None

    def count(self) -> int:
        with self.db.reading() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(event_t)).scalar_one())

    def iter_raw(
        self, *, batch: int = 1000, after: str | None = None, upto: str | None = None
    ) -> Iterator[tuple[StoredRecord | None, list[RawEvent]]]:
        """Every case with its history rows as stored (``RawEvent``: JSON left as text), streamed
        case by case from one snapshot, in code-point order of the ids (memory stays flat).

        ``after`` / ``upto`` limit it to ids in (after, upto], so that several processes can verify
        one database in parts. History rows whose case row is gone, or cannot be read, come with
        ``None`` (``cases`` says which).
        """
        for case in self.cases(batch=batch, after=after, upto=upto, complete=False):
            yield case.record, list(case.events)

    def cases(
        self,
        *,
        batch: int = 1000,
        after: str | None = None,
        upto: str | None = None,
        only: str | None = None,
        complete: bool = True,
    ) -> Iterator[CaseRows]:
        """Every case with everything stored about it that drives its behaviour — its row, its
        history rows as stored, its parallel tracks, deadlines, reminder log and personal data —
        streamed case by case from one snapshot in code-point order of the ids (memory stays flat).

        A row or column that cannot be read as what the engine writes there does not stop the
        stream: it comes as an ``Unreadable`` with its case. ``complete=False`` reads only the
        case rows and the history. ``after`` / ``upto`` limit the ids to (after, upto]; ``only``
        to one case.
        """
        database = self.db
        sqlite = database.backend == "sqlite"

        def bounded(query: Any, column: Any) -> Any:
            if after is not None:
                query = query.where(database.bytewise(column) > sa.bindparam("w_after"))
            if upto is not None:
                query = query.where(database.bytewise(column) <= sa.bindparam("w_upto"))
            if only is not None:
                query = query.where(column == sa.bindparam("w_only"))
            return query

        given = (("w_after", after), ("w_upto", upto), ("w_only", only))
        bounds = {k: v for k, v in given if v is not None}
        shape = "/".join(str(v is not None) for _k, v in given)
        with database.streamed_snapshot() as (open_cursor, fast):

            def run(name: str, table: Any, key: Any, order: Sequence[Any], columns: Any = None) -> Any:
                statement = fast.select(
                    f"{name} {shape}",
                    lambda: bounded(sa.select(*(columns or [table])), key).order_by(
                        database.bytewise(key), *order
                    ),
                )
                cursor = open_cursor(f"chengxin_{name}", streamed=name == "raw_events")
                cursor.execute(statement.sql, bounds)
                return cursor

            records = run("records", record_t, record_t.c.id, ())
            events = run("raw_events", event_t, event_t.c.record_id, (event_t.c.seq,), _raw_columns(sqlite))
            streams: dict[str, Iterator[tuple[str, Any]]] = {
                "record": _records(fast, records, max(1, batch // 10)),
                "events": _raw_events(events, batch),
            }
            if complete:
                by_record: tuple[tuple[str, sa.Table, tuple[Any, ...], list[Any], Any], ...] = (
                    ("state", state_t, (state_t.c.track,), [state_t.c.track, state_t.c.state], None),
                    (
                        "deadline",
                        deadline_t,
                        (deadline_t.c.name, deadline_t.c.started_seq),
                        _texts(deadline_t, RawDeadline._fields, sqlite),
                        RawDeadline,
                    ),
                    (
                        "deadline_reminder",
                        reminder_t,
                        (reminder_t.c.id,),
                        _texts(reminder_t, RawReminder._fields, sqlite),
                        RawReminder,
                    ),
                    (
                        "record_personal",
                        personal_t,
                        (personal_t.c.field,),
                        [personal_t.c.field, personal_t.c.value],
                        None,
                    ),
                )
                for name, table, order, columns, row_shape in by_record:
                    case_id = table.c.record_id
                    cursor = run(
                        name, table, case_id, order, [case_id, *columns] if row_shape is None else columns
                    )
                    streams[name] = _tuples(cursor, batch, row_shape)
            for found, group in _merge(streams):
                yield _case(found, group, complete)

    def heads(self) -> Iterator[tuple[str, int, str]]:
        """(case id, last seq, last hash) for every case, taken from the history rows."""
        with self.db.snapshot() as c:
            last = (
                sa.select(event_t.c.record_id, sa.func.max(event_t.c.seq).label("seq"))
                .group_by(event_t.c.record_id)
                .subquery()
            )
            query = (
                sa.select(event_t.c.record_id, event_t.c.seq, event_t.c.hash)
                .join(last, sa.and_(last.c.record_id == event_t.c.record_id, last.c.seq == event_t.c.seq))
                .order_by(self.db.bytewise(event_t.c.record_id))
            )
            for row in c.execution_options(stream_results=True, yield_per=5000).execute(query):
                yield row.record_id, row.seq, row.hash

    def hashes(self) -> Iterator[tuple[str, int, str]]:
        """(case id, seq, hash) of every history row, in id and seq order, streamed."""
        with self.db.snapshot() as c:
            query = sa.select(event_t.c.record_id, event_t.c.seq, event_t.c.hash).order_by(
                self.db.bytewise(event_t.c.record_id), event_t.c.seq
            )
            for row in c.execution_options(stream_results=True, yield_per=5000).execute(query):
                yield row.record_id, row.seq, row.hash

    def split_points(self, parts: int) -> list[str]:
        """Case ids that cut the cases into ``parts`` runs of about equal length."""
        with self.db.reading() as c:
            total = int(c.execute(sa.select(sa.func.count()).select_from(record_t)).scalar_one())
            points: list[str] = []
            for index in range(1, parts):
                found = c.execute(
                    sa.select(record_t.c.id)
                    .order_by(self.db.bytewise(record_t.c.id))
                    .offset(total * index // parts)
                    .limit(1)
                ).scalar()
                if found is not None and (not points or found > points[-1]):
                    points.append(str(found))
            return points


READ_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
)  # what a malformed value raises
CANONICAL_SQLITE_TIME = 26  # 'YYYY-MM-DD HH:MM:SS.ffffff', as SQLAlchemy and the fast path write it


def _raw_columns(sqlite: bool) -> list[Any]:
    """The columns of a history row as ``RawEvent`` takes them (JSON as text)."""
    text = sa.Text()
    # The time as the hash writes it. PostgreSQL formats it in the server, which costs far less
    # than building an aware datetime per row and formatting it again in Python.
    occurred_at = (
        _sqlite_event_time()
        if sqlite
        else sa.literal_column(
            "to_char(record_event.occurred_at AT TIME ZONE 'UTC', "
            """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
        ).label("occurred_at")
    )
    return [
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
        event_t.c.mac,
    ]


def _sqlite_event_time() -> Any:
    """A history row's time on SQLite, turned into the text the hash was taken over in the query
    (cheaper than in Python, row by row). SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); any other
    value was not written by the engine and is handed on as stored, for verification to report."""
    column = "record_event.occurred_at"
    return sa.literal_column(
        f"CASE WHEN typeof({column}) = 'text' AND length({column}) = {CANONICAL_SQLITE_TIME} "
        f"AND substr({column}, 11, 1) = ' ' THEN substr({column}, 1, 10) || 'T' || "
        f"substr({column}, 12) || '+00:00' ELSE {column} END"
    ).label("occurred_at")


_AT = 12  # where a history row's time is in ``_raw_columns``
_FIRST = itemgetter(0)


def _raw_events(cursor: Any, batch: int) -> Iterator[tuple[str, list[RawEvent]]]:
    """(case id, rows) of every case's history rows, as ``RawEvent``, grouped by case as the
    query orders them (one item per run of rows of a case in a batch: ``_merge`` joins the runs
    of a case that a batch boundary splits). Built in C (``map``, ``groupby``), not row by row."""
    make = partial(tuple.__new__, RawEvent)
    time_of = itemgetter(_AT)
    while fetched := cursor.fetchmany(batch):
        if set(map(type, map(time_of, fetched))) != {str}:
            fetched = [_time_shown(row) for row in fetched]
        for found, rows in groupby(map(make, fetched), _FIRST):
            yield (found if type(found) is str else str(found)), list(rows)


def _time_shown(row: Sequence[Any]) -> Sequence[Any]:
    """A history row whose time is not text (not written by the engine), its value shown as text."""
    at = row[_AT]
    return row if type(at) is str else (*row[:_AT], repr(at), *row[_AT + 1 :])


def _text_time(table: sa.Table, name: str, sqlite: bool) -> Any:
    """A time column as UTC ISO text, the way a history row's time is written. SQLite keeps
    'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); a value stored in any other form is handed on as stored."""
    column = f"{table.name}.{name}"
    if sqlite:
        sql = (
            f"CASE WHEN length({column}) = {CANONICAL_SQLITE_TIME} THEN substr({column}, 1, 10) || 'T' || "
            f"substr({column}, 12) || '+00:00' ELSE {column} END"
        )
    else:
        sql = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return sa.literal_column(sql).label(name)


def _texts(table: sa.Table, names: Sequence[str], sqlite: bool) -> list[Any]:
    """The columns ``names`` of ``table`` as ``RawDeadline`` / ``RawReminder`` take them: times as
    text, JSON as text, the rest as the driver reads them."""
    columns: list[Any] = []
    for name in names:
        column = table.c[name]
        if isinstance(column.type, UTCDateTime):
            columns.append(_text_time(table, name, sqlite))
        elif isinstance(column.type, sa.JSON):
            columns.append(sa.cast(column, sa.Text()).label(name))
        else:
            columns.append(column)
    return columns


def _tuples(cursor: Any, batch: int, shape: Any) -> Iterator[tuple[str, list[Any]]]:
    """(case id, rows) of every case's rows, as ``shape`` (a NamedTuple with ``record_id``) or as
    the tuple after the case id, grouped by case as ``_raw_events`` groups them."""
    make = itemgetter(slice(1, None)) if shape is None else partial(tuple.__new__, shape)
    key = itemgetter(0 if shape is None else shape._fields.index("record_id"))
    while fetched := cursor.fetchmany(batch):
        for found, rows in groupby(fetched, key):
            yield (found if type(found) is str else str(found)), list(map(make, rows))


def _records(fast: Any, cursor: Any, batch: int) -> Iterator[tuple[str, list[Any]]]:
    """(case id, [record]) of every case row of an executed ``SELECT *``; a row that cannot be
    converted comes as a list of ``Unreadable``, one per column that cannot be read."""
    names = [d[0] for d in cursor.description]
    read = fast.reader("record", cursor.description)
    kinds, intos = fast.kinds["record"], fast.codec.intos
    at_key = names.index("id")
    while fetched := cursor.fetchmany(batch):
        for row in fetched:
            found = row[at_key]
            record_id = found if type(found) is str else str(found)
            try:
                item: Any = record_of(read(row))
            except READ_ERRORS as exc:
                item = _unreadable(record_id, names, row, kinds, intos, exc)
            yield record_id, [item]


def _unreadable(
    record_id: str,
    names: Sequence[str],
    row: Sequence[Any],
    kinds: Mapping[str, str],
    intos: Mapping[str, Any],
    error: Exception,
) -> list[Unreadable]:
    """Every column of a case row that cannot be read, and why."""
    found = []
    for name, value in zip(names, row, strict=True):
        convert = intos.get(kinds.get(name, "plain"))
        if value is None or convert is None:
            continue
        try:
            convert(value)
        except READ_ERRORS as exc:
            found.append(
                Unreadable(
                    table="record",
                    record_id=record_id,
                    row="row",
                    column=name,
                    value=_shown(value),
                    reason=str(exc),
                )
            )
    return found or [
        Unreadable(table="record", record_id=record_id, row="row", column="", value="", reason=str(error))
    ]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _merge(
    streams: Mapping[str, Iterator[tuple[str, list[Any]]]],
) -> Iterator[tuple[str, dict[str, list[Any]]]]:
    """Group several streams of (case id, items), each ordered by case id, by case id.

    A stream out of order (ids of mixed types written into SQLite by hand) only splits a case in
    two; every item is still handed on once.
    """
    heads: dict[str, tuple[str, list[Any]]] = {}
    for name, stream in streams.items():
        first = next(stream, None)
        if first is not None:
            heads[name] = first
    while heads:
        key = min(head[0] for head in heads.values())
        group: dict[str, list[Any]] = {}
        for name in list(heads):
            found, items = heads[name]
            if found != key:
                continue
            group[name] = items
            stream = streams[name]
            while True:
                following = next(stream, None)
                if following is None:
                    del heads[name]
                    break
                if following[0] != key:
                    heads[name] = following
                    break
                items.extend(following[1])  # the same id again: a batch boundary, or ids of mixed types
        yield key, group


def _case(key: str, group: Mapping[str, list[Any]], complete: bool) -> CaseRows:
    unreadable: list[Unreadable] = []
    record: StoredRecord | None = None
    for found in group.get("record", ()):
        if isinstance(found, list):
            unreadable.extend(found)
        else:
            record = found
    return CaseRows(
        id=key,
        record=record,
        events=group.get("events", []),
        states=group.get("state", []),
        deadlines=group.get("deadline", []),
        reminders=group.get("deadline_reminder", []),
        personal=dict(group.get("record_personal", ())),
        unreadable=unreadable,
        complete=complete,
    )
