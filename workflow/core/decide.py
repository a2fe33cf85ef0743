"""The decision: given a definition, a record, a command and the time, what happens.

``decide`` is pure — no I/O, no clock — so the same function serves live commands and the
replay of stored histories. It checks the event (role, state, comment, payload, guards),
moves every track it touches through the definition's transitions machines, starts, pauses,
resumes, extends and closes deadlines, and lists the notices to queue. The engine persists
what it returns in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from definitions.model import DeadlineSpec, Definition, EventSpec, Notice, TransitionSpec
from workflow.core import periods as dl
from workflow.core.calendar import WorkingCalendar
from workflow.core.fields import CleanPayload, check_record_complete, clean_payload
from workflow.core.guards import GuardContext, refusals
from workflow.core.machines import machines_for
from workflow.core.values import (
    INTERNAL_EVENTS,
    RECOMPUTED_EVENT,
    REMINDER_EVENT,
    Actor,
    Command,
    DeadlineEffect,
    Decision,
    NoticeEffect,
    OpenDeadline,
    Snapshot,
)
from workflow.errors import (
    CommentRequired,
    DeadlineExtensionRefused,
    GuardRefused,
    PayloadInvalid,
    PermissionDenied,
    RecordNotFound,
    TransitionNotAllowed,
    UnknownEvent,
)

# ------------------------------------------------------------------------------ helpers


def holds(condition: Mapping[str, Sequence[str]], tracks: Mapping[str, str]) -> bool:
    """A state predicate of a definition (``while``, ``paused_while``) on a record's tracks."""
    return bool(condition) and all(tracks.get(track) in states for track, states in condition.items())


def activate_tracks(definition: Definition, tracks: dict[str, str]) -> None:
    """Start the parallel tracks the main state switches on, and stop those it switches off."""
    main_track = definition.main_track
    main = tracks[main_track]
    for name, track in definition.tracks.items():
        if name == main_track:
            continue
        on = main in track.active_while.get(main_track, ())
        if on and name not in tracks:
            tracks[name] = track.initial
        elif not on and name in tracks:
            del tracks[name]


def describe_state(definition: Definition, tracks: Mapping[str, str]) -> str:
    """``recorded / publication: published / …`` with Chinese labels, for messages."""
    parts = []
    for name in definition.tracks:
        if name in tracks:
            label = definition.label_of(name, tracks[name])
            parts.append(
                f"{label}({tracks[name]})" if name == definition.main_track else f"{name}:{tracks[name]}"
            )
    return " / ".join(parts)


def available_events(definition: Definition, tracks: Mapping[str, str]) -> list[str]:
    """Events whose required transitions all start from the record's current states."""
    machines = machines_for(definition)
    found = []
    for name, event in definition.events.items():
        if event.creates or name in INTERNAL_EVENTS:
            continue
        if any(definition.roles[role].system for role in event.roles) and len(event.roles) == 1:
            continue
        required = [t for t in event.transitions if not t.optional]
        if all(t.track in tracks and machines.can(name, t.track, tracks[t.track]) for t in required):
            found.append(name)
    return found


def _by_track(transitions: Sequence[TransitionSpec]) -> list[tuple[str, list[TransitionSpec]]]:
    groups: dict[str, list[TransitionSpec]] = {}
    for transition in transitions:
        groups.setdefault(transition.track, []).append(transition)
    return list(groups.items())


def _depends_on(definition: Definition, spec: DeadlineSpec) -> set[str]:
    fields = set(spec.anchor)
    period = spec.period
    for name in (period.field_days, period.field_working_days):
        if name:
            fields.add(name)
    if period.publication:
        fields |= {"finding_date", "severity"}
    if period.by_field:
        fields.add(period.by_field)
    return fields


def _recipients(
    notice: Notice, data: Mapping[str, Any], actors: Mapping[str, Any], rung: str | None = None
) -> NoticeEffect:
    units: list[str] = []
    missing: list[str] = []
    for expr in notice.to:
        if expr.startswith("unit_of:"):
            firings = actors.get(expr.removeprefix("unit_of:"), [])
            unit = firings[-1][1] if firings else None
        else:
            value = data.get(expr)
            unit = value if isinstance(value, str) else None
        if unit is None:
            missing.append(expr)
        elif unit not in units:
            units.append(unit)
    return NoticeEffect(
        template=notice.template, recipients=tuple(units), deadline=notice.deadline, missing=tuple(missing)
    )


# ----------------------------------------------------------------------------- decide


def check_role(event: EventSpec, role: str) -> None:
    """Raises PermissionDenied when ``role`` may not fire ``event``."""
    if role not in event.roles:
        raise PermissionDenied(role, event.name, event.roles)


@dataclass(frozen=True, slots=True)
class _Before:
    """The record before the command: empty for a record being created."""

    tracks: Mapping[str, str]
    data: Mapping[str, Any]
    actors: Mapping[str, Any]
    deadlines: Mapping[str, OpenDeadline]


EMPTY = _Before(tracks={}, data={}, actors={}, deadlines={})


def decide(
    definition: Definition,
    calendar: WorkingCalendar,
    snapshot: Snapshot | None,
    command: Command,
    now: dt.datetime,
    *,
    record_id: str,
    probe: bool = False,
    replaying: bool = False,
) -> Decision:
    """Decide the outcome of ``command`` on the record in ``snapshot`` (None for a new record).

    With ``probe`` the payload and comment are not checked and no effects are computed: the
    call only says whether the event could be fired now. With ``replaying`` the payload is the
    stored, already cleaned one (personal values masked) and is taken as it is.

    Raises:
        UnknownEvent, PermissionDenied, RecordNotFound, TransitionNotAllowed, CommentRequired,
        PayloadInvalid, GuardRefused, DeadlineExtensionRefused.
    """
    spec = _event_spec(definition, command)
    if spec is not None and spec.creates:
        if snapshot is not None:
            raise TransitionNotAllowed(
                record_id, describe_state(definition, snapshot.tracks), command.event, []
            )
        clean = _clean(definition, command.event, definition.fields, command.payload, replaying)
        data = dict(clean.values)
        check_record_complete(definition, command.event, data)
        tracks = {definition.main_track: definition.main.initial}
        activate_tracks(definition, tracks)
        return _conclude(definition, calendar, spec, command, clean, EMPTY, tracks, data, (), now, record_id)
    if snapshot is None:
        raise RecordNotFound(record_id)
    before = _Before(
        tracks=dict(snapshot.tracks), data=snapshot.data, actors=snapshot.actors, deadlines=snapshot.deadlines
    )
    groups = _by_track(spec.transitions) if spec is not None else []
    _check_transitions(definition, groups, before.tracks, command.event, record_id)
    clean = _payload_of(definition, spec, command, probe=probe, replaying=replaying)
    data, data_changes = _apply_fields(definition, spec, before.data, clean.values, command.event)
    if spec is not None:
        _check_guards(definition, spec, command.actor, before, clean.values, now, record_id, probe=probe)
    if probe:
        return _empty(command.event, before.tracks, before.data, before.actors)
    tracks = _move(definition, groups, before.tracks, command.event, clean.values, record_id)
    return _conclude(
        definition, calendar, spec, command, clean, before, tracks, data, data_changes, now, record_id
    )


def _event_spec(definition: Definition, command: Command) -> EventSpec | None:
    """The event's spec (None for the engine's internal events), after checking who fires it."""
    spec = definition.events.get(command.event)
    role = command.actor.role
    if spec is None and command.event not in INTERNAL_EVENTS:
        raise UnknownEvent(
            command.event, definition.key, [e for e in definition.events if not definition.events[e].creates]
        )
    if spec is not None:
        check_role(spec, role)
    elif role not in definition.roles or not definition.roles[role].system:
        raise PermissionDenied(role, command.event, ["system"])
    return spec


def _check_transitions(
    definition: Definition,
    groups: Sequence[tuple[str, list[TransitionSpec]]],
    tracks: Mapping[str, str],
    event: str,
    record_id: str,
) -> None:
    machines = machines_for(definition)
    for track, group in groups:
        required = any(not t.optional for t in group)
        state = tracks.get(track)
        if required and (state is None or not machines.can(event, track, state)):
            raise TransitionNotAllowed(
                record_id, describe_state(definition, tracks), event, available_events(definition, tracks)
            )


def _payload_of(
    definition: Definition, spec: EventSpec | None, command: Command, *, probe: bool, replaying: bool
) -> CleanPayload:
    if spec is None:  # an internal event of the engine: its payload is the engine's own
        return CleanPayload(values=dict(command.payload), personal={})
    if probe:
        return CleanPayload(values={}, personal={})
    if spec.comment_required and not command.comment.strip():
        raise CommentRequired(command.event)
    return _clean(definition, command.event, spec.payload, command.payload, replaying)


def _apply_fields(
    definition: Definition,
    spec: EventSpec | None,
    before: Mapping[str, Any],
    payload: Mapping[str, Any],
    event: str,
) -> tuple[dict[str, Any], tuple[tuple[str, Any, Any], ...]]:
    """The record's fields after the payload fields that ``set`` them, and what changed (in the
    order the event's payload declares its fields, whatever order the caller gave them in, so a
    replay of the stored payload finds the same changes)."""
    data = dict(before)
    changed = []
    for name, field in spec.payload.items() if spec is not None else ():
        target = field.sets
        if target is None or name not in payload:
            continue
        value = payload[name]
        if data.get(target) != value:
            changed.append((target, data.get(target), value))
            data[target] = value
    if changed:
        check_record_complete(definition, event, data)
    return data, tuple(changed)


def _check_guards(
    definition: Definition,
    spec: EventSpec,
    actor: Actor,
    before: _Before,
    payload: Mapping[str, Any],
    now: dt.datetime,
    record_id: str,
    *,
    probe: bool,
) -> None:
    ctx = GuardContext(
        definition=definition,
        event=spec,
        actor_id=actor.id,
        actor_unit=actor.unit,
        tracks=before.tracks,
        data=before.data,
        actors=before.actors,
        payload=payload,
        now=now,
    )
    reasons = refusals(ctx, with_payload=not probe)
    if reasons:
        raise GuardRefused(record_id, spec.name, reasons)


def _move(
    definition: Definition,
    groups: Sequence[tuple[str, list[TransitionSpec]]],
    before: Mapping[str, str],
    event: str,
    payload: Mapping[str, Any],
    record_id: str,
) -> dict[str, str]:
    """Fire the event on every track it touches, in the definition's order; the main track
    switches parallel tracks on and off as it moves."""
    machines = machines_for(definition)
    tracks = dict(before)
    for track, group in groups:
        state = tracks.get(track)
        if state is None or not machines.can(event, track, state):
            continue
        moved = machines.fire(event, track, state, payload)
        if moved is None:
            if any(not t.optional for t in group):
                raise GuardRefused(record_id, event, [f"{track}: 条件不满足 (a 'when' condition failed)"])
            continue
        tracks[track] = moved
        if track == definition.main_track:
            activate_tracks(definition, tracks)
    return tracks


def _conclude(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: EventSpec | None,
    command: Command,
    clean: CleanPayload,
    before: _Before,
    tracks: dict[str, str],
    data: dict[str, Any],
    data_changes: tuple[tuple[str, Any, Any], ...],
    now: dt.datetime,
    record_id: str,
) -> Decision:
    """The decision's effects once the tracks have moved: who did it, deadlines, notices."""
    actor = command.actor
    actors = dict(before.actors)
    if not definition.roles[actor.role].system:
        actors[command.event] = [*actors.get(command.event, []), [actor.id, actor.unit]]
    changes = tuple(
        (name, before.tracks.get(name), tracks.get(name))
        for name in definition.tracks
        if before.tracks.get(name) != tracks.get(name)
    )
    effects = _deadline_effects(
        definition,
        calendar,
        spec,
        command,
        clean.values,
        before.tracks,
        tracks,
        data,
        data_changes,
        before.deadlines,
        now,
        record_id,
    )
    return Decision(
        event=command.event,
        changes=changes,
        tracks=tracks,
        data=data,
        data_changes=data_changes,
        payload=clean.values,
        personal=clean.personal,
        actors=actors,
        deadlines=tuple(effects),
        notices=tuple(_notices(definition, spec, command, effects, data, actors)),
        purge_personal_data=bool(spec and spec.purge_personal_data),
    )


def _clean(
    definition: Definition, event: str, specs: Mapping[str, Any], payload: Mapping[str, Any], replaying: bool
) -> CleanPayload:
    if replaying:
        return CleanPayload(values=dict(payload), personal={})
    return clean_payload(definition, event, specs, payload)


def _empty(
    event: str, tracks: Mapping[str, str], data: Mapping[str, Any], actors: Mapping[str, Any]
) -> Decision:
    return Decision(
        event=event,
        changes=(),
        tracks=tracks,
        data=data,
        data_changes=(),
        payload={},
        personal={},
        actors=actors,
        deadlines=(),
        notices=(),
    )


def _due_effect(action: str, name: str, due: dl.Due, **extra: Any) -> DeadlineEffect:
    return DeadlineEffect(
        action=action,
        name=name,
        due_at=due.due_at,
        unit=due.unit,
        amount=due.amount,
        provisional=due.provisional,
        basis={**due.basis, **extra.pop("basis_extra", {})},
        **extra,
    )


@dataclass(frozen=True, slots=True)
class _DeadlinePlan:
    """Works out what happens to each deadline of the definition when the tracks move."""

    definition: Definition
    calendar: WorkingCalendar
    command: Command
    before: Mapping[str, str]
    after: Mapping[str, str]
    data: Mapping[str, Any]
    changed_fields: frozenset[str]
    now: dt.datetime

    def start(self, name: str, spec: DeadlineSpec) -> list[DeadlineEffect]:
        due = dl.start_deadline(self.definition, self.calendar, spec, self.data, self.now)
        if due is None:
            return []
        effects = [_due_effect("start", name, due)]
        if holds(spec.paused_while, self.after):  # started while its clock must stand still
            left = dl.remaining(self.definition, self.calendar, due.unit, due.due_at, self.now)
            effects.append(DeadlineEffect(action="pause", name=name, remaining=left))
        return effects

    def end(self, name: str, spec: DeadlineSpec, current: OpenDeadline, expiring: bool) -> DeadlineEffect:
        if expiring:
            outcome = "expired"
        elif any(track not in self.after for track in spec.while_):
            outcome = "cancelled"  # the obligation went away with its track (revoked, repaired, …)
        else:
            outcome = "met_late" if current.status == "expired" else "met"
        return DeadlineEffect(action="close", name=name, outcome=outcome)

    def keep(self, name: str, spec: DeadlineSpec, current: OpenDeadline) -> list[DeadlineEffect]:
        paused_before = holds(spec.paused_while, self.before)
        paused_after = holds(spec.paused_while, self.after)
        if paused_after and not paused_before and current.status != "paused":
            left = dl.remaining(self.definition, self.calendar, current.unit, current.due_at, self.now)
            return [DeadlineEffect(action="pause", name=name, remaining=left)]
        if paused_before and not paused_after and current.status == "paused":
            left = current.remaining or 0
            resumed = dl.resume(self.definition, self.calendar, spec, current.unit, left, self.now)
            return [_due_effect("resume", name, resumed, remaining=left)]
        if self.changed_fields & _depends_on(self.definition, spec) and current.status == "active":
            again = dl.start_deadline(self.definition, self.calendar, spec, self.data, current.started_at)
            if again is not None and again.due_at != current.due_at:
                return [_due_effect("recompute", name, again, basis_extra={"reason": "record corrected"})]
        return []


def _deadline_effects(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: EventSpec | None,
    command: Command,
    payload: Mapping[str, Any],
    before: Mapping[str, str],
    after: Mapping[str, str],
    data: Mapping[str, Any],
    data_changes: Sequence[tuple[str, Any, Any]],
    open_deadlines: Mapping[str, OpenDeadline],
    now: dt.datetime,
    record_id: str,
) -> list[DeadlineEffect]:
    """Deadlines start when their ``while`` state begins and end when it ends; in between they
    pause, resume, are recomputed, expire or are extended."""
    plan = _DeadlinePlan(
        definition, calendar, command, before, after, data, frozenset(n for n, _o, _v in data_changes), now
    )
    effects: list[DeadlineEffect] = []
    for name, dspec in definition.deadlines.items():
        running = holds(dspec.while_, after)
        current = open_deadlines.get(name)
        expiring = command.deadline == name and command.event not in {REMINDER_EVENT, RECOMPUTED_EVENT}
        if current is None:
            effects.extend(plan.start(name, dspec) if running else [])
            continue
        if not running:
            effects.append(plan.end(name, dspec, current, expiring))
            continue
        if expiring:
            effects.append(DeadlineEffect(action="expire", name=name))
        effects.extend(plan.keep(name, dspec, current))
        if spec is not None and spec.extends_deadline == name:
            effects.append(_extension(definition, calendar, dspec, current, int(payload["working_days"])))
    if command.event == REMINDER_EVENT:
        effects.append(_reminder(definition, command, open_deadlines, record_id))
    elif command.event == RECOMPUTED_EVENT:
        effects.append(_recomputed(definition, calendar, command, open_deadlines, record_id))
    if spec is not None and spec.extends_deadline and not any(e.action == "extend" for e in effects):
        raise GuardRefused(
            record_id,
            command.event,
            [f"期限 {spec.extends_deadline} 未在进行中 (that deadline is not running)"],
        )
    return effects


def _recomputed(
    definition: Definition,
    calendar: WorkingCalendar,
    command: Command,
    open_deadlines: Mapping[str, OpenDeadline],
    record_id: str,
) -> DeadlineEffect:
    current = open_deadlines.get(command.deadline or "")
    if current is None:
        raise GuardRefused(
            record_id, command.event, [f"期限 {command.deadline} 未在进行中 (that deadline is not running)"]
        )
    due = dl.recompute(definition, calendar, definition.deadlines[current.name], current.basis)
    return _due_effect("recompute", current.name, due, basis_extra={"reason": "holiday table loaded"})


def _reminder(
    definition: Definition, command: Command, open_deadlines: Mapping[str, OpenDeadline], record_id: str
) -> DeadlineEffect:
    current = open_deadlines.get(command.deadline or "")
    rung = str(command.payload.get("rung", ""))
    spec = definition.deadlines.get(command.deadline or "")
    ladder = definition.ladders.get(spec.ladder or "") if spec else None
    if current is None or ladder is None or rung not in {r.name for r in ladder.rungs}:
        raise GuardRefused(
            record_id, command.event, [f"没有可发送的提醒 {command.deadline}/{rung} (no such reminder)"]
        )
    superseded = tuple(str(name) for name in command.payload.get("superseded", ()))
    return DeadlineEffect(action="remind", name=current.name, rung=rung, superseded=superseded)


def _extension(
    definition: Definition, calendar: WorkingCalendar, dspec: DeadlineSpec, current: OpenDeadline, extra: int
) -> DeadlineEffect:
    limit = dl.extension_limit(definition, dspec)
    if limit is None or current.unit != "working_days":
        raise PayloadInvalid("extend", "working_days", f"deadline {dspec.name} cannot be extended")
    total = current.amount + current.extended + extra
    if total > limit:
        raise DeadlineExtensionRefused(dspec.name, extra, total, limit)
    if current.status == "paused":
        return DeadlineEffect(
            action="extend",
            name=dspec.name,
            remaining=(current.remaining or 0) + extra,
            extended=current.extended + extra,
        )
    due = dl.extend(definition, calendar, dspec, current.basis, extra)
    return DeadlineEffect(
        action="extend",
        name=dspec.name,
        due_at=due.due_at,
        extended=current.extended + extra,
        provisional=due.provisional,
        basis=due.basis,
    )


def _notices(
    definition: Definition,
    spec: EventSpec | None,
    command: Command,
    effects: Sequence[DeadlineEffect],
    data: Mapping[str, Any],
    actors: Mapping[str, Any],
) -> list[NoticeEffect]:
    wanted: list[Notice] = list(spec.notices) if spec is not None else []
    for effect in effects:
        if effect.action == "start":
            wanted.extend(definition.deadlines[effect.name].on_start_notices)
    found = []
    if (
        command.event == REMINDER_EVENT
        and command.deadline is not None
        and command.deadline in definition.deadlines
    ):
        dspec = definition.deadlines[command.deadline]
        ladder = definition.ladders[dspec.ladder or ""]
        rung = next(r for r in ladder.rungs if r.name == command.payload.get("rung"))
        for notice in rung.notices:
            found.append(_recipients(notice, data, actors, rung=rung.name))
            if found[-1].deadline is None:
                found[-1] = NoticeEffect(
                    template=notice.template,
                    recipients=found[-1].recipients,
                    deadline=command.deadline,
                    missing=found[-1].missing,
                    rung=rung.name,
                )
        return found
    if (
        command.deadline is not None
        and command.deadline in definition.deadlines
        and command.event != RECOMPUTED_EVENT
    ):
        wanted.extend(definition.deadlines[command.deadline].on_expiry_notices)
    found = [_recipients(notice, data, actors) for notice in wanted]
    return found + _deadline_changes(definition, effects, data, actors)


CHANGES = frozenset({"pause", "resume", "extend", "recompute"})
ENDINGS = frozenset({"met", "met_late", "cancelled"})


def _deadline_changes(
    definition: Definition,
    effects: Sequence[DeadlineEffect],
    data: Mapping[str, Any],
    actors: Mapping[str, Any],
) -> list[NoticeEffect]:
    """A deadline a unit was told about gets an update (or a cancellation) whenever it changes."""
    found = []
    for effect in effects:
        change = (
            effect.action
            if effect.action in CHANGES
            else effect.outcome
            if effect.action == "close"
            else None
        )
        if change is None or (effect.action == "close" and change not in ENDINGS):
            continue
        told = definition.deadlines[effect.name].on_start_notices
        if not told:
            continue
        recipients = tuple(dict.fromkeys(r for n in told for r in n.to))
        notice = _recipients(
            Notice(template="deadline_changed", to=recipients, deadline=effect.name), data, actors
        )
        found.append(
            NoticeEffect(
                template=notice.template,
                recipients=notice.recipients,
                deadline=effect.name,
                missing=notice.missing,
                change=change,
            )
        )
    return found
