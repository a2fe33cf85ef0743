"""The store: one database, by concern, and the unit of work a command writes through.

``Store`` holds the connections (``storage.connections``) and one object per concern: cases
(``records``), their history (``history``), the mail queue (``outbox``) and reference data
(``directory``), each returning frozen values (``storage.values``), never ORM rows. A command
goes through ``Store.command()``: it reads the case and commits its whole write set —
projection, history row, deadlines, outbox, personal data — in one transaction, guarded by the
case's version (optimistic concurrency): when two writers read the same version, exactly one
commits and the other gets ``VersionConflict``. The store never imports the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from storage import connections, db, records
from storage.accounts import Accounts
from storage.connections import Database, meta_t
from storage.directory import Directory
from storage.errors import (
    DuplicateIdempotencyKey,
    DuplicateRecordId,
    SchemaOutdated,
    VersionConflict,
)
from storage.history import History
from storage.imports import Imports
from storage.outbox import OutboxQueue
from storage.records import Records
from storage.revision import head_revision
from storage.tokens import Tokens
from storage.values import CommandWrite, Loaded, StoredDeadline
from storage.webhooks import Subscriptions
from storage.worklist import WorkList


class UnitOfWork:
    """One command's connection: it loads the case, then commits the command's write set.

    Optimistic (``lock=False``): the load reads without a transaction and ``commit`` runs one
    write transaction that checks the case is still at the version read. Locked (``lock=True``,
    the sweep): everything happens in one write transaction opened when the unit of work
    begins; the case row is locked when loaded and the transaction commits when the block ends.
    """

    def __init__(self, database: Database, raw: Any, *, locked: bool) -> None:
        self._db = database
        self._raw = raw
        self.locked = locked
        # PostgreSQL: the webhook subscriptions, read with the case in its transaction (one
        # round trip for both) for the write to fan out to; None: read when writing
        self._subscriptions: list[Any] | None = None

    def load(self, record_id: str) -> Loaded | None:
        """The case and all its deadlines, or None when there is no such case."""
        prefetch: list[Any] | None = [] if self._db.backend == "postgresql" else None
        loaded = records.load(self._db, self._raw, record_id, lock=self.locked, subscriptions=prefetch)
        self._subscriptions = prefetch
        return loaded

    def claim_due(self, now: dt.datetime, *, exclude: Sequence[int] = ()) -> StoredDeadline | None:
        """Lock the earliest deadline with something due (locked unit of work only)."""
        assert self.locked, "a claim holds its row lock until the transaction ends"
        return records.claim_due(self._db, self._raw, now, exclude=exclude)

    def set_next_at(self, deadline_id: int, when: dt.datetime | None) -> None:
        assert self.locked
        records.set_next_at(self._db, self._raw, deadline_id, when)

    def commit(self, write: CommandWrite, *later: CommandWrite) -> None:
        """Write one command's effects atomically — or several commands' of one case, in order,
        all or none (a case registered and submitted at once; see ``records.apply_writes``).

        Raises:
            VersionConflict: the case is no longer at ``write.record.expected_version``.
            DuplicateIdempotencyKey: an event's idempotency key was used before.
            DuplicateRecordId: a new case's id exists already.
            StorageBusy: the database stayed locked past the busy timeout.
        """
        rec = write.record
        writes = (write, *later)
        try:
            subscriptions, self._subscriptions = self._subscriptions, None  # for one commit only
            apply = records.apply_pipelined if self._db.backend == "postgresql" else records.apply_writes
            if self.locked:
                apply(self._db, self._raw, writes, subscriptions)
                return
            with self._db.transaction(self._raw):
                apply(self._db, self._raw, writes, subscriptions)
        except connections.DRIVER_OPERATIONAL as exc:
            raise self._db.translate(exc) from exc
        except connections.INTEGRITY_ERRORS as exc:
            message = str(getattr(exc, "orig", exc)).lower()
            if "idempotency" in message:
                key = next((w.event.idempotency_key for w in writes if w.event.idempotency_key), "")
                raise DuplicateIdempotencyKey(key) from exc
            if rec.expected_version is None and ("record.id" in message or "record_pkey" in message):
                raise DuplicateRecordId(rec.record.id) from exc
            if "uq_record_event_seq" in message or "record_event.record_id, record_event.seq" in message:
                raise VersionConflict(
                    rec.record.id, rec.expected_version or 0, self._version_now(rec.record.id)
                ) from exc
            raise

    def _version_now(self, record_id: str) -> int | None:
        """The version a case is at after a write of it lost to another (None inside the sweep's
        transaction, which the failed statement ended)."""
        if self.locked:
            return None
        try:
            return records.version_now(self._db, self._raw, record_id)
        except connections.DRIVER_OPERATIONAL:  # pragma: no cover - the message only
            return None


class Store:
    """Persistence for one database. Thread-safe: every call takes its own connection."""

    def __init__(self, engine: sa.Engine) -> None:
        self.db = Database(engine)
        self.engine = engine
        self.backend = self.db.backend
        self.records = Records(self.db)
        self.history = History(self.db)
        self.outbox = OutboxQueue(self.db)
        self.directory = Directory(self.db)
        self.webhooks = Subscriptions(self.db)
        self.tokens = Tokens(self.db)
        self.accounts = Accounts(self.db)
        self.worklist = WorkList(self.db)
        self.imports = Imports(self.db)

    @classmethod
    def open(cls, url: str | None = None, *, require_schema: bool = True) -> Store:
        """Connect to ``url`` and check the schema is current.

        Raises:
            DatabaseUnavailable: the server cannot be reached, or the SQLite file does not exist
                (it is created only by ``chengxin init``).
            SchemaOutdated: the schema is missing or older than this chengxin (run ``chengxin init``).
        """
        store = cls(db.create_engine(url, create=False))
        try:
            if require_schema:
                current, head = db.current_revision(store.engine), head_revision()
                if current != head:
                    raise SchemaOutdated(current, head)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def command(self, *, lock: bool = False) -> Iterator[UnitOfWork]:
        """The unit of work of one command (see ``UnitOfWork``), on one pooled connection."""
        with self.db.pooled() as raw:
            if not lock:
                yield UnitOfWork(self.db, raw, locked=False)
                return
            with self.db.transaction(raw):
                yield UnitOfWork(self.db, raw, locked=True)

    # ---------------------------------------------------------------------- meta

    def meta(self) -> dict[str, str]:
        """Facts about this database: clock mode, simulated now, pepper, schedule progress."""
        with self.db.reading() as c:
            return {row.key: row.value for row in c.execute(sa.select(meta_t))}

    def set_meta_if_absent(
        self, values: Mapping[str, str], *, check: Callable[[Mapping[str, str]], None] | None = None
    ) -> dict[str, str]:
        """Insert the keys that are not set yet; returns every meta value afterwards.

        ``check`` is given the values already set, in the same transaction, before anything is
        written: what it raises leaves the meta values as they were.
        """
        with self.db.writing() as c:
            present = {row.key: row.value for row in c.execute(sa.select(meta_t))}
            if check is not None:
                check(present)
            missing = [{"key": k, "value": v} for k, v in values.items() if k not in present]
            if missing:
                c.execute(sa.insert(meta_t), missing)
            present.update({m["key"]: m["value"] for m in missing})
            return present

    def advance_meta(self, key: str, value: str) -> str:
        """Set a meta value that only moves forward (ISO timestamps compare as text); returns the value kept."""
        with self.db.writing() as c:
            current = c.execute(
                sa.select(meta_t.c.value).where(meta_t.c.key == key).with_for_update()
            ).scalar()
            if current is None:
                c.execute(sa.insert(meta_t).values(key=key, value=value))
                return value
            if value <= current:
                return str(current)
            c.execute(sa.update(meta_t).where(meta_t.c.key == key).values(value=value))
            return value
