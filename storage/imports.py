"""Cases brought in from an old system, written a batch at a time.

``Imports.write`` commits many new cases in one transaction: every table's rows of the batch go
in with one ``executemany`` per statement (the fast path's compiled statements), with the
``record_import`` row of each case, so a batch is on disk whole or not at all and a second run
of the same file finds what the first committed (``known``). Nothing here decides anything.
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

    def write(self, writes: Sequence[CommandWrite], sources: Sequence[ImportSource], at: dt.datetime) -> None:
        """Commit the new cases ``writes`` (one creating write each, no mail, no webhook) with
        their sources, in one transaction.

        Raises:
            DuplicateSource: a source id or case id of the batch exists already.
            StorageBusy: the database stayed locked past the busy timeout.
        """
        if not writes:
            return
        fast = self.db.fast
        records: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        deadlines: list[dict[str, Any]] = []
        personal: list[dict[str, Any]] = []
        for write in writes:
            record = write.record.record
            records.append(_shallow(record))
            event = _shallow(write.event)
            event["changes"] = [list(change) for change in write.event.changes]
            events.append(event)
            states.extend(
                {"record_id": record.id, "track": track, "state": after}
                for track, _before, after in write.track_changes
                if after is not None
            )
            defaults = {"record_id": record.id, "started_seq": write.event.seq, "extended": 0, "reminded": []}
            deadlines.extend({**_shallow(d), **defaults} for d in write.deadline_inserts)
            personal.extend(
                {"record_id": record.id, "field": name, "value": value}
                for name, value in write.personal.items()
            )
        imports = [
            {**_shallow(s), "record_id": w.record.record.id, "imported_at": at}
            for s, w in zip(sources, writes, strict=True)
        ]
        try:
            with self.db.raw_writing() as c:
                fast.run_many(c, fast.insert("record", list(records[0])), records)
                fast.run_many(c, fast.insert("record_event", list(events[0])), events)
                if states:
                    fast.run_many(c, fast.insert("record_state", list(states[0])), states)
                if deadlines:
                    fast.run_many(c, fast.insert("deadline", list(deadlines[0])), deadlines)
                if personal:
                    fast.run_many(c, fast.insert("record_personal", list(personal[0])), personal)
                fast.run_many(c, fast.insert("record_import", list(imports[0])), imports)
        except connections.INTEGRITY_ERRORS as exc:
            raise DuplicateSource(f"{sources[0].source_id} … {sources[-1].source_id}") from exc
