"""The engine: the one place that sequences load → decide → persist → queue mail.

An ``Engine`` serves one database. Commands (register a record, fire an event, let a due
deadline expire) read the record, ask the pure ``decide`` function what happens, and commit
the whole outcome — projection, hash-chained history row, deadline rows, outbox mails,
personal data — in one transaction guarded by the record's version. Reads (get, query,
history, state as of a date, events an actor may fire) never write, except the log of who
looked up a subject.

Time comes only from the injected clock. A database is created either on real time or on
simulated time (``chengxin init --simulated-clock``) and keeps that mode for life: a
real-time database refuses any simulated clock, so no one can backdate an event in it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from definitions.holidays import HolidayTable, load_holiday_table, parse_holiday_table
from definitions.model import MAIN_TRACK, Definition
from storage import db as storage_db
from storage.errors import DuplicateIdempotencyKey, DuplicateRecordId, StorageBusy, VersionConflict
from storage.store import Store
from storage.values import (
    CommandWrite,
    DeadlineInsert,
    DeadlineUpdate,
    OutboxInsert,
    RawEvent,
    RecordWrite,
    ReminderInsert,
    StoredDeadline,
    StoredEvent,
    StoredRecord,
)
from workflow.core import ladders as reminders
from workflow.core import notices
from workflow.core.calendar import WorkingCalendar
from workflow.core.decide import (
    EXPIRED_EVENT,
    RECOMPUTED_EVENT,
    REMINDER_EVENT,
    Actor,
    Command,
    DeadlineEffect,
    Decision,
    OpenDeadline,
    Snapshot,
    available_events,
    decide,
)
from workflow.core.history import GENESIS, event_hash, request_fingerprint
from workflow.engine.clock import Clock, ManualClock, SystemClock, parse_when, shanghai
from workflow.engine.registry import Registry
from workflow.engine.views import (
    EventOption,
    HistoryEntry,
    RecordView,
    history_entry,
    record_view,
)
from workflow.errors import (
    ClockError,
    Conflict,
    DefinitionChanged,
    IdempotencyKeyReused,
    PermissionDenied,
    RecordNotFound,
    TransitionNotAllowed,
    WorkflowError,
)

log = structlog.get_logger("chengxin")
# The columns of the record row a command writes (all but the two times the store sets).
_WRITTEN_COLUMNS = tuple(
    name for name in StoredRecord.__dataclass_fields__ if name in RecordWrite.__dataclass_fields__
)

SYSTEM = Actor(id="system", role="system", unit="chengxin")
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_record_id(now: dt.datetime) -> str:
    day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
    return f"SX{day}-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(6))


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    fired: int
    skipped: int
    errors: Sequence[str]


LATE_AFTER = dt.timedelta(minutes=15)  # a rung fired later than this after its time is recorded as late


class Engine:
    """The workflow engine of one database. Safe to share between threads."""

    def __init__(self, store: Store, registry: Registry, clock: Clock, meta: Mapping[str, str]) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.simulated = meta.get("clock_mode") == "simulated"
        self._pepper = bytes.fromhex(meta["pepper"])
        self._registered: set[tuple[str, int, str]] = set()

    # ------------------------------------------------------------------- opening

    @classmethod
    def init(
        cls,
        url: str | None = None,
        *,
        simulated_start: dt.datetime | None = None,
        definitions: Sequence[Path] = (),
    ) -> tuple[Engine, str | None, str]:
        """Create or upgrade the schema; a new database gets its clock mode here, for life.

        Returns the engine and the schema revisions before and after.

        Raises:
            ClockError: the database exists with the other clock mode.
            DatabaseUnavailable: the database cannot be reached.
        """
        store = Store(storage_db.create_engine(url))
        try:
            before, after = storage_db.upgrade(store.engine)
            meta = store.set_meta_if_absent(cls._initial_meta(after, simulated_start))
            if simulated_start is not None and meta["clock_mode"] != "simulated":
                raise ClockError(
                    "该数据库使用真实时间，不能改为模拟时间 (this database runs on real time and can never use a "
                    "simulated clock; create a separate drill database with 'chengxin init --simulated-clock')"
                )
            return cls._make(store, meta, None, definitions), before, after
        except BaseException:
            store.close()
            raise

    @staticmethod
    def _initial_meta(schema: str, simulated_start: dt.datetime | None) -> dict[str, str]:
        wanted = {
            "clock_mode": "simulated" if simulated_start else "real",
            "pepper": secrets.token_hex(32),
            "created_schema": schema,
        }
        if simulated_start is not None:
            wanted["simulated_now"] = simulated_start.astimezone(dt.UTC).isoformat()
        return wanted

    @classmethod
    def open(
        cls, url: str | None = None, *, clock: Clock | None = None, definitions: Sequence[Path] = ()
    ) -> Engine:
        """Open an initialised database.

        Raises:
            SchemaOutdated: run ``chengxin init``.
            ClockError: a simulated clock was given for a real-time database.
            DefinitionError: a definition file is invalid.
        """
        store = Store.open(url)
        try:
            return cls._make(store, store.meta(), clock, definitions)
        except BaseException:
            store.close()
            raise

    @classmethod
    def _make(
        cls, store: Store, meta: Mapping[str, str], clock: Clock | None, definitions: Sequence[Path]
    ) -> Engine:
        if "clock_mode" not in meta:
            raise ClockError("数据库尚未初始化 (database not initialised): run 'chengxin init'")
        simulated = meta["clock_mode"] == "simulated"
        if clock is None:
            clock = ManualClock(parse_when(meta["simulated_now"])) if simulated else SystemClock()
        if clock.simulated and not simulated:
            raise ClockError(
                "该数据库使用真实时间，拒绝模拟时钟 (this database runs on real time; simulated time is refused "
                "so that no event can be backdated)"
            )
        if simulated and not clock.simulated:
            raise ClockError(
                "该数据库为演练库，只能使用模拟时钟 (this drill database runs on simulated time only)"
            )
        registry = Registry.load(definitions)
        registry.merge_stored(store.stored_definitions())
        registry.add_tables(
            parse_holiday_table(body, f"database:holiday_table:{year}")
            for year, _p, _s, body in store.holiday_tables()
        )
        return cls(store, registry, clock, meta)

    def close(self) -> None:
        self.store.close()

    def advance_clock(self, to: dt.datetime) -> dt.datetime:
        """Move simulated time forward (drill databases only) and remember it in the database.

        Raises:
            ClockError: real-time database, or ``to`` is earlier than the simulated now.
        """
        if not isinstance(self.clock, ManualClock) or not self.simulated:
            raise ClockError(
                "只有演练库可以调整时间 (only a drill database created with --simulated-clock has a settable clock)"
            )
        stored = parse_when(self.store.meta()["simulated_now"])
        if to < stored:
            raise ClockError(
                f"模拟时间不能倒退 (simulated time only moves forward): {shanghai(to)} is before {shanghai(stored)}"
            )
        if to > self.clock.now():
            self.clock.set(to)
        self.store.advance_meta("simulated_now", self.clock.now().isoformat())
        return self.clock.now()

    # ------------------------------------------------------------------ commands

    def _check_definitions(self) -> None:
        if self.registry.conflicts:
            key, source = self.registry.conflicts[0]
            raise DefinitionChanged(key, source)

    def _now(self, record: StoredRecord | None) -> dt.datetime:
        now = self.clock.now()
        if record is not None and now < record.updated_at:
            raise ClockError(
                f"时间早于记录 {record.id} 的最后一次变更 {shanghai(record.updated_at)} (the clock is behind the record's "
                "last event; events are never written out of time order)"
            )
        return now

    def register(
        self,
        definition: str,
        fields: Mapping[str, Any],
        *,
        actor: Actor,
        version: int | None = None,
        comment: str = "",
        idempotency_key: str | None = None,
        submit: bool = False,
    ) -> RecordView:
        """Register a new record as a draft (and submit it at once with ``submit``).

        Raises:
            DefinitionNotFound, PermissionDenied, PayloadInvalid, IdempotencyKeyReused, WorkflowError.
        """
        self._check_definitions()
        self._refuse_system(actor, "register")
        fingerprint = None  # what a key stands for, stored with the event; without a key nothing asks
        if idempotency_key is not None:
            fingerprint = request_fingerprint(
                None, "register", (actor.id, actor.role, actor.unit), dict(fields), comment
            )
            replay = self._replayed(idempotency_key, fingerprint)
            if replay is not None:
                view = self.get(replay.record_id)
                initial = self.registry.get(replay.definition_name, replay.definition_version).main.initial
                if submit and view.state == initial:  # the retried request had stopped before submitting
                    return self.fire(
                        view.id, "submit", actor=actor, idempotency_key=f"{idempotency_key}:submit"
                    )
                return view
        finding = fields.get("finding_date")
        finding_date = _as_date(finding)
        chosen = (
            self.registry.get(definition, version)
            if version is not None
            else self.registry.select(definition, finding_date)
        )
        creator = chosen.creation_event()
        for _attempt in range(5):
            now = self._now(None)
            record_id = new_record_id(now)
            command = Command(event=creator.name, actor=actor, payload=dict(fields), comment=comment)
            decision = decide(chosen, self.registry.calendar(chosen), None, command, now, record_id=record_id)
            self._register_definition(chosen, now)
            write = self._write(
                chosen, None, [], decision, command, now, record_id, idempotency_key, fingerprint
            )
            try:
                self.store.commit(write)
            except DuplicateRecordId:
                continue
            except DuplicateIdempotencyKey:
                return self.register(
                    definition,
                    fields,
                    actor=actor,
                    version=version,
                    comment=comment,
                    idempotency_key=idempotency_key,
                    submit=submit,
                )
            self._log(record_id, decision, actor, None, version=1)
            break
        else:  # pragma: no cover - five random 30-bit ids colliding on one day
            raise WorkflowError("无法生成唯一的记录编号 (could not allocate a unique record id)")
        if submit:
            key = f"{idempotency_key}:submit" if idempotency_key else None
            return self.fire(record_id, "submit", actor=actor, idempotency_key=key)
        return self.get(record_id)

    def fire(
        self,
        record_id: str,
        event: str,
        *,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        comment: str = "",
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> RecordView:
        """Fire ``event`` on a record as ``actor``; the same idempotency key twice applies once.

        ``expected_version`` is the version the caller saw; if the record has moved on since,
        the command fails with ``Conflict`` instead of acting on a state the caller did not see.

        Raises:
            RecordNotFound, UnknownEvent, PermissionDenied, TransitionNotAllowed, CommentRequired,
            PayloadInvalid, GuardRefused, DeadlineExtensionRefused, Conflict, IdempotencyKeyReused.
        """
        self._check_definitions()
        self._refuse_system(actor, event)
        body = dict(payload or {})
        fingerprint = None  # what a key stands for, stored with the event; without a key nothing asks
        if idempotency_key is not None:
            fingerprint = request_fingerprint(
                record_id, event, (actor.id, actor.role, actor.unit), body, comment
            )
            replay = self._replayed(idempotency_key, fingerprint)
            if replay is not None:
                return self.get(replay.record_id)
        command = Command(event=event, actor=actor, payload=body, comment=comment)
        try:
            view = self._apply(record_id, command, idempotency_key, fingerprint, expected_version)
        except DuplicateIdempotencyKey:  # only a command with a key (and so a fingerprint) gets here
            replay = self._replayed(idempotency_key or "", fingerprint or "")
            if replay is None:  # pragma: no cover - the key was there a moment ago
                raise
            return self.get(replay.record_id)
        assert view is not None  # without a connection of the caller's, _apply reads the record back
        return view

    def _refuse_system(self, actor: Actor, event: str) -> None:
        for definition in self.registry.all():
            role = definition.roles.get(actor.role)
            if role is not None and role.system:
                raise PermissionDenied(
                    actor.role,
                    event,
                    [],
                    why="角色 system 仅供期限到期处理使用 (reserved for the deadline sweep)",
                )

    def _replayed(self, key: str, fingerprint: str) -> StoredEvent | None:
        stored = self.store.event_by_key(key)
        if stored is None:
            return None
        if stored.effects.get("request") != fingerprint:
            raise IdempotencyKeyReused(key)
        return stored

    def _apply(
        self,
        record_id: str,
        command: Command,
        idempotency_key: str | None,
        fingerprint: str | None,
        expected_version: int | None,
        *,
        conn: Any = None,
        loaded: tuple[StoredRecord, list[StoredDeadline]] | None = None,
        session: Any = None,
    ) -> RecordView | None:
        """Load, decide, persist. With ``conn`` all of it happens in the caller's transaction
        (the sweep's claim) with the record row locked (``loaded`` if the caller read it
        already), and nothing is read back. Otherwise the read and the write transaction share
        one pooled connection (``session``)."""
        if conn is None and session is None:
            with self.store.session() as opened:
                return self._apply(
                    record_id, command, idempotency_key, fingerprint, expected_version, session=opened
                )
        if loaded is None:
            loaded = self.store.load(record_id, conn=conn, lock=conn is not None, session=session)
        if loaded is None:
            raise RecordNotFound(record_id)
        record, open_rows = loaded
        if expected_version is not None and expected_version != record.version:
            raise Conflict(record_id, expected_version, record.version)
        definition = self.registry.get(record.definition_name, record.definition_version)
        now = self._now(record)
        snapshot = _snapshot(record, open_rows)
        decision = decide(
            definition, self.registry.calendar(definition), snapshot, command, now, record_id=record_id
        )
        write = self._write(
            definition, record, open_rows, decision, command, now, record_id, idempotency_key, fingerprint
        )
        try:
            self.store.commit(write, conn=conn, session=session)
        except VersionConflict as exc:
            raise Conflict(record_id, record.version, exc.found) from exc
        self._log(record_id, decision, command.actor, record.state, version=record.version + 1)
        return None if conn is not None else _view_after(definition, record, write, open_rows, now)

    def _register_definition(self, definition: Definition, now: dt.datetime) -> None:
        """Store a definition version with the first record that uses it (once per process)."""
        if (definition.name, definition.version, definition.sha256) in self._registered:
            return
        stored = self.store.register_definition(
            definition.name,
            definition.version,
            definition.sha256,
            self.registry.resolved(definition.name, definition.version),
            now,
        )
        if stored != definition.sha256:
            raise DefinitionChanged(definition.key, definition.source)
        self._registered.add((definition.name, definition.version, definition.sha256))

    def _log(
        self, record_id: str, decision: Decision, actor: Actor, before: str | None, *, version: int
    ) -> None:
        log.info(
            "transition",
            record_id=record_id,
            trigger=decision.event,
            actor=actor.id,
            role=actor.role,
            unit=actor.unit,
            from_state=before,
            to_state=decision.tracks.get(MAIN_TRACK),
            changes=[f"{t}:{a}->{b}" for t, a, b in decision.changes],
            version=version,
        )

    def open_system_record(
        self, definition: Definition, fields: Mapping[str, Any], *, actor: Actor, idempotency_key: str
    ) -> tuple[str, bool]:
        """Create a record on the engine's own initiative (a supervision round); (id, created now)."""
        self._check_definitions()
        fingerprint = request_fingerprint(None, "open", (actor.id, actor.role, actor.unit), dict(fields), "")
        existing = self.store.event_by_key(idempotency_key)
        if existing is not None:
            return existing.record_id, False
        creator = definition.creation_event()
        now = self._now(None)
        record_id = new_record_id(now)
        command = Command(event=creator.name, actor=actor, payload=dict(fields))
        decision = decide(
            definition, self.registry.calendar(definition), None, command, now, record_id=record_id
        )
        self._register_definition(definition, now)
        write = self._write(
            definition, None, [], decision, command, now, record_id, idempotency_key, fingerprint
        )
        try:
            self.store.commit(write)
        except DuplicateIdempotencyKey:
            found = self.store.event_by_key(idempotency_key)
            assert found is not None
            return found.record_id, False
        self._log(record_id, decision, actor, None, version=1)
        return record_id, True

    def save_units(self, units: Sequence[Mapping[str, Any]]) -> int:
        """Add or replace units of the directory mails are addressed from.

        Each unit: ``code``, ``name``, optional ``superior`` (a unit code), ``emails`` (a list or
        a comma-separated text) and ``contact``.

        Raises:
            PayloadInvalid: a code or an address is not valid.
        """
        from email.headerregistry import Address

        from workflow.core.fields import UNIT_CODE
        from workflow.errors import PayloadInvalid

        clean = []
        for unit in units:
            code = str(unit.get("code", "")).strip()
            if not UNIT_CODE.match(code):
                raise PayloadInvalid(
                    "unit", "code", f"{code!r} is not a unit code (1–64 letters, digits, '.', '-', '_')"
                )
            name = str(unit.get("name") or code).strip()
            raw = unit.get("emails") or []
            emails = [e.strip() for e in (raw.split(",") if isinstance(raw, str) else raw) if str(e).strip()]
            for email in emails:
                try:
                    Address(addr_spec=email)
                except (ValueError, IndexError):
                    raise PayloadInvalid("unit", "emails", f"{email!r} is not an email address") from None
                if "@" not in email:
                    raise PayloadInvalid("unit", "emails", f"{email!r} is not an email address")
            superior = str(unit["superior"]).strip() if unit.get("superior") else None
            contact = str(unit["contact"]).strip() if unit.get("contact") else None
            clean.append(
                {"code": code, "name": name, "superior": superior, "emails": emails, "contact": contact}
            )
        return self.store.save_units(clean, self.clock.now())

    def open_due_rounds(self) -> Any:
        """Open every supervision round due up to now (see ``workflow.runtime.rounds``)."""
        from workflow.runtime.rounds import open_due_rounds

        return open_due_rounds(self)

    # ---------------------------------------------------------------- calendar

    def load_holiday_table(
        self, path: Path
    ) -> tuple[HolidayTable, list[tuple[str, str, dt.datetime, dt.datetime]]]:
        """Load a year's holiday arrangement as data and recompute every provisional deadline it affects.

        Returns the table and (record id, deadline, old due, new due) for every deadline moved.

        Raises:
            HolidayTableError: the file is not a valid holiday table.
        """
        table = load_holiday_table(path)
        self.store.save_holiday_table(
            table.year, table.provisional, table.source, path.read_text(encoding="utf-8"), self.clock.now()
        )
        self.registry.add_tables([table])
        return table, self.recompute_provisional()

    def recompute_provisional(self) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
        """Recompute deadlines computed on provisional calendar data; each change is a history event."""
        from workflow.core.periods import recompute

        moved = []
        for row in self.store.provisional_deadlines():
            record = self.store.get(row.record_id)
            if record is None:
                continue
            definition = self._definition_of(record)
            spec = definition.deadlines.get(row.name)
            if spec is None or "count" not in row.basis:
                continue
            due = recompute(definition, self.registry.calendar(definition), spec, row.basis)
            if due.due_at == row.due_at and due.provisional == row.provisional:
                continue
            self._apply(
                row.record_id,
                Command(event=RECOMPUTED_EVENT, actor=SYSTEM, deadline=row.name),
                None,
                None,
                None,
            )
            moved.append((row.record_id, row.name, row.due_at, due.due_at))
        return moved

    # -------------------------------------------------------------- the write set

    def subject_key(self, id_number: str) -> str:
        """The keyed digest a person is found by; the ID number itself is never stored with the record."""
        return hmac.new(self._pepper, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def _write(
        self,
        definition: Definition,
        record: StoredRecord | None,
        open_rows: Sequence[StoredDeadline],
        decision: Decision,
        command: Command,
        now: dt.datetime,
        record_id: str,
        idempotency_key: str | None,
        fingerprint: str | None,
    ) -> CommandWrite:
        seq = (record.version if record else 0) + 1
        prev = record.head_hash if record else GENESIS
        effects = decision.effects_json()
        if fingerprint is not None:
            effects["request"] = fingerprint
        if self.simulated:
            effects["clock"] = "simulated"
        if command.deadline is not None:
            effects["expired"] = command.deadline
        actor = command.actor
        changes = tuple(list(change) for change in decision.changes)
        digest = event_hash(
            record_id=record_id,
            seq=seq,
            event=decision.event,
            changes=changes,
            actor=actor.id,
            role=actor.role,
            unit=actor.unit,
            payload=decision.payload,
            comment=command.comment,
            effects=effects,
            definition_name=definition.name,
            definition_version=definition.version,
            occurred_at=now,
            idempotency_key=idempotency_key,
            prev_hash=prev,
        )
        event_row = StoredEvent(
            record_id=record_id,
            seq=seq,
            event=decision.event,
            changes=changes,
            actor=actor.id,
            role=actor.role,
            unit=actor.unit,
            payload=decision.payload,
            comment=command.comment,
            effects=effects,
            definition_name=definition.name,
            definition_version=definition.version,
            occurred_at=now,
            idempotency_key=idempotency_key,
            prev_hash=prev,
            hash=digest,
        )
        subject_key = record.subject_key if record else None
        if "subject_id_number" in decision.personal:
            subject_key = self.subject_key(decision.personal["subject_id_number"])
        if decision.purge_personal_data:
            subject_key = None
        main = decision.tracks[MAIN_TRACK]
        data = decision.data
        columns: dict[str, Any] = {
            "id": record_id,
            "definition_name": definition.name,
            "definition_version": definition.version,
            "state": main,
            "tracks": dict(decision.tracks),
            "data": dict(data),
            "actors": dict(decision.actors),
            "subject_name": data.get("subject_name"),
            "subject_code": data.get("subject_code"),
            "subject_key": subject_key,
            "responsible_unit": data.get("responsible_unit"),
            "finding_unit": data.get("finding_unit"),
            "severity": data.get("severity"),
            "finding_date": _as_date(data.get("finding_date")),
            "active": definition.main.states[main].active,
            "overdue": any(
                definition.tracks[t].states[s].overdue
                for t, s in decision.tracks.items()
                if t in definition.tracks
            ),
            "version": seq,
            "head_hash": digest,
        }
        rec_write = RecordWrite(
            **columns,
            expected_version=record.version if record else None,
            # the columns the command leaves as they were are not rewritten (nor their indexes)
            unchanged=frozenset(k for k, v in columns.items() if v == getattr(record, k))
            if record is not None
            else frozenset(),
        )
        inserts, updates, fired = _deadline_writes(
            definition, self.registry.calendar(definition), decision.deadlines, open_rows, now, seq
        )
        outbox = self._outbox(definition, record_id, seq, decision, command, now, effects, open_rows)
        return CommandWrite(
            record=rec_write,
            event=event_row,
            deadline_inserts=inserts,
            deadline_updates=updates,
            outbox=outbox,
            personal=decision.personal,
            purge_personal=decision.purge_personal_data,
            reminders=fired,
        )

    def _outbox(
        self,
        definition: Definition,
        record_id: str,
        seq: int,
        decision: Decision,
        command: Command,
        now: dt.datetime,
        effects: Mapping[str, Any],
        open_rows: Sequence[StoredDeadline],
    ) -> list[OutboxInsert]:
        """One outbox row per notice and recipient, with its context and calendar facts."""
        if not decision.notices:
            return []
        deadline_json: dict[str, dict[str, Any]] = {}
        started_seq: dict[str, int] = {}
        for row in open_rows:
            deadline_json[row.name] = {
                "due_at": row.due_at.isoformat(),
                "provisional": row.provisional,
                "basis": dict(row.basis),
            }
            started_seq[row.name] = row.started_seq
        for d in effects.get("deadlines", []):
            if "due_at" in d:
                deadline_json[d["name"]] = d
            if d["action"] == "start":
                started_seq[d["name"]] = seq
        data = decision.data
        names: dict[
            str, str
        ] = {}  # unit codes become names when the mail is rendered (workflow.runtime.dispatch)
        cause = notices.Cause(
            record_id=record_id,
            data=data,
            main_state=decision.tracks[MAIN_TRACK],
            event=definition.events.get(decision.event),
            event_name=decision.event,
            comment=command.comment,
            payload=decision.payload,
            data_changes=decision.data_changes,
            actor_unit=command.actor.unit,
            occurred_at=now,
        )
        extra = (
            self._round_extra(definition, decision)
            if any(n.template == "supervision_round_opened" for n in decision.notices)
            else None
        )
        messages = []
        for index, notice in enumerate(decision.notices):
            due = deadline_json.get(notice.deadline) if notice.deadline else None
            deadline_ctx = (
                notices.deadline_context(definition, notice.deadline, due)
                if notice.deadline and due
                else None
            )
            ics = None
            if deadline_ctx is not None and notice.deadline is not None:
                ended = notice.change in {"met", "met_late", "cancelled"}
                ics = {
                    "uid": f"{record_id}.{notice.deadline}.{started_seq.get(notice.deadline, seq)}",
                    "sequence": seq,
                    "method": "CANCEL" if ended else "REQUEST",
                    "summary": f"{deadline_ctx['label']}：{data.get('subject_name', record_id)}",
                }
            for unit in notice.recipients:
                key = f"{record_id}/{seq}/{index}/{notice.template}/{unit}"
                context = notices.build(
                    definition,
                    template=notice.template,
                    cause=cause,
                    recipient=unit,
                    names=names,
                    deadline=deadline_ctx,
                    rung=notice.rung,
                    change=notice.change,
                    extra=extra,
                )
                messages.append(
                    OutboxInsert(
                        cause=key,
                        template=notice.template,
                        recipient_unit=unit,
                        context={"vars": context, "ics": ics, "definition": definition.key},
                        message_id=hashlib.sha256(key.encode()).hexdigest()[:32],
                    )
                )
        return messages

    def _round_extra(self, definition: Definition, decision: Decision) -> dict[str, Any]:
        ids = [str(i) for i in decision.data.get("record_ids", [])]
        listed = []
        for record_id in ids[:50]:
            record = self.store.get(record_id)
            if record is not None:
                listed.append(
                    {
                        "id": record.id,
                        "subject_name": str(record.data.get("subject_name", "")),
                        "state_label": self._definition_of(record).label_of(MAIN_TRACK, record.state),
                    }
                )
        return {"round": notices.round_context(definition, decision.data, listed)}

    # -------------------------------------------------------------------- expiry

    def sweep(self, *, limit: int = 1000) -> SweepResult:
        """Do what is due: expire deadlines, fire reminder rungs — one item per transaction.

        Each item is claimed with a row lock that other engine processes skip (PostgreSQL
        ``FOR UPDATE SKIP LOCKED``; SQLite's write lock serialises sweeps), and fired in the
        same transaction, so a process killed mid-item leaves it for the next sweep. Unique
        keys (history sequence, reminder per rung and due date) make a second firing
        impossible even if two sweeps raced. The cost is one indexed look-up per due item,
        whatever the number of pending deadlines.
        """
        now = self.clock.now()
        fired = skipped = 0
        errors: list[str] = []
        failed: set[int] = set()  # items that failed this sweep are not claimed again in it
        while fired + skipped + len(errors) < limit:
            claimed: StoredDeadline | None = None
            try:
                with self.store.raw_writing() as conn:
                    claimed = self.store.claim_due(conn, now, exclude=failed)
                    if claimed is None:
                        break
                    outcome = self._fire_due(conn, claimed, now)
            except (Conflict, StorageBusy) as exc:
                # Another writer got there first; the item is looked at again by the next sweep.
                failed.add(claimed.id if claimed else -1)
                skipped += 1
                log.info("sweep item deferred", deadline_id=claimed.id if claimed else None, reason=str(exc))
                continue
            except WorkflowError as exc:
                failed.add(claimed.id if claimed else -1)
                errors.append(f"{claimed.record_id}/{claimed.name}: {exc}" if claimed else str(exc))
                log.error("sweep item failed", deadline_id=claimed.id if claimed else None, error=str(exc))
                continue
            if outcome:
                fired += 1
            else:
                skipped += 1
        return SweepResult(fired=fired, skipped=skipped, errors=errors)

    def run_due(self, *, limit: int = 1000) -> SweepResult:
        """Deprecated name of ``sweep``."""
        return self.sweep(limit=limit)

    def _fire_due(self, conn: Any, row: StoredDeadline, now: dt.datetime) -> bool:
        """Fire the one thing due on a claimed deadline: its expiry, else its latest due rung."""
        loaded = self.store.load(row.record_id, conn=conn, lock=True)
        if loaded is None:
            return False
        record = loaded[0]
        definition = self.registry.get(record.definition_name, record.definition_version)
        spec = definition.deadlines.get(row.name)

        def fire(command: Command) -> None:
            self._apply(record.id, command, None, None, None, conn=conn, loaded=loaded)

        if row.status == "active" and row.due_at <= now:
            event = spec.on_expiry_event if spec and spec.on_expiry_event else EXPIRED_EVENT
            try:
                fire(Command(event=event, actor=SYSTEM, deadline=row.name))
            except TransitionNotAllowed:  # the state moved on; the deadline still expires
                fire(Command(event=EXPIRED_EVENT, actor=SYSTEM, deadline=row.name))
            return True
        calendar = self.registry.calendar(definition)
        chosen, superseded = (
            reminders.choose(definition, calendar, spec, row.status, row.due_at, row.reminded, now)
            if spec is not None
            else (None, [])
        )
        if chosen is None or spec is None:
            upcoming = reminders.next_at(definition, calendar, spec, row.status, row.due_at, row.reminded)
            self.store.set_next_at(conn, row.id, upcoming if spec is not None else None)
            return False
        payload = {
            "deadline": row.name,
            "rung": chosen.rung.name,
            "scheduled_at": chosen.at.isoformat(),
            "late": (now - chosen.at) > LATE_AFTER,
            "superseded": [r.rung.name for r in superseded],
        }
        fire(Command(event=REMINDER_EVENT, actor=SYSTEM, deadline=row.name, payload=payload))
        return True

    def expire(self, row: StoredDeadline) -> bool:
        """Let one due deadline expire now; False when it was no longer due (met meanwhile)."""
        with self.store.raw_writing() as conn:
            loaded = self.store.load(row.record_id, conn=conn, lock=True)
            current = next((d for d in loaded[1] if d.id == row.id), None) if loaded else None
            if current is None or current.status != "active" or current.due_at > self.clock.now():
                return False
            return self._fire_due(conn, current, self.clock.now())

    # --------------------------------------------------------------------- reads

    def _definition_of(self, record: StoredRecord) -> Definition:
        return self.registry.get(record.definition_name, record.definition_version)

    def get(self, record_id: str) -> RecordView:
        """The record with its deadlines.

        Raises:
            RecordNotFound: no such record.
        """
        found = self.store.get_with_deadlines(record_id)
        if found is None:
            raise RecordNotFound(record_id)
        record, deadlines = found
        return record_view(self._definition_of(record), record, deadlines)

    def query(
        self,
        *,
        state: str | None = None,
        unit: str | None = None,
        subject: str | None = None,
        overdue: bool = False,
        active: bool | None = None,
        definition: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RecordView]:
        """Records matching every given filter; ``state`` may be ``track:state`` (e.g. ``publication:published``)."""
        track, _, name = state.rpartition(":") if state else ("", "", None)
        rows = self.store.query(
            state=name,
            track=track or None,
            unit=unit,
            subject=subject,
            overdue_at=self.clock.now() if overdue else None,
            active=active,
            definition=definition,
            limit=limit,
            offset=offset,
        )
        return [record_view(self._definition_of(r), r) for r in rows]

    def credit_check(
        self, *, requester: str, purpose: str, subject_code: str | None = None, id_number: str | None = None
    ) -> list[RecordView]:
        """Active records of a subject, for services that ask before an appraisal, honour or award.

        Every lookup is logged (who, when, why, which subject — a person only by masked ID).
        """
        from workflow.core.fields import mask_id_number

        if id_number:
            key = self.subject_key(id_number)
            rows = self.store.query(subject_key=key, active=True, limit=1000)
            shown = mask_id_number(id_number.strip().upper())
        elif subject_code:
            rows = self.store.query(subject=subject_code, active=True, limit=1000)
            shown = subject_code.strip().upper()
        else:
            raise WorkflowError(
                "信用核查需要统一社会信用代码或身份证号码 (a credit check needs a subject code or an ID number)"
            )
        self.store.log_subject_query(
            at=self.clock.now(), requester=requester, purpose=purpose, subject=shown, matches=len(rows)
        )
        return [record_view(self._definition_of(r), r) for r in rows]

    def history(self, record_id: str) -> list[HistoryEntry]:
        record = self.store.get(record_id)
        if record is None:
            raise RecordNotFound(record_id)
        definition = self._definition_of(record)
        return [history_entry(definition, e) for e in self.store.history(record_id)]

    def state_at(self, record_id: str, when: dt.datetime) -> RecordView:
        """The record as it stood at ``when``, rebuilt from its history.

        Raises:
            RecordNotFound: no such record, or it did not exist yet at ``when``.
        """
        from workflow.audit.checks import fold

        events = self.store.history(record_id, until=when)
        if not events:
            raise RecordNotFound(record_id)
        definition = self.registry.get(events[0].definition_name, events[0].definition_version)
        projection = fold(definition, events)
        record = StoredRecord(
            id=record_id,
            definition_name=definition.name,
            definition_version=definition.version,
            state=projection.tracks[MAIN_TRACK],
            tracks=projection.tracks,
            data=projection.data,
            actors=projection.actors,
            subject_name=projection.data.get("subject_name"),
            subject_code=projection.data.get("subject_code"),
            subject_key=None,
            responsible_unit=projection.data.get("responsible_unit"),
            finding_unit=projection.data.get("finding_unit"),
            severity=projection.data.get("severity"),
            finding_date=_as_date(projection.data.get("finding_date")),
            active=definition.main.states[projection.tracks[MAIN_TRACK]].active,
            overdue=projection.overdue,
            version=len(events),
            head_hash=events[-1].hash,
            created_at=events[0].occurred_at,
            updated_at=events[-1].occurred_at,
        )
        return record_view(definition, record)

    def events_for(self, record_id: str, actor: Actor) -> list[EventOption]:
        """Every event of the record's definition the actor's role may fire, and whether it can now."""
        loaded = self.store.load(record_id)
        if loaded is None:
            raise RecordNotFound(record_id)
        record, open_rows = loaded
        definition = self._definition_of(record)
        snapshot = _snapshot(record, open_rows)
        now = self.clock.now()
        options = []
        in_state = set(available_events(definition, record.tracks))
        for name, spec in definition.events.items():
            if spec.creates or actor.role not in spec.roles:
                continue
            reason = ""
            available = name in in_state
            if available:
                try:
                    decide(
                        definition,
                        self.registry.calendar(definition),
                        snapshot,
                        Command(event=name, actor=actor),
                        now,
                        record_id=record_id,
                        probe=True,
                    )
                except WorkflowError as exc:
                    available, reason = False, str(exc)
            else:
                reason = "当前状态不允许 (not allowed in the current state)"
            options.append(
                EventOption(
                    event=name,
                    label=spec.label,
                    roles=spec.roles,
                    available=available,
                    reason=reason,
                    payload_fields=[f"{f}{'*' if s.required else ''}" for f, s in spec.payload.items()],
                    comment_required=spec.comment_required,
                    legal_basis=spec.legal_basis,
                )
            )
        return options

    def iter_history_rows(self) -> Iterator[tuple[StoredRecord | None, list[RawEvent]]]:
        """Every record with its history rows as stored, for verification (streamed, flat memory)."""
        return self.store.iter_raw_histories()


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _view_after(
    definition: Definition,
    before: StoredRecord,
    write: CommandWrite,
    open_rows: Sequence[StoredDeadline],
    now: dt.datetime,
) -> RecordView:
    """The record as the command left it, from what was written (no read back): its open
    deadlines and those the command closed (``get`` also lists older closed ones)."""
    rec = write.record
    record = StoredRecord(
        **{name: getattr(rec, name) for name in _WRITTEN_COLUMNS},
        created_at=before.created_at,
        updated_at=now,
    )
    deadlines: list[StoredDeadline] = []
    updates = {u.id: u.values for u in write.deadline_updates}
    for row in open_rows:
        deadlines.append(dataclasses.replace(row, **updates[row.id]) if row.id in updates else row)
    for index, insert in enumerate(write.deadline_inserts):
        deadlines.append(
            StoredDeadline(
                id=-1 - index,  # not read back; the row's id is the database's
                record_id=rec.id,
                name=insert.name,
                started_seq=write.event.seq,
                status=insert.status,
                started_at=insert.started_at,
                due_at=insert.due_at,
                unit=insert.unit,
                amount=insert.amount,
                extended=0,
                paused_at=insert.paused_at,
                remaining=insert.remaining,
                provisional=insert.provisional,
                basis=insert.basis,
                closed_at=None,
                closed_seq=None,
                next_at=insert.next_at,
            )
        )
    return record_view(definition, record, deadlines)


def _snapshot(record: StoredRecord, open_rows: Sequence[StoredDeadline]) -> Snapshot:
    return Snapshot(
        record_id=record.id,
        tracks=dict(record.tracks),
        data=dict(record.data),
        actors=dict(record.actors),
        deadlines={
            row.name: OpenDeadline(
                id=row.id,
                name=row.name,
                status=row.status,
                started_at=row.started_at,
                due_at=row.due_at,
                unit=row.unit,
                amount=row.amount,
                extended=row.extended,
                paused_at=row.paused_at,
                remaining=row.remaining,
                basis=dict(row.basis),
                reminded=tuple(row.reminded),
            )
            for row in open_rows
        },
    )


def _remind_rows(
    definition: Definition,
    calendar: WorkingCalendar,
    row: StoredDeadline,
    effect: DeadlineEffect,
    now: dt.datetime,
) -> list[ReminderInsert]:
    """The reminder log rows of a fired rung and of the rungs it superseded."""
    spec = definition.deadlines.get(row.name)
    ladder = definition.ladders.get(spec.ladder or "") if spec else None
    rungs = ladder.rungs if ladder else ()
    times = {r.name: reminders.rung_time(definition, calendar, r, row.due_at) for r in rungs}
    named = [(effect.rung or "", "sent"), *((n, "superseded") for n in effect.superseded)]
    return [
        ReminderInsert(
            deadline_id=row.id,
            rung=name,
            due_at=row.due_at,
            scheduled_at=times.get(name, now),
            outcome=outcome,
        )
        for name, outcome in named
    ]


def _update_values(row: StoredDeadline, effect: DeadlineEffect, now: dt.datetime, seq: int) -> dict[str, Any]:
    """The column changes one effect makes to an open deadline's row."""
    if effect.action == "pause":
        return {"status": "paused", "paused_at": now, "remaining": effect.remaining}
    if effect.action in {"resume", "recompute"}:
        assert effect.due_at is not None
        status = "expired" if row.status == "expired" and effect.due_at <= now else "active"
        return {
            "status": status,
            "due_at": effect.due_at,
            "paused_at": None,
            "remaining": None,
            "provisional": effect.provisional,
            "basis": dict(effect.basis),
        }
    if effect.action == "extend":
        if effect.due_at is None:  # a paused deadline keeps more working days for later
            return {"extended": effect.extended, "remaining": effect.remaining}
        return {
            "extended": effect.extended,
            "due_at": effect.due_at,
            "status": "active",
            "provisional": effect.provisional,
            "basis": dict(effect.basis),
        }
    if effect.action == "expire":
        return {"status": "expired"}
    if effect.action == "close":
        return {"status": effect.outcome, "closed_at": now, "closed_seq": seq}
    if effect.action == "remind" and effect.rung is not None:
        return {"reminded": list(dict.fromkeys([*row.reminded, effect.rung, *effect.superseded]))}
    return {}


def _deadline_writes(
    definition: Definition,
    calendar: WorkingCalendar,
    effects: Sequence[DeadlineEffect],
    open_rows: Sequence[StoredDeadline],
    now: dt.datetime,
    seq: int,
) -> tuple[list[DeadlineInsert], list[DeadlineUpdate], list[ReminderInsert]]:
    """Turn a decision's deadline effects into row inserts and updates, keeping ``next_at`` right."""
    by_name = {row.name: row for row in open_rows}
    inserts: dict[str, dict[str, Any]] = {}
    updates: dict[int, dict[str, Any]] = {}
    fired: list[ReminderInsert] = []
    for effect in effects:
        if effect.action == "start":
            assert effect.due_at is not None
            inserts[effect.name] = {
                "name": effect.name,
                "status": "active",
                "started_at": now,
                "due_at": effect.due_at,
                "unit": effect.unit or "days",
                "amount": effect.amount or 0,
                "provisional": effect.provisional,
                "basis": dict(effect.basis),
            }
        elif effect.name in inserts and effect.action == "pause":  # started paused in this same command
            inserts[effect.name].update(status="paused", paused_at=now, remaining=effect.remaining)
        elif effect.name in by_name:
            row = by_name[effect.name]
            updates.setdefault(row.id, {}).update(_update_values(row, effect, now, seq))
            if effect.action == "remind":
                fired.extend(_remind_rows(definition, calendar, row, effect, now))
    for name, values in inserts.items():
        if values["status"] == "active":
            spec = definition.deadlines.get(name)
            values["next_at"] = reminders.next_at(definition, calendar, spec, "active", values["due_at"], ())
    for row in open_rows:
        changed = updates.get(row.id)
        if not changed:
            continue
        if "due_at" in changed and changed["due_at"] != row.due_at:
            changed["reminded"] = []  # a new due date gets a fresh ladder
        changed["next_at"] = reminders.next_at(
            definition,
            calendar,
            definition.deadlines.get(row.name),
            changed.get("status", row.status),
            changed.get("due_at", row.due_at),
            changed.get("reminded", row.reminded),
        )
    return (
        [DeadlineInsert(**v) for v in inserts.values()],
        [DeadlineUpdate(id=i, values=v) for i, v in updates.items() if v],
        fired,
    )
