"""Cases brought in from an old system, written a batch at a time.

``Imports.encode`` turns one new case's write set into its rows' driver parameters, table by
table (the fast path's compiled statements and conversions; no connection, so a forked worker
may do it). ``Imports.write_encoded`` commits many such cases in one transaction, one
``executemany`` per table, with the ``record_import`` row of each case, so a batch is on disk
whole or not at all and a second run of the same file finds what the first committed
(``known``). Nothing here decides anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storage import connections
from storage.connections import Database
from storage.coretables import import_t
from storage.errors import DuplicateRecordId
from storage.values import CommandWrite


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSource:
    """Where an imported case came from: the old system's id of it, the file, line and line digest."""

    source_id: str
    source: str
    line: int
    row_sha256: str


class DuplicateSource(DuplicateRecordId):
    """A source id of the batch was imported meanwhile (another import of the same file)."""


EncodedCase = dict[str, list[dict[str, Any]]]  # table → its rows' driver parameters
TABLES = ("record", "record_event", "record_state", "deadline", "record_personal", "record_import")


def _shallow(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


class Imports:
    """The ``record_import`` table and the batched writes of imported cases."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def known(self, source_ids: Iterable[str]) -> dict[str, str]:
        """Which of ``source_ids`` were imported already, and as which case."""
        wanted = list(dict.fromkeys(source_ids))
        found: dict[str, str] = {}
        with self.db.reading() as c:
            for start in range(0, len(wanted), 900):  # under SQLite's bound-parameter limit
                part = wanted[start : start + 900]
                query = sa.select(import_t.c.source_id, import_t.c.record_id).where(
                    import_t.c.source_id.in_(part)
                )
                found.update({row.source_id: row.record_id for row in c.execute(query)})
        return found

    def count(self) -> int:
        with self.db.reading() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(import_t)).scalar_one())

    def encode(self, write: CommandWrite, source: ImportSource, at: dt.datetime) -> EncodedCase:
        """One new case's rows as the driver takes them, table by table (pure: no connection is
        used, so a forked worker may encode; on SQLite the result is plain values that pickle).

        ``write`` is a creating write: no mail, no webhook, no reminders.
        """
        fast = self.db.fast
        record = write.record.record
        event = _shallow(write.event)
        event["changes"] = [list(change) for change in write.event.changes]
        defaults = {"record_id": record.id, "started_seq": write.event.seq, "extended": 0, "reminded": []}
        rows: dict[str, list[dict[str, Any]]] = {
            "record": [_shallow(record)],
            "record_event": [event],
            "record_state": [
                {"record_id": record.id, "track": track, "state": after}
                for track, _before, after in write.track_changes
                if after is not None
            ],
            "deadline": [{**_shallow(d), **defaults} for d in write.deadline_inserts],
            "record_personal": [
                {"record_id": record.id, "field": name, "value": value}
                for name, value in write.personal.items()
            ],
            "record_import": [{**_shallow(source), "record_id": record.id, "imported_at": at}],
        }
        encoded: EncodedCase = {}
        for table, values in rows.items():
            if values:
                statement = fast.insert(table, list(values[0]))
                encoded[table] = [statement.params(v) for v in values]
        return encoded

    def write(self, writes: Sequence[CommandWrite], sources: Sequence[ImportSource], at: dt.datetime) -> None:
        """Commit the new cases ``writes`` (one creating write each, no mail, no webhook) with
        their sources, in one transaction.

        Raises:
            DuplicateSource: a source id or case id of the batch exists already.
            StorageBusy: the database stayed locked past the busy timeout.
        """
        self.write_encoded([self.encode(w, s, at) for w, s in zip(writes, sources, strict=True)])

    def write_encoded(self, cases: Sequence[EncodedCase]) -> None:
        """Commit cases ``encode`` made, in one transaction: one ``executemany`` per table.

        Raises:
            DuplicateSource: a source id or case id of the batch exists already.
            StorageBusy: the database stayed locked past the busy timeout.
        """
        if not cases:
            return
        fast = self.db.fast
        try:
            with self.db.raw_writing() as c:
                cursor = fast.cursor(c)
                try:
                    for table in TABLES:
                        params = [row for case in cases for row in case.get(table, ())]
                        if params:
                            cursor.executemany(fast.insert(table, list(params[0])).sql, params)
                finally:
                    cursor.close()
        except connections.INTEGRITY_ERRORS as exc:
            first, last = cases[0]["record_import"][0], cases[-1]["record_import"][0]
            raise DuplicateSource(f"{first['source_id']} … {last['source_id']}") from exc
