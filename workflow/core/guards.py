"""What each guard kind of a definition means: a rule that can refuse an event, with its reason.

A guard returns None when the event may go ahead, else the reason it may not, in words a
caseworker understands (the definition's ``message`` first, then the specifics). Guards are
pure functions of the decision context; ``PAYLOAD_GUARDS`` depend on the payload and are
skipped when the engine only asks which events could be fired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from definitions.model import Definition, EventSpec, Guard
from workflow.core.periods import local_date, period_end


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardContext:
    definition: Definition
    event: EventSpec
    actor_id: str
    actor_unit: str
    tracks: Mapping[str, str]
    data: Mapping[str, Any]  # before the event's changes
    actors: Mapping[str, Any]  # event -> [[actor id, unit], ...] of earlier firings
    payload: Mapping[str, Any]
    now: dt.datetime


def _say(guard: Guard, detail: str) -> str:
    return f"{guard.message}（{detail}）" if guard.message else detail


def _states(guard: Guard) -> Mapping[str, Sequence[str]]:
    return cast("Mapping[str, Sequence[str]]", guard.params["states"])


def _strings(guard: Guard, key: str) -> Sequence[str]:
    return cast("Sequence[str]", guard.params[key])


def _labels(ctx: GuardContext, track: str, states: Any) -> str:
    return "、".join(ctx.definition.label_of(track, s) for s in states)


def four_eyes(ctx: GuardContext, guard: Guard) -> str | None:
    events = list(_strings(guard, "events"))
    earlier = {actor for name in events for actor, _unit in ctx.actors.get(name, ())}
    if ctx.actor_id in earlier:
        return _say(
            guard, f"{ctx.actor_id} 已执行过 {'/'.join(events)}；four-eyes: the same person may not do both"
        )
    return None


def requires_state(ctx: GuardContext, guard: Guard) -> str | None:
    for track, states in _states(guard).items():
        current = ctx.tracks.get(track)
        if current not in states:
            return _say(
                guard,
                f"需要{ctx.definition.tracks[track].label}处于 {_labels(ctx, track, states)}，当前为 "
                f"{ctx.definition.label_of(track, current)} (needs {track} in {', '.join(states)})",
            )
    return None


def forbids_state(ctx: GuardContext, guard: Guard) -> str | None:
    for track, states in _states(guard).items():
        current = ctx.tracks.get(track)
        if current in states:
            return _say(
                guard,
                f"{ctx.definition.tracks[track].label}当前为 {ctx.definition.label_of(track, current)} "
                f"(not while {track} is {current})",
            )
    return None


def actor_unit(ctx: GuardContext, guard: Guard) -> str | None:
    field = str(guard.params["field"])
    expected = ctx.data.get(field)
    if ctx.actor_unit != expected:
        label = ctx.definition.fields[field].label
        return _say(
            guard,
            f"操作人单位 {ctx.actor_unit} 不是本记录的{label} {expected} (actor's unit is not the record's {field})",
        )
    return None


def publication_minimum_elapsed(ctx: GuardContext, guard: Guard) -> str | None:
    finding, severity = ctx.data.get("finding_date"), ctx.data.get("severity")
    if not isinstance(finding, str) or not isinstance(severity, str):
        return None
    finding_date = dt.date.fromisoformat(finding)
    regime = ctx.definition.publication_regime(finding_date)
    bounds = regime.periods.get(severity) if regime else None
    if bounds is None or bounds.min is None:
        return None
    ends = period_end(finding_date, bounds.min)
    today = local_date(ctx.definition, ctx.now)
    if today <= ends:
        return _say(
            guard,
            f"认定之日 {finding_date.isoformat()}，最短公示期（{bounds.min.describe()}）至 {ends.isoformat()} 届满；"
            f"依据 {regime.legal_basis if regime else ''} (the minimum publication period ends {ends.isoformat()})",
        )
    return None


def field_not_in(ctx: GuardContext, guard: Guard) -> str | None:
    waived_by = guard.params.get("waived_by")
    if waived_by and ctx.payload.get(str(waived_by)):
        return None
    for field, values in cast("Mapping[str, Sequence[str]]", guard.params["values"]).items():
        if ctx.data.get(field) in values:
            label = ctx.definition.fields[field].label
            return _say(guard, f"{label}为 {ctx.data.get(field)} ({field} is {ctx.data.get(field)})")
    return None


def changes_fields(ctx: GuardContext, guard: Guard) -> str | None:
    for name, spec in ctx.event.payload.items():
        if spec.sets and name in ctx.payload and ctx.payload[name] != ctx.data.get(spec.sets):
            return None
    return _say(guard, "没有任何内容发生变化 (nothing would change)")


def confirms(ctx: GuardContext, guard: Guard) -> str | None:
    missing = [name for name in _strings(guard, "fields") if ctx.payload.get(name) is not True]
    if missing:
        labels = "、".join(ctx.event.payload[name].label for name in missing)
        return _say(guard, f"未确认：{labels} (not confirmed: {', '.join(missing)})")
    return None


def payload_requires(ctx: GuardContext, guard: Guard) -> str | None:
    given = ctx.payload.get(str(guard.params["field"]))
    chosen = set(given) if isinstance(given, list) else {given}
    named = [value for value in _strings(guard, "values") if value in chosen]
    if not named:
        return None
    for field, allowed in cast("Mapping[str, Sequence[str]]", guard.params["record"]).items():
        value = ctx.data.get(field)
        if value not in allowed:
            label = ctx.definition.fields[field].label
            shown = _label_of(ctx, field, value)
            return _say(
                guard,
                f"{label}为 {shown}，{'、'.join(named)} 仅适用于 {'、'.join(_label_of(ctx, field, v) for v in allowed)} "
                f"({', '.join(named)} only for {field} in {', '.join(allowed)}; this record has {value})",
            )
    return None


def _label_of(ctx: GuardContext, field: str, value: Any) -> str:
    spec = ctx.definition.fields.get(field)
    enum = ctx.definition.enums.get(spec.enum or "") if spec is not None else None
    return enum.label_of(str(value)) if enum is not None and value is not None else str(value)


GUARDS: Mapping[str, Callable[[GuardContext, Guard], str | None]] = {
    "four_eyes": four_eyes,
    "requires_state": requires_state,
    "forbids_state": forbids_state,
    "actor_unit": actor_unit,
    "publication_minimum_elapsed": publication_minimum_elapsed,
    "field_not_in": field_not_in,
    "changes_fields": changes_fields,
    "confirms": confirms,
    "payload_requires": payload_requires,
}
PAYLOAD_GUARDS = frozenset({"changes_fields", "confirms", "payload_requires"})


def refusals(ctx: GuardContext, *, with_payload: bool = True) -> list[str]:
    """The reasons the event's guards refuse it; empty when it may go ahead."""
    reasons = []
    for guard in ctx.event.guards:
        if not with_payload and guard.kind in PAYLOAD_GUARDS:
            continue
        reason = GUARDS[guard.kind](ctx, guard)
        if reason is not None:
            reasons.append(reason)
    return reasons
