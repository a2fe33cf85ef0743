"""Cases and what hangs on them: the case row, its parallel track states, deadlines, reminders,
personal data — read, and written as one command's write set.

``apply_write`` is the write half of a command: it runs inside a transaction the caller holds
(``storage.store.UnitOfWork``) and writes the case row guarded by its version, the history row,
the track rows, deadline rows, outbox rows, reminder rows and personal data. The rest are
reads; nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage import webhooks
from storage.connections import (
    Database,
    deadline_t,
    personal_t,
    record_t,
    reminder_t,
    state_t,
)
from storage.errors import VersionConflict
from storage.values import (
    RECORD_COLUMNS,
    CommandWrite,
    Loaded,
    ReminderRow,
    StoredDeadline,
    StoredRecord,
)

# Statements built once: a command executes the same few statements many times, and building
# and hashing a statement costs more than running it on SQLite.
SELECT_RECORD = sa.select(record_t).where(record_t.c.id == sa.bindparam("w_id"))
SELECT_RECORD_LOCKED = SELECT_RECORD.with_for_update()
SELECT_DEADLINES = (
    sa.select(deadline_t).where(deadline_t.c.record_id == sa.bindparam("w_id")).order_by(deadline_t.c.id)
)
SELECT_STARTED = sa.select(deadline_t).where(
    deadline_t.c.record_id == sa.bindparam("w_id"), deadline_t.c.started_seq == sa.bindparam("w_seq")
)
CLAIM = (
    sa.select(deadline_t)
    .where(deadline_t.c.next_at <= sa.bindparam("w_now"))
    .order_by(deadline_t.c.next_at, deadline_t.c.id)
    .limit(sa.bindparam("w_limit", type_=sa.Integer))
)
CLAIM_LOCKED = CLAIM.with_for_update(skip_locked=True)
_INSERT_STATE = postgresql.insert(state_t)
UPSERT_STATE = _INSERT_STATE.on_conflict_do_update(
    index_elements=[state_t.c.record_id, state_t.c.track], set_={"state": _INSERT_STATE.excluded.state}
)


def _subject_select(column: str, with_kind: bool) -> sa.Select[Any]:
    q = sa.select(record_t).where(record_t.c[column] == sa.bindparam("w_value"))
    if with_kind:
        q = q.where(record_t.c.kind == sa.bindparam("w_kind"))
    return q.order_by(record_t.c.created_at, record_t.c.id).limit(sa.bindparam("w_limit", type_=sa.Integer))


def record_of(values: Mapping[Any, Any]) -> StoredRecord:
    return StoredRecord(**{name: values[name] for name in RECORD_COLUMNS})


def deadline_of(values: Mapping[Any, Any]) -> StoredDeadline:
    return StoredDeadline(**{**values, "reminded": tuple(values.get("reminded") or ())})


def _shallow(value: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass's fields as a dict, without the deep copy ``dataclasses.asdict`` makes."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__ if name not in exclude}


# ------------------------------------------------------------------------ the command's half


def load(
    database: Database, c: Any, record_id: str, *, lock: bool, subscriptions: list[Any] | None = None
) -> Loaded | None:
    """A case and all its deadlines, read on ``c`` (its row locked ``FOR UPDATE`` on PostgreSQL
    when ``lock``: SQLite's write transaction already excludes other writers).

    On PostgreSQL the reads go to the server in one round trip; given ``subscriptions`` (a
    list), the webhook subscriptions the command's write fans out to are read with them, in
    the same transaction, and put in it (``storage.webhooks.fan_out``)."""
    fast = database.fast
    locked = lock and database.backend == "postgresql"
    select = fast.select(
        "record+lock" if locked else "record", lambda: SELECT_RECORD_LOCKED if locked else SELECT_RECORD
    )
    deadlines_select = fast.select("deadlines", lambda: SELECT_DEADLINES)
    if database.backend != "postgresql":
        rows = fast.rows(c, select, {"w_id": record_id}, "record")
        if not rows:
            return None
        deadlines = fast.rows(c, deadlines_select, {"w_id": record_id}, "deadline")
        return Loaded(record_of(rows[0]), [deadline_of(d) for d in deadlines])
    queries = [(select, {"w_id": record_id}, "record"), (deadlines_select, {"w_id": record_id}, "deadline")]
    if subscriptions is not None:
        queries.append(webhooks.subscriptions_query(database))
    found = fast.rows_together(c, queries)
    if subscriptions is not None:
        subscriptions.extend(found[2])
    rows, deadlines = found[0], found[1]
    if not rows:
        return None
    return Loaded(record_of(rows[0]), [deadline_of(d) for d in deadlines])


def claim_due(
    database: Database, c: Any, now: dt.datetime, *, exclude: Sequence[int] = ()
) -> StoredDeadline | None:
    """Lock the earliest deadline with something due at ``now``, skipping rows other sweeps hold.

    The claim lasts as long as the caller's transaction: a sweep killed mid-item releases it.
    """
    fast = database.fast
    skip = set(exclude)  # items that failed earlier in this sweep
    locked = database.backend == "postgresql"
    claim = fast.select("claim+lock" if locked else "claim", lambda: CLAIM_LOCKED if locked else CLAIM)
    params = {"w_now": fast.codec.out("time", now), "w_limit": len(skip) + 1}
    rows = fast.rows(c, claim, params, "deadline")
    found = next((row for row in rows if row["id"] not in skip), None)
    return deadline_of(found) if found else None


def set_next_at(database: Database, c: Any, deadline_id: int, when: dt.datetime | None) -> None:
    fast = database.fast
    fast.run(c, fast.update("deadline", ["next_at"], ("id",)), {"p_next_at": when, "w_id": deadline_id})


def apply_write(
    database: Database,
    c: Any,
    write: CommandWrite,
    subscriptions: Sequence[Any] | None = None,
    pending: list[tuple[Any, CommandWrite]] | None = None,
) -> None:
    """Write one command's effects inside the transaction on ``c``.

    Raises:
        VersionConflict: the case is no longer at ``write.record.expected_version``.
    """
    fast = database.fast
    rec = write.record
    ev = write.event
    values = _shallow(rec.record)
    if rec.expected_version is None:
        fast.run(c, fast.insert("record", list(values)), values)
    else:
        # Only the columns that changed are set, so indexes on the others are left alone.
        keys = [k for k in values if k not in rec.unchanged and k not in {"id", "created_at"}]
        params = {f"p_{k}": values[k] for k in keys} | {
            "w_id": rec.record.id,
            "w_version": rec.expected_version,
        }
        statement = fast.update("record", keys, ("id", "version"))
        if pending is not None:  # pipelined: its row count is checked once the server answered
            pending.append((fast.start(c, statement, params), write))
        elif fast.run(c, statement, params) != 1:
            raise version_conflict(database, c, write)
    event_values = _shallow(ev)
    event_values["changes"] = [list(change) for change in ev.changes]
    fast.run(c, fast.insert("record_event", list(event_values)), event_values)
    record_id = rec.record.id
    if write.track_changes:
        _write_states(database, c, record_id, write.track_changes)
    _write_deadlines(database, c, write)
    if write.outbox:
        mails = [
            {
                "cause": m.cause,
                "record_id": record_id,
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
    if write.webhook is not None:
        webhooks.fan_out(database, c, record_id, ev.seq, write.webhook, ev.occurred_at, subscriptions)
    if write.purge_personal:
        fast.run(c, fast.delete("record_personal", ("record_id",)), {"w_record_id": record_id})
    for name, value in write.personal.items():
        fast.run(
            c,
            fast.delete("record_personal", ("record_id", "field")),
            {"w_record_id": record_id, "w_field": name},
        )
        fast.run(
            c,
            fast.insert("record_personal", ["record_id", "field", "value"]),
            {"record_id": record_id, "field": name, "value": value},
        )
    if write.reminders:
        rows = [
            {**_shallow(r), "record_id": record_id, "fired_at": ev.occurred_at, "seq": ev.seq}
            for r in write.reminders
        ]
        fast.run_many(c, fast.insert("deadline_reminder", list(rows[0])), rows)


def version_conflict(database: Database, c: Any, write: CommandWrite) -> VersionConflict:
    """The error of a write whose guarded update of the case row matched no row, with the
    version the case is at now."""
    rec = write.record
    return VersionConflict(rec.record.id, rec.expected_version or 0, version_now(database, c, rec.record.id))


def version_now(database: Database, c: Any, record_id: str) -> int | None:
    fast = database.fast
    now_at = fast.rows(c, fast.select("record", lambda: SELECT_RECORD), {"w_id": record_id}, "record")
    return int(now_at[0]["version"]) if now_at else None


def apply_pipelined(
    database: Database, c: Any, writes: Sequence[CommandWrite], subscriptions: Sequence[Any] | None = None
) -> None:
    """``apply_writes`` on PostgreSQL with every statement sent before any answer is awaited
    (psycopg's pipeline mode): one round trip for the whole write set instead of one per
    statement. The guarded updates of the case row are checked once the answers are in; a
    failed statement (a duplicate history row of a concurrent writer, say) raises there.

    Raises:
        VersionConflict: the case is no longer at the first write's expected version.
    """
    if len(writes) > 1 and any(w.deadline_inserts for w in writes[:-1]):
        apply_writes(database, c, writes, subscriptions)  # later writes need the ids of earlier inserts
        return
    if subscriptions is None and any(w.webhook is not None for w in writes):
        statement, values, table = webhooks.subscriptions_query(database)  # an answer needed first
        subscriptions = database.fast.rows(c, statement, values, table)
    driver = getattr(c, "driver_connection", None) or c
    pending: list[tuple[Any, CommandWrite]] = []
    try:
        with driver.pipeline():
            for write in writes:
                apply_write(database, c, write, subscriptions, pending)
        for cursor, write in pending:
            if cursor.rowcount != 1:
                raise version_conflict(database, c, write)
    finally:
        for cursor, _write in pending:
            cursor.close()


def apply_writes(
    database: Database, c: Any, writes: Sequence[CommandWrite], subscriptions: Sequence[Any] | None = None
) -> None:
    """Write several commands of one case, in order, inside the transaction on ``c``.

    A later write may change a deadline an earlier one of the same commit starts, before that
    deadline has an id: it names it ``-(n + 1)``, the n-th deadline the earlier writes insert
    (counted across them in order), and is given the row's id here.

    Raises:
        VersionConflict: the case is no longer at the first write's expected version.
    """
    started: list[int] = []  # ids of the deadlines the writes so far inserted, in order
    for index, given in enumerate(writes):
        write = _with_ids(given, started) if started else given
        apply_write(database, c, write, subscriptions)
        if write.deadline_inserts and index < len(writes) - 1:
            started.extend(_inserted_ids(database, c, write))


def _inserted_ids(database: Database, c: Any, write: CommandWrite) -> list[int]:
    """The ids of the deadline rows ``write`` inserted, in the order of its inserts."""
    fast = database.fast
    rows = fast.rows(
        c,
        fast.select("started", lambda: SELECT_STARTED),
        {"w_id": write.record.record.id, "w_seq": write.event.seq},
        "deadline",
    )
    by_name = {row["name"]: int(row["id"]) for row in rows}
    return [by_name[insert.name] for insert in write.deadline_inserts]


def _with_ids(write: CommandWrite, started: Sequence[int]) -> CommandWrite:
    def real(deadline_id: int) -> int:
        return started[-deadline_id - 1] if deadline_id < 0 else deadline_id

    return dataclasses.replace(
        write,
        deadline_updates=[dataclasses.replace(u, id=real(u.id)) for u in write.deadline_updates],
        reminders=[dataclasses.replace(r, deadline_id=real(r.deadline_id)) for r in write.reminders],
    )


def _write_states(
    database: Database, c: Any, record_id: str, changes: Sequence[tuple[str, str | None, str | None]]
) -> None:
    """Mirror the changed parallel tracks into ``record_state`` (the main track is ``record.state``):
    a moved track's row is updated in place (its key and the key index stay untouched: fewer
    pages to flush), a started track's row inserted, a stopped track's row deleted."""
    fast = database.fast
    if database.backend == "postgresql":
        # one upsert per started or moved track: no row count to wait for (pipeline mode)
        for track, _before, after in changes:
            if after is None:
                fast.run(
                    c,
                    fast.delete("record_state", ("record_id", "track")),
                    {"w_record_id": record_id, "w_track": track},
                )
        rows = [{"record_id": record_id, "track": t, "state": a} for t, _b, a in changes if a is not None]
        fast.run_many(c, fast.statement("record_state+upsert", lambda: UPSERT_STATE), rows)
        return
    inserts = []
    for track, before, after in changes:
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


def _write_deadlines(database: Database, c: Any, write: CommandWrite) -> None:
    fast = database.fast
    if write.deadline_inserts:
        defaults = {
            "record_id": write.record.record.id,
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


# --------------------------------------------------------------------------------- reads


class Records:
    """Reads of cases: one by id, by filters, counts per unit, deadlines, reminders, personal data."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def get(self, record_id: str) -> StoredRecord | None:
        with self.db.reading() as c:
            row = c.execute(SELECT_RECORD, {"w_id": record_id}).first()
        return record_of(row._mapping) if row else None

    def load(self, record_id: str) -> Loaded | None:
        """A case with all its deadlines (closed ones too), read in one go."""
        with self.db.pooled() as c:
            return load(self.db, c, record_id, lock=False)

    def query(
        self,
        *,
        main_state: str | None = None,
        track_state: tuple[str, str] | None = None,
        unit: str | None = None,
        subject: str | None = None,
        subject_key: str | None = None,
        overdue_at: dt.datetime | None = None,
        active: bool | None = None,
        definition: str | None = None,
        kind: str | None = None,
        due_before: dt.datetime | None = None,
        units: Sequence[str] | None = None,
        sort: str = "created",
        order: Sequence[tuple[str, bool]] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredRecord]:
        """Cases matching every filter given, oldest first unless ``sort`` says otherwise
        (``created``, ``updated``, ``due``: next open due date first, ``id``; a leading ``-``
        reverses) or ``order`` gives (column, descending) pairs. ``track_state`` is a parallel
        track's (track, state); ``unit`` matches the responsible or the originating unit, ``units``
        either of them against a set; ``subject`` a subject code exactly or any part of a subject's
        name; ``due_before`` cases with an open deadline due before that time."""
        where = _filters(
            main_state=main_state,
            track_state=track_state,
            unit=unit,
            subject=subject,
            subject_key=subject_key,
            overdue_at=overdue_at,
            active=active,
            definition=definition,
            kind=kind,
            due_before=due_before,
            units=units,
        )
        if order:
            keys = [record_t.c[name].desc() if desc else record_t.c[name] for name, desc in order]
            q = sa.select(record_t).where(*where).order_by(*keys, record_t.c.created_at, record_t.c.id)
        else:
            descending = sort.startswith("-")
            key = sort.removeprefix("-")
            columns: list[Any] = {
                "created": [record_t.c.created_at],
                "updated": [record_t.c.updated_at],
                "due": [_next_due().is_(None), _next_due()],
                "id": [],
            }[key]
            if descending:
                columns = [c.desc() for c in columns]
            tie = record_t.c.id.desc() if descending else record_t.c.id
            q = sa.select(record_t).where(*where).order_by(*columns, tie)
        with self.db.reading() as c:
            return [record_of(row._mapping) for row in c.execute(q.limit(limit).offset(offset))]

    def count(self, **filters: Any) -> int:
        """How many cases match the filters ``query`` takes (without its ``sort``/``limit``/``offset``)."""
        q = sa.select(sa.func.count()).select_from(record_t).where(*_filters(**filters))
        with self.db.reading() as c:
            return int(c.execute(q).scalar_one())

    def count_by(self, columns: Sequence[str], **filters: Any) -> list[tuple[tuple[Any, ...], int]]:
        """Counts of the matching cases per value of ``columns`` (``responsible_unit``, ``state``,
        ``definition_name``, ``kind``), most first."""
        grouped = [record_t.c[name] for name in columns]
        q = (
            sa.select(*grouped, sa.func.count().label("n"))
            .where(*_filters(**filters))
            .group_by(*grouped)
            .order_by(sa.desc("n"), *grouped)
        )
        with self.db.reading() as c:
            return [(tuple(row[:-1]), int(row[-1])) for row in c.execute(q)]

    def next_due(self, record_ids: Sequence[str]) -> dict[str, tuple[dt.datetime, str]]:
        """The earliest open deadline of each case (due time, deadline name), for the ids given."""
        if not record_ids:
            return {}
        q = (
            sa.select(deadline_t.c.record_id, deadline_t.c.due_at, deadline_t.c.name)
            .where(
                deadline_t.c.record_id.in_(list(record_ids)),
                deadline_t.c.closed_at.is_(None),
                deadline_t.c.status.in_(("active", "expired")),
            )
            .order_by(deadline_t.c.record_id, deadline_t.c.due_at)
        )
        found: dict[str, tuple[dt.datetime, str]] = {}
        with self.db.reading() as c:
            for record_id, due_at, name in c.execute(q):
                if record_id not in found and due_at is not None:
                    found[record_id] = (_aware(due_at), name)
        return found

    def of_subjects(
        self,
        *,
        codes: Sequence[str] = (),
        keys: Sequence[str] = (),
        kind: str | None = None,
        limit: int = 10_000,
    ) -> list[StoredRecord]:
        """The cases of the subjects named by unified social credit code or by keyed ID digest,
        found through the indexed ``subject_code`` and ``subject_key`` columns: one query per
        column (an ``OR`` of the two would let PostgreSQL's planner scan the table)."""
        found: dict[str, StoredRecord] = {}
        if len(set(codes)) + len(set(keys)) == 1:  # one subject (a single credit check): the fast path
            return self._of_subject(codes[0] if codes else None, keys[0] if keys else None, kind, limit)
        with self.db.reading() as c:
            for column, values in ((record_t.c.subject_code, codes), (record_t.c.subject_key, keys)):
                if not values:
                    continue
                q = sa.select(record_t).where(column.in_(sorted(set(values))))
                if kind is not None:
                    q = q.where(record_t.c.kind == kind)
                q = q.order_by(record_t.c.created_at, record_t.c.id).limit(limit)
                for row in c.execute(q):
                    record = record_of(row._mapping)
                    found.setdefault(record.id, record)
        return sorted(found.values(), key=lambda r: (r.created_at, r.id))[:limit]

    def _of_subject(
        self, code: str | None, key: str | None, kind: str | None, limit: int
    ) -> list[StoredRecord]:
        """``of_subjects`` for one code or one key, on the driver's cursor (``storage.fastpath``):
        the same indexed query, without building a SQLAlchemy statement per check."""
        fast = self.db.fast
        column = "subject_code" if code is not None else "subject_key"
        name = f"of_subject:{column}:{kind is not None}"
        select = fast.select(name, lambda: _subject_select(column, kind is not None))
        values = {"w_value": code if code is not None else key, "w_limit": limit}
        if kind is not None:
            values["w_kind"] = kind
        with self.db.pooled() as raw:
            return [record_of(row) for row in fast.rows(raw, select, values, "record")]

    def units_with_open_cases(
        self, definition_name: str, *, exclude_states: Sequence[str] = ()
    ) -> list[tuple[str, str | None]]:
        """(responsible unit, its superior unit) for every unit with a case of that definition
        not in one of ``exclude_states``."""
        superior = record_t.c.data["superior_unit"].as_string()
        query = (
            sa.select(record_t.c.responsible_unit, sa.func.max(superior))
            .where(record_t.c.definition_name == definition_name, record_t.c.responsible_unit.is_not(None))
            .group_by(record_t.c.responsible_unit)
            .order_by(record_t.c.responsible_unit)
        )
        if exclude_states:
            query = query.where(record_t.c.state.not_in(list(exclude_states)))
        with self.db.reading() as c:
            return [(unit, sup) for unit, sup in c.execute(query)]

    def count_for_unit(
        self,
        *,
        definition_name: str,
        unit: str,
        active: bool | None = None,
        main_state: str | None = None,
        track_state: tuple[str, str] | None = None,
        exclude_states: Sequence[str] = (),
        sample: int = 50,
    ) -> tuple[int, list[str]]:
        """How many of a unit's cases match, and up to ``sample`` of their ids."""
        where = [record_t.c.definition_name == definition_name, record_t.c.responsible_unit == unit]
        if active is not None:
            where.append(record_t.c.active == active)
        if exclude_states:
            where.append(record_t.c.state.not_in(list(exclude_states)))
        if main_state is not None:
            where.append(record_t.c.state == main_state)
        if track_state is not None:
            where.append(
                sa.exists().where(
                    state_t.c.record_id == record_t.c.id,
                    state_t.c.track == track_state[0],
                    state_t.c.state == track_state[1],
                )
            )
        with self.db.reading() as c:
            total = c.execute(sa.select(sa.func.count()).select_from(record_t).where(*where)).scalar_one()
            ids = c.execute(
                sa.select(record_t.c.id).where(*where).order_by(record_t.c.id).limit(sample)
            ).scalars()
            return int(total), list(ids)

    def provisional_deadlines(self) -> list[StoredDeadline]:
        """Open deadlines computed on provisional calendar data (running, paused or overdue)."""
        with self.db.reading() as c:
            rows = c.execute(
                sa.select(deadline_t)
                .where(
                    deadline_t.c.provisional.is_(True),
                    deadline_t.c.status.in_(("active", "expired", "paused")),
                )
                .order_by(deadline_t.c.id)
            )
            return [deadline_of(r._mapping) for r in rows]

    def reminders(self, *, record_id: str | None = None) -> list[ReminderRow]:
        q = sa.select(reminder_t).order_by(reminder_t.c.id)
        if record_id is not None:
            q = q.where(reminder_t.c.record_id == record_id)
        with self.db.reading() as c:
            return [ReminderRow(**r._mapping) for r in c.execute(q)]

    def personal(self, record_id: str) -> dict[str, str]:
        """The personal data kept outside the history (an ID number), until the case is archived."""
        with self.db.reading() as c:
            rows = c.execute(sa.select(personal_t).where(personal_t.c.record_id == record_id))
            return {r.field: r.value for r in rows}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _next_due() -> Any:
    """The earliest due time of a case's open deadlines, as a correlated subquery."""
    return (
        sa.select(sa.func.min(deadline_t.c.due_at))
        .where(
            deadline_t.c.record_id == record_t.c.id,
            deadline_t.c.closed_at.is_(None),
            deadline_t.c.status.in_(("active", "expired")),
        )
        .scalar_subquery()
    )


def _filters(
    *,
    main_state: str | None = None,
    track_state: tuple[str, str] | None = None,
    unit: str | None = None,
    subject: str | None = None,
    subject_key: str | None = None,
    overdue_at: dt.datetime | None = None,
    active: bool | None = None,
    definition: str | None = None,
    kind: str | None = None,
    due_before: dt.datetime | None = None,
    units: Sequence[str] | None = None,
) -> list[Any]:
    """The WHERE clauses of a case query (every filter given must hold)."""
    where: list[Any] = []
    if main_state is not None:
        where.append(record_t.c.state == main_state)
    if track_state is not None:
        where.append(
            sa.exists().where(
                state_t.c.record_id == record_t.c.id,
                state_t.c.track == track_state[0],
                state_t.c.state == track_state[1],
            )
        )
    if unit is not None:
        where.append(sa.or_(record_t.c.responsible_unit == unit, record_t.c.originating_unit == unit))
    if subject is not None:
        where.append(
            sa.or_(
                record_t.c.subject_code == subject.upper(),
                record_t.c.subject_name.contains(subject, autoescape=True),
            )
        )
    if subject_key is not None:
        where.append(record_t.c.subject_key == subject_key)
    if active is not None:
        where.append(record_t.c.active == active)
    if definition is not None:
        where.append(record_t.c.definition_name == definition)
    if kind is not None:
        where.append(record_t.c.kind == kind)
    if overdue_at is not None:
        late = sa.exists().where(
            deadline_t.c.record_id == record_t.c.id,
            deadline_t.c.closed_at.is_(None),  # a deadline that ran its course is not a late one
            sa.or_(
                deadline_t.c.status == "expired",
                sa.and_(deadline_t.c.status == "active", deadline_t.c.due_at < overdue_at),
            ),
        )
        where.append(sa.or_(record_t.c.overdue.is_(True), late))
    if due_before is not None:
        where.append(
            sa.exists().where(
                deadline_t.c.record_id == record_t.c.id,
                deadline_t.c.closed_at.is_(None),
                deadline_t.c.status.in_(("active", "expired")),
                deadline_t.c.due_at < due_before,
            )
        )
    if units is not None:
        wanted = list(units)
        where.append(sa.or_(record_t.c.responsible_unit.in_(wanted), record_t.c.originating_unit.in_(wanted)))
    return where
