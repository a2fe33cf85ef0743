"""``Engine``: the one object an embedding service, the CLI, the scheduler and the auditor use.

An ``Engine`` serves one database. Its commands (register a case, fire an event, open a case on
the engine's own initiative, sweep what is due) go through ``workflow.engine.commands``: load →
decide → one transaction. Its reads (get, query, history, state as of a date, the events an
actor may fire, a credit check) never write, except the log of who looked up a subject. The
unit directory, the holiday tables, the mail queue and what the scheduler counts for a
supervision round hang off it as ``units``, ``calendars``, ``outbox`` and ``supervision``, and the
figures reported for assessments as ``report_inputs``; an auditor streams the histories from it. Every error it raises is a
``WorkflowError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from storage.errors import DuplicateIdempotencyKey
from storage.store import Store
from storage.values import CaseRows, RawEvent, StoredEvent, StoredRecord
from workflow import settings
from workflow.core.decide import decide
from workflow.core.fold import fold
from workflow.core.states import available_events
from workflow.core.values import Actor, Command
from workflow.engine import inputs, opening, writeset
from workflow.engine import sweep as sweeping
from workflow.engine.accounts import Accounts
from workflow.engine.clock import Clock, ManualClock, parse_when, shanghai
from workflow.engine.commands import SYSTEM, Commands, FollowUp
from workflow.engine.credit import Credit, IntegrityArchive, SubjectStatus
from workflow.engine.directory import Calendars, Units
from workflow.engine.importing import Importer, ImportResult, RowProblem, SourceRow
from workflow.engine.keys import MARK, HistoryKey, configured_key
from workflow.engine.outbox import Outbox
from workflow.engine.registry import Registry
from workflow.engine.reported import ReportInputs
from workflow.engine.search import Search
from workflow.engine.supervision import Supervision
from workflow.engine.sweep import SweepResult
from workflow.engine.tokens import Tokens
from workflow.engine.views import EventOption, HistoryEntry, RecordView, history_entry, record_view
from workflow.engine.webhooks import Webhooks
from workflow.engine.worklist import Worklist
from workflow.engine.wrapping import public, stream, translated
from workflow.engine.writeset import Sealer
from workflow.errors import (
    ArgumentInvalid,
    ClockError,
    IdempotencyKeyReused,
    PermissionDenied,
    RecordNotFound,
    UnknownEvent,
    WorkflowError,
)


class Engine:
    """The workflow engine of one database. Safe to share between threads."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        meta: Mapping[str, str],
        *,
        seal: Sealer | None = None,
        history_key: HistoryKey | None = None,
    ) -> None:
        self.store = store  # the engine's own: nothing outside workflow.engine uses it
        self.registry = registry
        self.clock = clock
        self.simulated = meta.get("clock_mode") == "simulated"
        self.history_key = history_key  # the auditor checks the rows' MACs with it
        self.key_mark = meta.get(MARK)  # the database's mark of the key sealing its rows, as stored
        self._commands = Commands(
            store, registry, clock, simulated=self.simulated, pepper=bytes.fromhex(meta["pepper"]), seal=seal
        )
        self.units = Units(store, clock)
        self.outbox = Outbox(store, clock)
        self.webhooks = Webhooks(store, clock)
        self.calendars = Calendars(self._commands, registry)
        self.supervision = Supervision(store, registry)
        self.search = Search(store, registry, clock, self.events_for)
        self.worklist = Worklist(store, registry, clock)
        self.tokens = Tokens(store, clock)
        self._credit = Credit(store, registry, clock, self._commands.subject_key)
        self.report_inputs = ReportInputs(store, clock)
        self.accounts = Accounts(store, clock)
        self._importer = Importer(store, registry, self._commands, self.units)

    # ------------------------------------------------------------------- opening

    @classmethod
    @public
    def init(
        cls,
        url: str | None = None,
        *,
        simulated_start: dt.datetime | None = None,
        definitions: Sequence[Path] = (),
        key_file: Path | None = None,
    ) -> tuple[Engine, str | None, str]:
        """Create or upgrade the schema; a new database gets its clock mode here, for life.

        Returns the engine and the schema revisions before and after. With a history key
        (``key_file``, else ``CHENGXIN_HISTORY_KEY_FILE``) the database is marked as sealed by it.

        Raises:
            ClockError: the database exists with the other clock mode.
            DatabaseUnavailable: the database cannot be reached.
            DefinitionInvalid: a definition file is invalid.
            ArgumentInvalid: an argument of the wrong type.
            StoredDefinitionAltered, DefinitionChanged: a stored definition does not hold.
            HistoryKeyError: the key cannot be read or is not the database's.
        """
        url = inputs.url(url) or settings.load().database_url
        if simulated_start is not None:
            simulated_start = inputs.simulated_time("simulated_start", simulated_start)
        definitions = [Path(p) for p in inputs.paths("definitions", definitions)]
        store, meta, before, after = opening.initialise(url, simulated_start)
        try:
            return cls._make(store, meta, None, definitions, key_file=key_file), before, after
        except BaseException:
            store.close()
            raise

    @classmethod
    @public
    def open(
        cls,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        definitions: Sequence[Path] = (),
        key_file: Path | None = None,
        audit: bool = False,
    ) -> Engine:
        """Open an initialised database.

        Every stored definition version is checked against its SHA-256 and against its file; the
        engine refuses to run on a mismatch. With a history key (``key_file``, else the file
        ``CHENGXIN_HISTORY_KEY_FILE`` names) every history row it writes is sealed with it.

        ``audit=True`` opens the database for an auditor: it writes nothing, and a definition
        mismatch is kept in ``registry.mismatches`` for ``workflow.audit.verify`` to report
        instead of refusing.

        Raises:
            SchemaOutdated: run ``chengxin init``.
            ClockError: a simulated clock was given for a real-time database, or the reverse.
            DefinitionInvalid: a definition file is invalid.
            StoredDefinitionAltered: a stored definition's text was edited in the database.
            DefinitionChanged: a definition file differs from the stored text of its version.
            HistoryKeyError: the key cannot be read, or is not the one the database's rows are
                sealed with.
            DatabaseUnavailable: the database cannot be reached.
            ArgumentInvalid: an argument of the wrong type.
        """
        url = inputs.url(url) or settings.load().database_url
        clock = inputs.clock(clock)
        definitions = [Path(p) for p in inputs.paths("definitions", definitions)]
        store = Store.open(url)
        try:
            return cls._make(store, store.meta(), clock, definitions, key_file=key_file, audit=audit)
        except BaseException:
            store.close()
            raise

    @classmethod
    def _make(
        cls,
        store: Store,
        meta: Mapping[str, str],
        clock: Clock | None,
        definitions: Sequence[Path],
        *,
        key_file: Path | None = None,
        audit: bool = False,
    ) -> Engine:
        chosen = opening.clock_for(meta, clock)
        registry = opening.registry_for(store, definitions, meta)
        if not audit:
            registry.check()
        key = configured_key(key_file)
        seal = opening.sealer_for(store, meta, key, chosen, audit=audit)
        if key is not None and MARK not in meta and not audit:
            meta = store.meta()  # with the mark just written
        return cls(store, registry, chosen, meta, seal=seal, history_key=key)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @public
    def advance_clock(self, to: dt.datetime) -> dt.datetime:
        """Move simulated time forward (drill databases only) and remember it in the database.

        Raises:
            ClockError: real-time database, or ``to`` is earlier than the simulated now.
            ArgumentInvalid: ``to`` is not an aware datetime, or after 2100-12-31.
        """
        to = inputs.simulated_time("to", to)
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

    @public
    def follow_clock(self) -> dt.datetime:
        """On a drill database, catch up with the simulated time another process moved on."""
        if self.simulated and isinstance(self.clock, ManualClock):
            stored = parse_when(self.store.meta()["simulated_now"])
            if stored > self.clock.now():
                self.clock.set(stored)
        return self.clock.now()

    # ------------------------------------------------------------------ commands

    @public
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
        """Register a new case as a draft of ``definition`` (and submit it at once with ``submit``,
        in the same transaction: when the submit is refused, nothing is registered).

        Without ``version`` the version in force on the case's date is chosen.

        Raises:
            ArgumentInvalid, DefinitionNotFound, PermissionDenied, PayloadInvalid, IdempotencyKeyReused,
            WorkflowError.
        """
        definition = inputs.code("definition", definition)
        fields = inputs.payload(fields, event="register", argument="fields")
        actor = inputs.actor(actor)
        version = inputs.optional_integer("version", version, low=1, high=inputs.INT64[1])
        comment = inputs.comment(comment)
        submit = inputs.flag("submit", submit)
        idempotency_key = inputs.idempotency_key(
            idempotency_key,
            limit=inputs.KEY - len(":submit") if submit else inputs.KEY,  # see below
        )
        commands = self._commands
        commands.check_definitions()
        commands.refuse_system(actor, "register")
        fingerprint = None  # what a key stands for, stored with the event; without a key nothing asks
        submit_key = f"{idempotency_key}:submit" if idempotency_key is not None and submit else None
        if idempotency_key is not None:
            fingerprint = commands.fingerprint(None, "register", actor, fields, comment)
            replay = commands.replayed(idempotency_key, fingerprint)
            if replay is not None:
                return self._registered(replay, actor, submit_key)
        if version is not None:
            chosen = self.registry.get(definition, version)
        else:
            date_field = self.registry.select(definition).index.case_date
            chosen = self.registry.select(definition, writeset.as_date(fields.get(date_field or "")))
        fields = self.units.with_superior(chosen, fields)  # after the fingerprint: a retry still matches
        command = Command(
            event=chosen.creation_event().name, actor=actor, payload=dict(fields), comment=comment
        )
        then = [FollowUp(Command(event="submit", actor=actor), submit_key)] if submit else []
        self.units.check_recipients(chosen, fields)
        try:
            _record_id, view = commands.create(
                chosen, command, idempotency_key=idempotency_key, fingerprint=fingerprint, then=then
            )
        except (DuplicateIdempotencyKey, WorkflowError) as exc:
            # a concurrent retry with the same key may have won: answer as it did
            replay = (
                None if idempotency_key is None else commands.replayed(idempotency_key, fingerprint or "")
            )
            if replay is not None:
                return self._registered(replay, actor, submit_key)
            if isinstance(exc, DuplicateIdempotencyKey) and submit_key is not None:
                raise IdempotencyKeyReused(submit_key) from exc  # the submit's key stands for another request
            raise
        return view

    @public
    def import_records(
        self,
        rows: Iterable[SourceRow],
        *,
        source: str,
        actor: Actor,
        definition: str = "national",
        dry_run: bool = False,
        batch: int = 2000,
        on_problem: Callable[[RowProblem], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        workers: int = 0,
    ) -> ImportResult:
        """Bring in cases from an old system with their state, dates and documents
        (``workflow.engine.importing``; rows from a file: ``workflow.engine.import_files``).

        Each row is checked as a submission is, and becomes a case whose first history row is an
        ``@import`` event; its running deadlines are planned from the imported dates. Rows are
        written ``batch`` per transaction with their source ids, so a second run of the same rows
        imports only those the first did not. A bad row is reported (``on_problem``) and nothing
        of it is written. With ``dry_run`` the rows are checked only. With ``workers`` > 1 that
        many forked processes decide the rows while this one reads and writes (Linux).

        Raises:
            ArgumentInvalid, PermissionDenied, DefinitionNotFound, WorkflowError (the database).
        """
        actor = inputs.actor(actor)
        source = inputs.text("source", source, limit=500)
        definition = inputs.code("definition", definition)
        return self._importer.run(
            rows,
            source=source,
            actor=actor,
            definition=definition,
            dry_run=inputs.flag("dry_run", dry_run),
            batch=batch,
            on_problem=on_problem,
            on_progress=on_progress,
            workers=inputs.integer("workers", workers, low=0, high=64),
        )

    def _registered(self, replay: StoredEvent, actor: Actor, submit_key: str | None) -> RecordView:
        """The answer to a registration whose key was used already: the case it created, submitted
        now if this request asks for it and the first one registered a draft only."""
        view = self.get(replay.record_id)
        initial = self.registry.get(replay.definition_name, replay.definition_version).main.initial
        if submit_key is not None and view.state == initial:
            return self.fire(view.id, "submit", actor=actor, idempotency_key=submit_key)
        return view

    @public
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
        """Fire ``event`` on a case as ``actor``; the same idempotency key twice applies once.

        ``expected_version`` is the version the caller saw; if the case has moved on since, the
        command fails with ``Conflict`` instead of acting on a state the caller did not see.
        Returns the case as ``get`` would show it afterwards.

        Raises:
            ArgumentInvalid, RecordNotFound, UnknownEvent, PermissionDenied, TransitionNotAllowed,
            CommentRequired, PayloadInvalid, GuardRefused, DeadlineExtensionRefused, Conflict,
            IdempotencyKeyReused.
        """
        record_id = inputs.record_id(record_id)
        event = inputs.code("event", event)
        actor = inputs.actor(actor)
        body = inputs.payload(payload, event=event)
        comment = inputs.comment(comment)
        idempotency_key = inputs.idempotency_key(idempotency_key)
        expected_version = inputs.optional_integer(
            "expected_version", expected_version, low=0, high=inputs.INT64[1]
        )
        commands = self._commands
        commands.check_definitions()
        commands.refuse_system(actor, event)
        fingerprint = None  # what a key stands for, stored with the event; without a key nothing asks
        if idempotency_key is not None:
            fingerprint = commands.fingerprint(record_id, event, actor, body, comment)
            replay = commands.replayed(idempotency_key, fingerprint)
            if replay is not None:
                return self.get(replay.record_id)
        command = Command(event=event, actor=actor, payload=body, comment=comment)
        try:
            return commands.apply(
                record_id,
                command,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                expected_version=expected_version,
            )
        except (DuplicateIdempotencyKey, WorkflowError):
            # A concurrent retry with the same key may have won (this one then finds the case
            # moved on: a conflict, or an event no longer allowed): answer as it did.
            replay = (
                None if idempotency_key is None else commands.replayed(idempotency_key, fingerprint or "")
            )
            if replay is None:
                raise
            return self.get(replay.record_id)

    @public
    def open_case(
        self, definition: str, fields: Mapping[str, Any], *, key: str, version: int | None = None
    ) -> tuple[str, bool]:
        """Create a case on the engine's own initiative (a supervision round, say), at most once
        per ``key``; returns its id and whether it was created now. Without ``version`` the newest
        version of the definition is used.

        Raises:
            DefinitionNotFound, PayloadInvalid: the definition or the fields are wrong.
            ArgumentInvalid: an argument of the wrong type.
        """
        definition = inputs.code("definition", definition)
        fields = inputs.payload(fields, event="open", argument="fields")
        key = inputs.text("key", key, limit=inputs.KEY, empty=False)
        version = inputs.optional_integer("version", version, low=1, high=inputs.INT64[1])
        commands = self._commands
        commands.check_definitions()
        existing = self.store.history.by_key(key)
        if existing is not None:
            return existing.record_id, False
        chosen = self.registry.get(definition, version) if version else self.registry.select(definition)
        command = Command(event=chosen.creation_event().name, actor=SYSTEM, payload=dict(fields))
        fingerprint = commands.fingerprint(None, "open", SYSTEM, fields, "")
        try:
            record_id, _view = commands.create(chosen, command, idempotency_key=key, fingerprint=fingerprint)
        except DuplicateIdempotencyKey:
            found = self.store.history.by_key(key)
            assert found is not None
            return found.record_id, False
        return record_id, True

    @public
    def fire_system(
        self, record_id: str, event: str, payload: Mapping[str, Any] | None = None, *, key: str
    ) -> tuple[RecordView, bool]:
        """Fire ``event`` on an existing case on the engine's own initiative (the scheduler opening
        a ledger check, say), at most once per ``key``; returns the case and whether it fired now.

        Only an event that no person may fire — every role allowed to fire it is a system role —
        can be fired this way; ``fire`` still refuses the system role to every caller.

        Raises:
            RecordNotFound, UnknownEvent: no such case, or its definition has no such event.
            PermissionDenied: a person's role may fire the event.
            TransitionNotAllowed, PayloadInvalid, GuardRefused: what the decision refuses.
            IdempotencyKeyReused: ``key`` stands for an event on another case.
        """
        commands = self._commands
        commands.check_definitions()
        record = self.store.records.get(record_id)
        if record is None:
            raise RecordNotFound(record_id)
        definition = self._definition_of(record)
        spec = definition.events.get(event)
        if spec is None or spec.creates:
            raise UnknownEvent(
                event, definition.key, [n for n, e in definition.events.items() if not e.creates]
            )
        people = [role for role in spec.roles if not definition.roles[role].system]
        if people:
            raise PermissionDenied(
                SYSTEM.role,
                event,
                spec.roles,
                why=f"该事件可由 {', '.join(people)} 执行，不能由系统代为执行 (a person may fire it; the system may not)",
            )
        existing = self.store.history.by_key(key)
        if existing is not None:
            if existing.record_id != record_id:
                raise IdempotencyKeyReused(key)
            return self.get(record_id), False
        body = dict(payload or {})
        command = Command(event=event, actor=SYSTEM, payload=body)
        fingerprint = commands.fingerprint(record_id, event, SYSTEM, body, "")
        try:
            view = commands.apply(record_id, command, idempotency_key=key, fingerprint=fingerprint)
        except (DuplicateIdempotencyKey, WorkflowError):
            # another engine process fired it meanwhile: this one then finds the key taken, or the
            # case moved on (a conflict, the event no longer allowed)
            found = self.store.history.by_key(key)
            if found is None or found.record_id != record_id:
                raise
            return self.get(record_id), False
        return view, True

    @public
    def sweep(self, *, limit: int = 1000) -> SweepResult:
        """Do what is due now — deadline expiries and reminder rungs — one item per transaction."""
        limit = inputs.integer("limit", limit, low=1, high=inputs.INT32)
        return sweeping.sweep(self._commands, limit=limit)

    def subject_key(self, id_number: str) -> str:
        """The keyed digest a person is found by; the ID number itself is never stored with the case."""
        return self._commands.subject_key(inputs.text("id_number", id_number, limit=inputs.CODE))

    # --------------------------------------------------------------------- reads

    def _definition_of(self, record: StoredRecord) -> Any:
        return self.registry.get(record.definition_name, record.definition_version)

    @public
    def get(self, record_id: str, *, reader: Actor | None = None, reason: str | None = None) -> RecordView:
        """The case with all its deadlines.

        With ``reader`` (and ``reason``), a read of a natural person's record is written to the
        query log (who, when, why, the person by masked ID number) before the view is returned;
        the HTTP API passes the caller.

        Raises:
            RecordNotFound: no such case.
            ArgumentInvalid: ``record_id`` is not an id's text; a reader without a reason.
        """
        record_id = inputs.record_id(record_id)
        loaded = self.store.records.load(record_id)
        if loaded is None:
            raise RecordNotFound(record_id)
        if reader is not None and loaded.record.subject_key:
            self._credit.log_read(loaded.record, reader=reader, reason=reason)
        return record_view(self._definition_of(loaded.record), loaded.record, loaded.deadlines)

    SORTABLE = ("created_at", "updated_at", "case_date", "id", "state", "severity", "subject_name")
    """The columns ``query`` sorts by (``sort`` takes them, ``-`` in front for descending)."""

    @public
    def query(
        self,
        *,
        state: str | None = None,
        unit: str | None = None,
        subject: str | None = None,
        overdue: bool = False,
        active: bool | None = None,
        definition: str | None = None,
        kind: str | None = None,
        units: Sequence[str] | None = None,
        sort: Sequence[str] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> list[RecordView]:
        """Cases matching every given filter; ``state`` may be ``track:state`` (e.g. ``publication:published``).

        ``units`` keeps the cases whose responsible or originating unit is one of them (what a
        caller scoped to part of the unit tree may see); ``sort`` names columns of ``SORTABLE``,
        ``-created_at`` for newest first; without it cases come oldest first.

        Raises:
            ArgumentInvalid: a filter of the wrong type or size, or an unknown sort column.
            DefinitionNotFound: ``definition`` with a track state names no definition.
        """
        filters = self._filters(state, unit, subject, overdue, active, definition, kind, units)
        order = []
        for key in inputs.codes("sort", sort):
            name = key.removeprefix("-")
            if name not in self.SORTABLE:
                raise ArgumentInvalid("sort", f"{key!r}; sortable: {', '.join(self.SORTABLE)}")
            order.append((name, key.startswith("-")))
        limit = inputs.integer("limit", limit, low=1, high=inputs.UNITS * 10)
        offset = inputs.integer("offset", offset, low=0, high=inputs.INT64[1])
        rows = self.store.records.query(**filters, order=order, limit=limit, offset=offset)
        return [record_view(self._definition_of(r), r) for r in rows]

    @public
    def count(
        self,
        *,
        state: str | None = None,
        unit: str | None = None,
        subject: str | None = None,
        overdue: bool = False,
        active: bool | None = None,
        definition: str | None = None,
        kind: str | None = None,
        units: Sequence[str] | None = None,
    ) -> int:
        """How many cases ``query`` finds with the same filters, without paging.

        Raises:
            ArgumentInvalid, DefinitionNotFound: as ``query``.
        """
        filters = self._filters(state, unit, subject, overdue, active, definition, kind, units)
        return self.store.records.count(**filters)

    def _filters(
        self,
        state: str | None,
        unit: str | None,
        subject: str | None,
        overdue: bool,
        active: bool | None,
        definition: str | None,
        kind: str | None,
        units: Sequence[str] | None,
    ) -> dict[str, Any]:
        state = inputs.optional_text("state", state, limit=2 * inputs.CODE + 1)
        unit = inputs.optional_text("unit", unit, limit=inputs.CODE)
        subject = inputs.optional_text("subject", subject, limit=inputs.NAME)
        overdue = inputs.flag("overdue", overdue)
        active = inputs.optional_flag("active", active)
        definition = inputs.optional_text("definition", definition, limit=inputs.CODE)
        kind = inputs.optional_text("kind", kind, limit=inputs.CODE)
        scope = None if units is None else inputs.codes("units", units)
        main_state = track_state = None
        if state:
            track, _, name = state.rpartition(":")
            mains = (
                {self.registry.select(definition).main_track}
                if definition
                else {d.main_track for d in self.registry.all()}
            )
            if not track or track in mains:
                main_state = name
            else:
                track_state = (track, name)
        return {
            "main_state": main_state,
            "track_state": track_state,
            "unit": unit,
            "subject": subject,
            "overdue_at": self.clock.now() if overdue else None,
            "active": active,
            "definition": definition,
            "kind": kind,
            "units": scope,
        }

    @public
    def credit_check(
        self, *, requester: str, purpose: str, subject_code: str | None = None, id_number: str | None = None
    ) -> list[RecordView]:
        """Active cases of a subject, for services that ask before an appraisal, honour or award.

        Every lookup is logged (who, when, why, which subject — a person only by masked ID).

        Raises:
            ArgumentInvalid: an argument of the wrong type or size.
            WorkflowError: neither a subject code nor an ID number.
        """
        from notifications.privacy import mask_id_number

        requester = inputs.text("requester", requester, limit=inputs.ACTOR_ID)
        purpose = inputs.text("purpose", purpose, limit=inputs.NAME)
        subject_code = inputs.optional_text("subject_code", subject_code, limit=inputs.NAME)
        id_number = inputs.optional_text("id_number", id_number, limit=inputs.CODE)

        if id_number:
            rows = self.store.records.query(subject_key=self.subject_key(id_number), active=True, limit=1000)
            shown = mask_id_number(id_number)
        elif subject_code:
            rows = self.store.records.query(subject=subject_code, active=True, limit=1000)
            shown = subject_code.strip().upper()
        else:
            raise WorkflowError(
                "信用核查需要统一社会信用代码或身份证号码 (a credit check needs a subject code or an ID number)"
            )
        self.store.directory.log_subject_query(
            at=self.clock.now(), requester=requester, purpose=purpose, subject=shown, matches=len(rows)
        )
        return [record_view(self._definition_of(r), r) for r in rows]

    @public
    def log_person_reads(self, views: Sequence[RecordView], *, requester: str, purpose: str) -> int:
        """Write to the query log that ``requester`` read these cases, for each one about a natural
        person (its definition indexes an ID number and the case holds one): who, when, why, and
        the person by masked ID number only. Returns how many were logged.

        Raises:
            ArgumentInvalid: ``requester`` or ``purpose`` of the wrong type or size.
        """
        requester = inputs.text("requester", requester, limit=inputs.ACTOR_ID)
        purpose = inputs.text("purpose", purpose, limit=inputs.NAME)
        people = []
        for view in views:
            name, _, version = view.definition.rpartition("@")
            field = self.registry.get(name, int(version)).index.subject_id_number
            shown = view.data.get(field) if field else None
            if isinstance(shown, str) and shown:
                people.append(shown[: inputs.NAME])  # views hold the ID number masked already
        self.store.directory.log_subject_queries(
            at=self.clock.now(),
            requester=requester,
            purpose=purpose,
            reason=None,
            kind="read",
            subjects=[(person, 1) for person in people],
        )
        return len(people)

    @public
    def subject_status(
        self,
        code_or_id_number: str,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        purposes: Sequence[str] | str | None = None,
        actor: Actor,
        reason: str,
    ) -> SubjectStatus:
        """Credit check (信用核查) of one subject on ``as_of`` (today in Asia/Shanghai when None):
        its active records, active sanctions with their end dates, pending objections, and for each
        purpose (``honours``, ``annual_appraisal``, ``funding``, ``procurement``, or any a
        definition declares; all when None) allowed or barred until a date, with the rule and its
        legal basis. The look-up is written to the query log (who, when, why, which subject — a
        person only by masked ID number) before the answer is returned.

        Raises:
            ArgumentInvalid: not a unified social credit code or resident ID number, an unknown
                purpose, a bad date, no reason.
            StorageFailure: the database failed, before the answer (no answer without its
                query-log row).
        """
        (found,) = self._credit.status(
            [code_or_id_number], as_of=as_of, purposes=purposes, actor=actor, reason=reason
        )
        return found

    @public
    def subject_status_logged_later(
        self,
        code_or_id_number: str,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        purposes: Sequence[str] | str | None = None,
        actor: Actor,
        reason: str,
    ) -> tuple[SubjectStatus, Future[None]]:
        """``subject_status`` for a caller that must not block on the query-log commit (the HTTP
        API's event loop): the answer, and a future that completes once the check's query-log
        row is committed — together with those of concurrent checks, by a writer thread — or
        fails with a ``StorageFailure``. The answer must not be handed out before the future
        completes without error: a check is logged before it answers.

        Raises:
            ArgumentInvalid: as ``subject_status``.
        """
        (found,), logged = self._credit.status_logged_later(
            [code_or_id_number], as_of=as_of, purposes=purposes, actor=actor, reason=reason
        )
        assert logged is not None
        return found, translated(logged)

    @public
    def subject_statuses(
        self,
        subjects: Sequence[str],
        *,
        as_of: dt.date | dt.datetime | str | None = None,
        purposes: Sequence[str] | str | None = None,
        actor: Actor,
        reason: str,
    ) -> list[SubjectStatus]:
        """``subject_status`` for up to 1,000 subjects at once (one query, one log transaction).

        Raises:
            ArgumentInvalid: more than 1,000 subjects, or one that ``subject_status`` refuses.
        """
        return self._credit.status(list(subjects), as_of=as_of, purposes=purposes, actor=actor, reason=reason)

    @public
    def integrity_archive(
        self, id_number: str, *, as_of: dt.date | dt.datetime | str | None = None, actor: Actor, reason: str
    ) -> IntegrityArchive:
        """A civil servant's integrity archive (公务员诚信档案): records, sanctions, disciplinary
        impact periods, commitments and the 优秀 rating of the appraisal year; the ID number masked.
        The read is written to the query log.

        Raises:
            ArgumentInvalid: not a resident ID number, a bad date, no reason.
        """
        return self._credit.archive(id_number, as_of=as_of, actor=actor, reason=reason)

    @public
    def query_log(self, *, limit: int = 200, requester: str | None = None) -> list[dict[str, Any]]:
        """The newest entries of the query log (who read or checked which subject, when, why; a
        person by masked ID number only), newest first; ``requester`` keeps one requester's.

        Raises:
            ArgumentInvalid: ``limit`` or ``requester`` of the wrong type or size.
        """
        limit = inputs.integer("limit", limit, low=1, high=10_000)
        requester = inputs.optional_text("requester", requester, limit=inputs.ACTOR_ID)
        return self.store.directory.query_log(limit=limit, requester=requester or None)

    @public
    def history(self, record_id: str) -> list[HistoryEntry]:
        """Every event of a case, oldest first, with its labels.

        Raises:
            RecordNotFound: no such case.
            ArgumentInvalid: ``record_id`` is not an id's text.
        """
        record_id = inputs.record_id(record_id)
        record = self.store.records.get(record_id)
        if record is None:
            raise RecordNotFound(record_id)
        definition = self._definition_of(record)
        return [history_entry(definition, e) for e in self.store.history.of(record_id)]

    @public
    def state_at(self, record_id: str, when: dt.datetime) -> RecordView:
        """The case as it stood at ``when``, rebuilt from its history.

        Raises:
            RecordNotFound: no such case, or it did not exist yet at ``when``.
            ArgumentInvalid: ``record_id`` is not an id's text, or ``when`` not an aware datetime.
        """
        record_id = inputs.record_id(record_id)
        when = inputs.moment("when", when)
        events = self.store.history.of(record_id, until=when)
        if not events:
            raise RecordNotFound(record_id)
        definition = self.registry.get(events[0].definition_name, events[0].definition_version)
        projection = fold(definition, events)
        record = writeset.record_row(
            definition,
            record_id=record_id,
            tracks=projection.tracks,
            data=projection.data,
            actors=projection.actors,
            subject_key=None,
            version=len(events),
            head_hash=events[-1].hash,
            created_at=events[0].occurred_at,
            updated_at=events[-1].occurred_at,
        )
        return record_view(definition, record)

    @public
    def events_for(self, record_id: str, actor: Actor) -> list[EventOption]:
        """Every event of the case's definition the actor's role may fire, and whether it can now.

        Raises:
            RecordNotFound: no such case.
            ArgumentInvalid: ``record_id`` or ``actor`` of the wrong type.
        """
        record_id = inputs.record_id(record_id)
        actor = inputs.actor(actor)
        loaded = self.store.records.load(record_id)
        if loaded is None:
            raise RecordNotFound(record_id)
        definition = self._definition_of(loaded.record)
        snapshot = writeset.snapshot_of(loaded.record, loaded.open)
        now = self.clock.now()
        options = []
        in_state = set(available_events(definition, loaded.record.tracks))
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

    # --------------------------------------------------------------------- audit

    def histories(
        self, *, after: str | None = None, upto: str | None = None
    ) -> Iterator[tuple[StoredRecord | None, list[RawEvent]]]:
        """Every case with its history rows as stored, streamed case by case from one snapshot in
        id order (memory stays flat); ``after``/``upto`` bound the ids (a part of a parallel verify)."""
        after = inputs.optional_text("after", after, limit=inputs.RECORD_ID)
        upto = inputs.optional_text("upto", upto, limit=inputs.RECORD_ID)
        return stream(self.store.history.iter_raw(after=after, upto=upto))

    def cases(
        self, *, after: str | None = None, upto: str | None = None, only: str | None = None
    ) -> Iterator[CaseRows]:
        """Every case with everything stored about it that drives its behaviour (its row, history
        rows as stored, parallel tracks, deadlines, reminder log, personal data), streamed case by
        case from one snapshot in id order; a row that cannot be read comes as a finding with its
        case (``CaseRows.unreadable``). What ``workflow.audit.verify`` reads. ``after``/``upto``
        bound the ids (a part of a parallel verify); ``only`` reads one case."""
        return stream(self.store.history.cases(after=after, upto=upto, only=only))

    @public
    def stored_history(self, record_id: str) -> list[StoredEvent]:
        """One case's history rows as stored.

        Raises:
            RecordNotFound: the case has no history.
            ArgumentInvalid: ``record_id`` is not an id's text.
        """
        events = self.store.history.of(inputs.record_id(record_id))
        if not events:
            raise RecordNotFound(record_id)
        return events

    def heads(self) -> Iterator[tuple[str, int, str]]:
        """(case id, last seq, last hash) of every chain, for a checkpoint."""
        return stream(self.store.history.heads())

    def event_hashes(self) -> Iterator[tuple[str, int, str]]:
        """(case id, seq, hash) of every history row, in id and seq order."""
        return stream(self.store.history.hashes())

    @public
    def split_points(self, parts: int) -> list[str]:
        """Case ids that cut the cases into ``parts`` runs of about equal length."""
        return self.store.history.split_points(inputs.integer("parts", parts, low=1, high=1024))

    @property
    def database(self) -> str:
        """The database's URL without its password."""
        from storage.db import redact

        return redact(str(self.store.engine.url))
