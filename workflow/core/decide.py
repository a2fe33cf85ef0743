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

from definitions.model import Definition, EventSpec, TransitionSpec
from workflow.core.calendar import WorkingCalendar
from workflow.core.deadline_plan import deadline_effects
from workflow.core.fields import CleanPayload, check_comment, check_record_complete, clean_payload
from workflow.core.guards import GuardContext, refusals
from workflow.core.importing import decide_import
from workflow.core.machines import machines_for
from workflow.core.notice_plan import notices_of
from workflow.core.states import activate_tracks, available_events, describe_state
from workflow.core.values import (
    IMPORT_EVENT,
    INTERNAL_EVENTS,
    LINKS,
    Actor,
    Command,
    Decision,
    OpenDeadline,
    Snapshot,
)
from workflow.errors import (
    CommentRequired,
    GuardRefused,
    PermissionDenied,
    RecordNotFound,
    TransitionNotAllowed,
    UnknownEvent,
)


def _by_track(transitions: Sequence[TransitionSpec]) -> list[tuple[str, list[TransitionSpec]]]:
    groups: dict[str, list[TransitionSpec]] = {}
    for transition in transitions:
        groups.setdefault(transition.track, []).append(transition)
    return list(groups.items())


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
        PayloadInvalid, GuardRefused, DeadlineExtensionRefused, ArgumentInvalid (a comment longer
        than the definition's ``limits.comment``).
    """
    if command.event == IMPORT_EVENT:
        if snapshot is not None:
            raise TransitionNotAllowed(
                record_id, describe_state(definition, snapshot.tracks), command.event, []
            )
        return decide_import(definition, calendar, command, now, record_id=record_id, replaying=replaying)
    spec = _event_spec(definition, command)
    if spec is not None and spec.creates:
        if snapshot is not None:
            raise TransitionNotAllowed(
                record_id, describe_state(definition, snapshot.tracks), command.event, []
            )
        if not replaying:
            check_comment(definition, command.comment)
        clean = _clean(definition, command.event, definition.fields, command.payload, replaying)
        data = dict(clean.values)
        check_record_complete(definition, command.event, data)
        _link(data, command)
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
    data_changes = _link_field(spec, data, data_changes, command)
    _link(data, command)
    return _conclude(
        definition, calendar, spec, command, clean, before, tracks, data, data_changes, now, record_id
    )


def _link(data: dict[str, Any], command: Command) -> None:
    """Keep the command's links in the case's data (``LINKS``), after those it had."""
    if command.links:
        data[LINKS] = [*data.get(LINKS, ()), *(link.to_json() for link in command.links)]


def _link_field(
    spec: EventSpec | None,
    data: dict[str, Any],
    changes: tuple[tuple[str, Any, Any], ...],
    command: Command,
) -> tuple[tuple[str, Any, Any], ...]:
    """The field an opening event keeps the opened case's id in (``opens.link_field``)."""
    field = spec.opens.link_field if spec is not None and spec.opens is not None else None
    opened = next((link.case for link in command.links if link.relation == "opened"), None)
    if field is None or opened is None or data.get(field) == opened:
        return changes
    before = data.get(field)
    data[field] = opened
    return (*changes, (field, before, opened))


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
    if not replaying:
        check_comment(definition, command.comment)
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
    effects = deadline_effects(
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
        notices=tuple(notices_of(definition, spec, command, effects, data, actors)),
        purge_personal_data=bool(spec and spec.purge_personal_data),
        links=command.links,
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
