"""Replay: run every stored command of a case through the pure decision again and report any
outcome that differs from what was stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workflow.audit.rows import READ_ERRORS, EventRow, unreadable_problems
from workflow.core.decide import decide
from workflow.core.fold import Problem, Projection, fold
from workflow.core.values import Actor, Command, Link, Snapshot
from workflow.engine.registry import Registry
from workflow.errors import WorkflowError


def replay(registry: Registry, events: Sequence[EventRow]) -> list[Problem]:
    """Run every stored command through ``decide`` again; report any outcome that differs.

    Due dates are recorded facts (they depend on the holiday tables known at the time) and
    are not recomputed; everything else — state changes, field changes, deadline actions and
    outcomes, notices — must come out the same. A row that cannot be read is reported as such
    (``unreadable``, with its row) and ends the replay of that record.
    """
    if not events:
        return []
    record_id = str(events[0].record_id)
    try:
        return _replay(registry, record_id, events)
    except READ_ERRORS as exc:
        return unreadable_problems(record_id, events, exc)


def _replay(registry: Registry, record_id: str, events: Sequence[EventRow]) -> list[Problem]:
    try:
        definition = registry.get(events[0].definition_name, events[0].definition_version)
    except WorkflowError as exc:
        return [Problem(record_id, "unknown_definition", str(exc))]
    calendar = registry.calendar(definition)
    problems: list[Problem] = []
    projection = Projection()
    for index, event in enumerate(events):
        snapshot = (
            None
            if index == 0
            else Snapshot(
                record_id=record_id,
                tracks=dict(projection.tracks),
                data=dict(projection.data),
                actors={k: list(v) for k, v in projection.actors.items()},
                deadlines=dict(projection.deadlines),
            )
        )
        command = Command(
            event=event.event,
            actor=Actor(id=event.actor, role=event.role, unit=event.unit),
            payload=event.payload,
            comment=event.comment,
            deadline=event.effects.get("expired"),
            links=tuple(Link.from_json(link) for link in event.effects.get("links", ())),
        )
        try:
            decision = decide(
                definition,
                calendar,
                snapshot,
                command,
                event.occurred_at,
                record_id=record_id,
                replaying=True,
            )
        except WorkflowError as exc:
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: refused on replay: {exc}")
            )
            break
        stored_changes = [list(c) for c in event.changes]
        if [list(c) for c in decision.changes] != stored_changes:
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: state changes differ on replay")
            )
        if _shape(decision.effects_json()) != _shape(event.effects):
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: effects differ on replay")
            )
        projection = fold(definition, events[: index + 1])
    return problems


def _shape(effects: Mapping[str, Any]) -> dict[str, Any]:
    """Effects without the recorded calendar facts (due dates and their explanations)."""
    return {
        "data": sorted(
            effects.get("data", []), key=lambda change: str(change[0])
        ),  # one event's changes have no order
        "deadlines": [
            [d["name"], d["action"], d.get("outcome"), d.get("extended")]
            for d in effects.get("deadlines", [])
        ],
        "notices": [[n["template"], n["to"], n.get("deadline")] for n in effects.get("notices", [])],
        "purge": effects.get("purge_personal_data", False),
        "links": effects.get("links", []),
    }
