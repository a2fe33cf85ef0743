"""The write path: load → decide → write set → commit, one transaction per command.

``Commands`` is the one place where a case changes. It reads the case through a store unit of
work, asks the pure ``decide`` what happens, turns the decision into rows
(``workflow.engine.writeset``) and commits them at once, guarded by the case's version. Time
comes only from the injected clock, and never runs behind a case's last event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from definitions.model import Definition, FieldSpec
from storage.errors import DuplicateRecordId, VersionConflict
from storage.store import Store, UnitOfWork
from storage.values import CommandWrite, Loaded, StoredDeadline, StoredDefinition, StoredEvent, StoredRecord
from workflow.core.decide import decide
from workflow.core.history import request_fingerprint
from workflow.core.values import Actor, Command, Decision
from workflow.engine import linking, writeset
from workflow.engine.clock import Clock, shanghai
from workflow.engine.registry import Registry
from workflow.engine.views import RecordView, deadlines_after, record_view, view_after
from workflow.errors import (
    ClockError,
    Conflict,
    DefinitionChanged,
    IdempotencyKeyReused,
    PayloadInvalid,
    PermissionDenied,
    RecordNotFound,
    WorkflowError,
)
from workflow.log import InfoLine

transition = InfoLine("chengxin.engine")  # every transition, as ``log.info`` would write it
_CALLER = (__file__, 0, "_log")

SYSTEM = Actor(id="system", role="system", unit="chengxin")
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A command fired on a new case in the transaction that creates it, with its idempotency key."""

    command: Command
    idempotency_key: str | None = None


def new_case_id(prefix: str, now: dt.datetime) -> str:
    """``SX20261122-7K3QF2``: the definition's prefix, the day in China, six random characters."""
    day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
    return f"{prefix}{day}-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(6))


class Commands:
    """What changes cases, for one database. Safe to share between threads."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        *,
        simulated: bool,
        pepper: bytes,
        seal: writeset.Sealer | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.simulated = simulated
        self._pepper = pepper
        self._seal = seal  # the history key's MAC of each row written (workflow.engine.keys)
        self._registered: set[tuple[str, int, str]] = set()

    # ----------------------------------------------------------------- checks

    def subject_key(self, id_number: str) -> str:
        """The keyed digest a person is found by; the ID number itself is never stored with the case."""
        return hmac.new(self._pepper, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def check_definitions(self) -> None:
        self.registry.check()

    def refuse_system(self, actor: Actor, event: str) -> None:
        """The system role is the sweep's and the scheduler's: no caller may act in it."""
        if actor.role in self.registry.system_roles():
            raise PermissionDenied(
                actor.role,
                event,
                [],
                why="角色 system 仅供期限到期处理使用 (reserved for the deadline sweep)",
            )

    def check_units(self, specs: Mapping[str, FieldSpec], payload: Mapping[str, Any], event: str) -> None:
        """Every unit a ``known_unit`` field names is in the unit directory.

        Raises:
            PayloadInvalid: naming the first field whose unit is unknown.
        """
        wanted = {
            name: str(value)
            for name, value in payload.items()
            if value and name in specs and specs[name].known_unit
        }
        if not wanted:
            return
        found = self.store.directory.units_by_code(wanted.values())
        for name, code in wanted.items():
            if code not in found:
                raise PayloadInvalid(
                    event,
                    name,
                    f"单位 {code} 不在单位名录中 (unknown unit; add it with `chengxin unit add` or `unit import`)",
                )

    def now(self, record: StoredRecord | None) -> dt.datetime:
        now = self.clock.now()
        if record is not None and now < record.updated_at:
            raise ClockError(
                f"时间早于记录 {record.id} 的最后一次变更 {shanghai(record.updated_at)} (the clock is behind the record's "
                "last event; events are never written out of time order)"
            )
        return now

    def fingerprint(
        self, record_id: str | None, event: str, actor: Actor, payload: Mapping[str, Any], comment: str
    ) -> str:
        return request_fingerprint(
            record_id, event, (actor.id, actor.role, actor.unit), dict(payload), comment
        )

    def _fingerprint_of(self, record_id: str, command: Command) -> str:
        return self.fingerprint(record_id, command.event, command.actor, command.payload, command.comment)

    def replayed(self, key: str, fingerprint: str) -> StoredEvent | None:
        """The event an idempotency key already stands for, if any.

        Raises:
            IdempotencyKeyReused: the key was used for a different request.
        """
        stored = self.store.history.by_key(key)
        if stored is None:
            return None
        if stored.effects.get("request") != fingerprint:
            raise IdempotencyKeyReused(key)
        return stored

    # --------------------------------------------------------------- commands

    def create(
        self,
        definition: Definition,
        command: Command,
        *,
        idempotency_key: str | None,
        fingerprint: str | None,
        then: Sequence[FollowUp] = (),
    ) -> tuple[str, RecordView]:
        """Create a case with the definition's creating event — and fire ``then`` on it in the same
        transaction — returns its id and view.

        Every command is decided on the new case as the ones before left it before anything is
        written: when one is refused, nothing is (no draft is left behind a refused submit).

        Raises:
            DuplicateIdempotencyKey: another command took one of the keys meanwhile.
            WorkflowError: what a decision refuses.
        """
        for _attempt in range(5):
            now = self.now(None)
            record_id = new_case_id(definition.id_prefix, now)
            writes, decided, deadlines = self._creation(
                definition, record_id, command, now, idempotency_key, fingerprint, then
            )
            self._register_definition(definition, now)
            try:
                with self.store.command() as uow:
                    uow.commit(*writes)
            except DuplicateRecordId:
                continue
            for version, (done, actor, state) in enumerate(decided, start=1):
                self._log(record_id, definition, done, actor, state, version=version)
            return record_id, record_view(definition, writes[-1].record.record, deadlines)
        raise WorkflowError(  # pragma: no cover - five random 30-bit ids colliding on one day
            "无法生成唯一的记录编号 (could not allocate a unique record id)"
        )

    def _creation(
        self,
        definition: Definition,
        record_id: str,
        command: Command,
        now: dt.datetime,
        idempotency_key: str | None,
        fingerprint: str | None,
        then: Sequence[FollowUp],
    ) -> tuple[list[CommandWrite], list[tuple[Decision, Actor, str | None]], list[StoredDeadline]]:
        """The writes that create a case and fire ``then`` on it, each decided on the case as the
        ones before left it (nothing is written here)."""
        calendar = self.registry.calendar(definition)
        decision = decide(definition, calendar, None, command, now, record_id=record_id)
        self.check_units(definition.fields, decision.payload, command.event)
        writes = [
            self._write_set(
                definition, None, [], decision, command, now, record_id, idempotency_key, fingerprint
            )
        ]
        decided: list[tuple[Decision, Actor, str | None]] = [(decision, command.actor, None)]
        deadlines = deadlines_after(writes[0], [])
        for step in then:
            before = writes[-1].record.record
            open_rows = [row for row in deadlines if row.closed_at is None]
            snapshot = writeset.snapshot_of(before, open_rows)
            next_decision = decide(definition, calendar, snapshot, step.command, now, record_id=record_id)
            key = step.idempotency_key
            writes.append(
                self._write_set(
                    definition,
                    before,
                    open_rows,
                    next_decision,
                    step.command,
                    now,
                    record_id,
                    key,
                    self._fingerprint_of(record_id, step.command) if key is not None else None,
                )
            )
            decided.append((next_decision, step.command.actor, before.state))
            deadlines = deadlines_after(writes[-1], deadlines)
        return writes, decided, deadlines

    def apply(
        self,
        record_id: str,
        command: Command,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        expected_version: int | None = None,
        uow: UnitOfWork | None = None,
        loaded: Loaded | None = None,
    ) -> RecordView:
        """Load, decide, commit. Inside ``uow`` (the sweep's locked claim) it happens in the
        caller's transaction, with the case ``loaded`` already if the caller read it.

        Raises:
            RecordNotFound, Conflict, DuplicateIdempotencyKey, and what the decision refuses.
        """
        if uow is None:
            with self.store.command() as opened:
                return self.apply(
                    record_id,
                    command,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    expected_version=expected_version,
                    uow=opened,
                )
        if loaded is None:
            loaded = uow.load(record_id)
        if loaded is None:
            raise RecordNotFound(record_id)
        record = loaded.record
        if expected_version is not None and expected_version != record.version:
            raise Conflict(record_id, expected_version, record.version)
        definition = self.registry.get(record.definition_name, record.definition_version)
        calendar = self.registry.calendar(definition)
        now = self.now(record)
        open_rows = loaded.open
        spec = definition.events.get(command.event)
        opens = spec.opens if spec is not None and not command.links else None
        target: tuple[Definition, str] | None = None  # the definition and id of the case it opens
        if opens is not None:
            chosen = linking.target_of(self.registry, opens, record.data, command.payload)
            target = (chosen, new_case_id(chosen.id_prefix, now))
            command = linking.with_opened(command, *target)
        decision = decide(
            definition, calendar, writeset.snapshot_of(record, open_rows), command, now, record_id=record_id
        )
        if spec is not None:
            self.check_units(spec.payload, decision.payload, command.event)
        write = self._write_set(
            definition, record, open_rows, decision, command, now, record_id, idempotency_key, fingerprint
        )
        linked: list[CommandWrite] = []
        decided: list[tuple[Decision, Actor, str | None]] = []
        if opens is not None and target is not None:
            opening = linking.opening_command(opens, target[0], definition, record_id, command, decision)
            then = [FollowUp(step) for step in linking.then(opens, opening)]
            linked, decided, _ = self._creation(target[0], target[1], opening, now, None, None, then)
            self._register_definition(target[0], now)
        try:
            uow.commit(*linked, write)
        except VersionConflict as exc:
            raise Conflict(record_id, record.version, exc.found) from exc
        self._log(record_id, definition, decision, command.actor, record.state, version=record.version + 1)
        if target is not None:
            for version, (done, actor, state) in enumerate(decided, start=1):
                self._log(target[1], target[0], done, actor, state, version=version)
        return view_after(definition, write, loaded.deadlines)

    # ---------------------------------------------------------------- helpers

    def _write_set(
        self,
        definition: Definition,
        before: StoredRecord | None,
        open_rows: Sequence[StoredDeadline],
        decision: Decision,
        command: Command,
        now: dt.datetime,
        record_id: str,
        idempotency_key: str | None,
        fingerprint: str | None,
    ) -> CommandWrite:
        return writeset.build(
            definition,
            self.registry.calendar(definition),
            before,
            open_rows,
            decision,
            command,
            now=now,
            record_id=record_id,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            simulated=self.simulated,
            keyer=self.subject_key,
            extra=self._extra(decision),
            seal=self._seal,
        )

    @property
    def seal(self) -> writeset.Sealer | None:
        """What seals the history rows written (None without a history key)."""
        return self._seal

    def register_definition(self, definition: Definition, now: dt.datetime) -> None:
        """Store a definition version with the first case that uses it (once per process)."""
        self._register_definition(definition, now)

    def _register_definition(self, definition: Definition, now: dt.datetime) -> None:
        """Store a definition version with the first case that uses it (once per process)."""
        if (definition.name, definition.version, definition.sha256) in self._registered:
            return
        stored = self.store.directory.register_definition(
            StoredDefinition(
                name=definition.name,
                version=definition.version,
                sha256=definition.sha256,
                body=self.registry.resolved(definition.name, definition.version),
            ),
            now,
        )
        if stored != definition.sha256:
            raise DefinitionChanged(definition.key, definition.source)
        self._registered.add((definition.name, definition.version, definition.sha256))

    def _extra(self, decision: Decision) -> dict[str, Any] | None:
        """What a round's opening notice lists beside its counts: the cases it names (read here,
        so that building the write set stays pure)."""
        if not any(n.template == "supervision_round_opened" for n in decision.notices):
            return None
        from workflow.core import notices

        listed = []
        for case_id in [str(i) for i in decision.data.get("record_ids", [])][:50]:
            case = self.store.records.get(case_id)
            if case is not None:
                of = self.registry.get(case.definition_name, case.definition_version)
                listed.append(
                    {
                        "id": case.id,
                        "subject_name": str(case.data.get("subject_name", "")),
                        "state_label": of.label_of(of.main_track, case.state),
                    }
                )
        return {"round": notices.round_context(decision.data, listed)}

    def _log(
        self,
        record_id: str,
        definition: Definition,
        decision: Decision,
        actor: Actor,
        before: str | None,
        *,
        version: int,
    ) -> None:
        transition(
            "transition",
            {
                "record_id": record_id,
                "trigger": decision.event,
                "actor": actor.id,
                "role": actor.role,
                "unit": actor.unit,
                "from_state": before,
                "to_state": decision.tracks.get(definition.main_track),
                "changes": [f"{t}:{a}->{b}" for t, a, b in decision.changes],
                "version": version,
            },
            _CALLER,
        )
