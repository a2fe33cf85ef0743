"""The append-only history: one case's events, an event by idempotency key, and the streamed
passes an auditor makes over every chain (raw rows, heads, hashes, split points)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from storage.connections import Database, event_t, record_t
from storage.records import record_of
from storage.values import RawEvent, StoredEvent, StoredRecord

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
        one database in parts. History rows whose case row is gone come with ``None``.
        """
        database = self.db
        text = sa.Text()
        sqlite = database.backend == "sqlite"
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
                query = query.where(database.bytewise(column) > sa.bindparam("w_after"))
            if upto is not None:
                query = query.where(database.bytewise(column) <= sa.bindparam("w_upto"))
            return query

        bounds = {k: v for k, v in (("w_after", after), ("w_upto", upto)) if v is not None}
        shape = f"{after is not None}/{upto is not None}"
        with database.streamed_snapshot() as (open_cursor, fast):
            all_records = fast.select(
                f"records {shape}",
                lambda: bounded(sa.select(record_t), record_t.c.id).order_by(
                    database.bytewise(record_t.c.id)
                ),
            )
            raw_events = fast.select(
                f"raw events {shape}",
                lambda: bounded(sa.select(*columns), event_t.c.record_id).order_by(
                    database.bytewise(event_t.c.record_id), event_t.c.seq
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
                (record_of(r) for r in fast.stream(records, "record", max(1, batch // 10))), raw_rows()
            )

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


def _merge_streams(
    records: Iterator[StoredRecord], events: Iterator[RawEvent]
) -> Iterator[tuple[StoredRecord | None, list[RawEvent]]]:
    """Pair a case stream and an event stream, both ordered by case id."""
    record = next(records, None)
    event = next(events, None)
    while record is not None or event is not None:
        if event is not None and (record is None or event.record_id < record.id):
            orphan_id = event.record_id  # history rows whose case row is gone
            orphans: list[RawEvent] = []
            while event is not None and event.record_id == orphan_id:
                orphans.append(event)
                event = next(events, None)
            yield None, orphans
            continue
        assert record is not None
        history: list[RawEvent] = []
        while event is not None and event.record_id == record.id:
            history.append(event)
            event = next(events, None)
        yield record, history
        record = next(records, None)
