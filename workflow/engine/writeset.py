"""A decision turned into rows: the case row, its history row with its hash, deadline rows,
reminder rows and queued mail — one ``CommandWrite`` that the store commits in one transaction.

Pure functions of the definition, the case as it was read, the decision and the time; the
keyed digest of an ID number is made by a function the caller hands in. Nothing here reads or
writes the database, so every translation is tested without one (``tests/engine``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from definitions.model import Definition
from storage.values import (
    RECORD_COLUMNS,
    CommandWrite,
    DeadlineInsert,
    DeadlineUpdate,
    OutboxInsert,
    RecordWrite,
    ReminderInsert,
    StoredDeadline,
    StoredEvent,
    StoredRecord,
    WebhookEvent,
)
from workflow.core import effects as deadline_effects
from workflow.core import ladders, notices
from workflow.core.calendar import WorkingCalendar
from workflow.core.history import GENESIS, hash_of
from workflow.core.values import Command, DeadlineEffect, Decision, OpenDeadline, Snapshot

Keyer = Callable[[str], str]  # an ID number → the keyed digest a person is found by
Sealer = Callable[[str], str]  # a history row's hash → its MAC under the history key


def as_date(value: Any) -> dt.date | None:
    """A record field's value as a date, when it is one (ISO text or a date)."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def open_deadline(row: StoredDeadline) -> OpenDeadline:
    return OpenDeadline(
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
        provisional=row.provisional,
        basis=dict(row.basis),
        reminded=tuple(row.reminded),
    )


def snapshot_of(record: StoredRecord, open_rows: Sequence[StoredDeadline]) -> Snapshot:
    """The case as a decision sees it."""
    return Snapshot(
        record_id=record.id,
        tracks=dict(record.tracks),
        data=dict(record.data),
        actors=dict(record.actors),
        deadlines={row.name: open_deadline(row) for row in open_rows},
    )


def record_row(
    definition: Definition,
    *,
    record_id: str,
    tracks: Mapping[str, str],
    data: Mapping[str, Any],
    actors: Mapping[str, Any],
    subject_key: str | None,
    version: int,
    head_hash: str,
    created_at: dt.datetime,
    updated_at: dt.datetime,
) -> StoredRecord:
    """The case row of a projection: its main state, flags, and the indexed columns the
    definition fills from its fields (``index:``)."""
    index = definition.index
    main = tracks[definition.main_track]

    def field(name: str | None) -> Any:
        return data.get(name) if name is not None else None

    return StoredRecord(
        id=record_id,
        kind=definition.kind,
        definition_name=definition.name,
        definition_version=definition.version,
        state=main,
        tracks=dict(tracks),
        data=dict(data),
        actors=dict(actors),
        subject_name=field(index.subject_name),
        subject_code=field(index.subject_code),
        subject_key=subject_key,
        responsible_unit=field(index.responsible_unit),
        originating_unit=field(index.originating_unit),
        severity=field(index.severity),
        case_date=as_date(field(index.case_date)),
        active=definition.main.states[main].active,
        overdue=any(
            definition.tracks[t].states[s].overdue for t, s in tracks.items() if t in definition.tracks
        ),
        version=version,
        head_hash=head_hash,
        created_at=created_at,
        updated_at=updated_at,
    )


def build(
    definition: Definition,
    calendar: WorkingCalendar,
    before: StoredRecord | None,
    open_rows: Sequence[StoredDeadline],
    decision: Decision,
    command: Command,
    *,
    now: dt.datetime,
    record_id: str,
    idempotency_key: str | None,
    fingerprint: str | None,
    simulated: bool,
    keyer: Keyer,
    extra: Mapping[str, Any] | None = None,
    seal: Sealer | None = None,
) -> CommandWrite:
    """Everything the command writes. ``before`` is None for a new case; ``extra`` is added to
    the context of every mail the command queues; ``seal`` (when a history key is configured)
    gives the history row its MAC.

    Raises:
        WorkflowError: what ``seal`` raises (the database is keyed and no key is configured).
    """
    seq = (before.version if before else 0) + 1
    effects = decision.effects_json()
    if fingerprint is not None:
        effects["request"] = fingerprint
    if simulated:
        effects["clock"] = "simulated"
    if command.deadline is not None:
        effects["expired"] = command.deadline
    actor = command.actor
    unhashed = StoredEvent(
        record_id=record_id,
        seq=seq,
        event=decision.event,
        changes=tuple(list(change) for change in decision.changes),
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
        prev_hash=before.head_hash if before else GENESIS,
        hash="",
    )
    digest = hash_of(unhashed)
    event = dataclasses.replace(unhashed, hash=digest, mac=seal(digest) if seal is not None else None)
    subject_key = before.subject_key if before else None
    id_field = definition.index.subject_id_number
    if id_field is not None and id_field in decision.personal:
        subject_key = keyer(decision.personal[id_field])
    if decision.purge_personal_data:
        subject_key = None
    row = record_row(
        definition,
        record_id=record_id,
        tracks=decision.tracks,
        data=decision.data,
        actors=decision.actors,
        subject_key=subject_key,
        version=seq,
        head_hash=event.hash,
        created_at=before.created_at if before else now,
        updated_at=now,
    )
    inserts, updates, fired = deadline_writes(definition, calendar, decision.deadlines, open_rows, now, seq)
    return CommandWrite(
        record=RecordWrite(
            record=row,
            expected_version=before.version if before else None,
            # the columns the command leaves as they were are not rewritten (nor their indexes)
            unchanged=frozenset(c for c in RECORD_COLUMNS if getattr(row, c) == getattr(before, c))
            if before is not None
            else frozenset(),
        ),
        event=event,
        track_changes=tuple(c for c in decision.changes if c[0] != definition.main_track),
        deadline_inserts=inserts,
        deadline_updates=updates,
        outbox=outbox_rows(definition, record_id, seq, decision, command, now, effects, open_rows, extra),
        personal=decision.personal,
        purge_personal=decision.purge_personal_data,
        reminders=fired,
        webhook=webhook_event(definition, event, decision, row),
    )


def webhook_event(
    definition: Definition, event: StoredEvent, decision: Decision, row: StoredRecord
) -> WebhookEvent:
    """What a transition's webhooks say: the case, the event and where the case stands now.

    No payload and no personal data: a subscriber learns that something happened and asks the
    API for what it may see. ``hash`` is the history row's, so a receiver can tie a delivery to
    an exported history (``chengxin audit export``).
    """
    body = {
        "type": decision.event,
        "record_id": event.record_id,
        "kind": definition.kind,
        "definition": definition.key,
        "seq": event.seq,
        "state": row.state,
        "tracks": dict(row.tracks),
        "changes": [list(change) for change in event.changes],
        "active": row.active,
        "actor": {"role": event.role, "unit": event.unit},
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "hash": event.hash,
    }
    return WebhookEvent(event=decision.event, kind=definition.kind, body=body)


# -------------------------------------------------------------------------- deadlines

_TRACKED = ("status", "due_at", "paused_at", "remaining", "extended", "provisional", "basis", "reminded")


def deadline_writes(
    definition: Definition,
    calendar: WorkingCalendar,
    effects: Sequence[DeadlineEffect],
    open_rows: Sequence[StoredDeadline],
    now: dt.datetime,
    seq: int,
) -> tuple[list[DeadlineInsert], list[DeadlineUpdate], list[ReminderInsert]]:
    """A decision's deadline effects as row inserts and updates (``workflow.core.effects`` says
    what each effect does), with each row's ``next_at`` kept right for the sweep."""
    by_name = {row.name: row for row in open_rows}
    states: dict[str, OpenDeadline | None] = {}
    started: list[str] = []
    closed: dict[str, str] = {}
    fired: list[ReminderInsert] = []
    for effect in effects:
        name = effect.name
        if effect.action == "start":
            states[name] = deadline_effects.apply(None, effect, now)
            started.append(name)
            continue
        current = (
            states[name] if name in states else open_deadline(by_name[name]) if name in by_name else None
        )
        if current is None:
            continue
        if effect.action == "close":
            closed[name] = effect.outcome or "met"
        states[name] = deadline_effects.apply(current, effect, now)
        if effect.action == "remind" and name in by_name:
            fired.extend(_remind_rows(definition, calendar, by_name[name], effect, now))
    inserts = []
    for name in started:
        state = states[name]
        if state is None:
            continue
        spec = definition.deadlines.get(name)
        inserts.append(
            DeadlineInsert(
                name=name,
                status=state.status,
                started_at=state.started_at,
                due_at=state.due_at,
                unit=state.unit,
                amount=state.amount,
                provisional=state.provisional,
                basis=dict(state.basis),
                paused_at=state.paused_at,
                remaining=state.remaining,
                next_at=ladders.next_at(definition, calendar, spec, "active", state.due_at, ())
                if state.status == "active"
                else None,
            )
        )
    updates = []
    for row in open_rows:
        if row.name not in states or row.name in started:
            continue
        spec = definition.deadlines.get(row.name)
        after = states[row.name]
        if row.name in closed or after is None:
            status = closed.get(row.name, "met")
            values: dict[str, Any] = {"status": status, "closed_at": now, "closed_seq": seq}
            values["next_at"] = ladders.next_at(definition, calendar, spec, status, row.due_at, row.reminded)
        else:
            values = {
                key: getattr(after, key) for key in _TRACKED if getattr(after, key) != _row_value(row, key)
            }
            if not values:
                continue
            values["next_at"] = ladders.next_at(
                definition, calendar, spec, after.status, after.due_at, after.reminded
            )
        if "basis" in values:
            values["basis"] = dict(values["basis"])
        if "reminded" in values:
            values["reminded"] = list(values["reminded"])
        updates.append(DeadlineUpdate(id=row.id, values=values))
    return inserts, updates, fired


def _row_value(row: StoredDeadline, key: str) -> Any:
    value = getattr(row, key)
    return tuple(value) if key == "reminded" else value


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
    times = {r.name: ladders.rung_time(definition, calendar, r, row.due_at) for r in rungs}
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


# ------------------------------------------------------------------------------- mail


def outbox_rows(
    definition: Definition,
    record_id: str,
    seq: int,
    decision: Decision,
    command: Command,
    now: dt.datetime,
    effects: Mapping[str, Any],
    open_rows: Sequence[StoredDeadline],
    extra: Mapping[str, Any] | None = None,
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
    names: dict[str, str] = {}  # unit codes become names when the mail is rendered (runtime.dispatch)
    cause = notices.Cause(
        record_id=record_id,
        data=data,
        main_state=decision.tracks[definition.main_track],
        event=definition.events.get(decision.event),
        event_name=decision.event,
        comment=command.comment,
        payload=decision.payload,
        data_changes=decision.data_changes,
        actor_unit=command.actor.unit,
        occurred_at=now,
        by_system=bool(role.system) if (role := definition.roles.get(command.actor.role)) else False,
    )
    messages = []
    for index, notice in enumerate(decision.notices):
        due = deadline_json.get(notice.deadline) if notice.deadline else None
        deadline_ctx = (
            notices.deadline_context(definition, notice.deadline, due) if notice.deadline and due else None
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
