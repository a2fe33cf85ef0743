"""What a decision does to deadlines: they start when their ``while`` state begins and end when it
ends; in between they pause, resume, are recomputed, expire or are extended, and the sweep's
reminder rungs are recorded on them. Pure: the calendar and the time are handed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from definitions.model import DeadlineSpec, Definition, EventSpec
from workflow.core import periods as dl
from workflow.core.calendar import WorkingCalendar
from workflow.core.states import holds
from workflow.core.values import RECOMPUTED_EVENT, REMINDER_EVENT, Command, DeadlineEffect, OpenDeadline
from workflow.errors import DeadlineExtensionRefused, GuardRefused, PayloadInvalid


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


def deadline_effects(
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


def imported_deadlines(
    definition: Definition,
    calendar: WorkingCalendar,
    command: Command,
    tracks: Mapping[str, str],
    data: Mapping[str, Any],
    since: Mapping[str, str],
) -> list[DeadlineEffect]:
    """The deadlines that run in an imported case's state, each started as ``decide`` starts it
    (and paused when its clock stands still in that state), counted from the day its tracks
    entered their states (``since``: the latest of the tracks its ``while`` names)."""
    effects: list[DeadlineEffect] = []
    for name, dspec in definition.deadlines.items():
        if not holds(dspec.while_, tracks):
            continue
        day = max(since.get(track, since[definition.main_track]) for track in dspec.while_)
        started = dl.at_local_time(definition, dt.date.fromisoformat(day), definition.deadline_time)
        plan = _DeadlinePlan(definition, calendar, command, {}, tracks, data, frozenset(), started)
        effects.extend(plan.start(name, dspec))
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
    return recomputed(definition, calendar, current)


def recomputed(definition: Definition, calendar: WorkingCalendar, current: OpenDeadline) -> DeadlineEffect:
    """A deadline counted again from its basis under the calendar as it is known now (a holiday
    table was loaded).

    A paused deadline stays paused: its due time, basis and provisional mark are brought up to
    date, and what is left of it is counted again from the day it was paused to the new due day
    (the working days the new table gives or takes before the pause change what was used up).
    One extended while paused keeps the count it has: the extension is in it and the old table
    is gone, so the share of each cannot be told apart.
    """
    due = dl.recompute(definition, calendar, definition.deadlines[current.name], current.basis)
    reason = {"reason": "holiday table loaded"}
    if current.status != "paused" or current.paused_at is None:
        return _due_effect("recompute", current.name, due, basis_extra=reason)
    left = current.remaining
    if not current.extended:
        left = dl.remaining(definition, calendar, current.unit, due.due_at, current.paused_at)
    return _due_effect("recompute", current.name, due, basis_extra=reason, remaining=left)


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
