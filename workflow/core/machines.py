"""transitions machines built from a definition: one flat machine per track, per definition version.

A record is never attached to a machine for longer than one command: the decision moves a
throwaway cursor through ``Event.trigger`` and reads its state back. That keeps a command's
cost independent of the number of records (``Machine.add_model`` scans a list and binds
methods onto every model) and lets the same machines serve every thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from transitions import EventData, Machine

from definitions.model import Definition


class Cursor:
    """The throwaway model a machine moves during one command."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _when(expected: Mapping[str, Any], event_data: EventData) -> bool:
    payload = event_data.kwargs.get("payload", {})
    return all(payload.get(key) == value for key, value in expected.items())


@dataclass(frozen=True, slots=True)
class TrackMachines:
    """The machines of one definition version, and a lookup of which events each state allows."""

    machines: Mapping[str, Machine]
    allowed: Mapping[tuple[str, str], frozenset[str]]  # (track, state) -> events with a transition from it
    legal: frozenset[tuple[str, str, str, str]]  # (event, track, from, to), for structural replay
    # (event, track, from) -> to where the machine's first transition from that state has no
    # condition: the move is the same for every command, read once from the machine
    direct: Mapping[tuple[str, str, str], str]

    def can(self, event: str, track: str, state: str) -> bool:
        return event in self.allowed.get((track, state), frozenset())

    def fire(self, event: str, track: str, state: str, payload: Mapping[str, Any]) -> str | None:
        """Move a cursor from ``state`` by ``event``; None when a ``when`` condition held it back."""
        known = self.direct.get((event, track, state))
        if known is not None:
            return known
        cursor = Cursor(state)
        moved = self.machines[track].events[event].trigger(cursor, payload=payload)
        return cursor.state if moved else None


def build(definition: Definition) -> TrackMachines:
    machines: dict[str, Machine] = {}
    allowed: dict[tuple[str, str], set[str]] = {}
    legal: set[tuple[str, str, str, str]] = set()
    for track in definition.tracks.values():
        machine = Machine(
            model=None,
            states=list(track.states),
            initial=track.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        machines[track.name] = machine
    for event in definition.events.values():
        for transition in event.transitions:
            conditions: list[str | Callable[..., bool | None]] = (
                [partial(_when, dict(transition.when))] if transition.when else []
            )
            machines[transition.track].add_transition(
                trigger=event.name,
                source=list(transition.sources),
                dest=transition.dest,
                conditions=conditions,
            )
            for source in transition.sources:
                allowed.setdefault((transition.track, source), set()).add(event.name)
                legal.add((event.name, transition.track, source, transition.dest))
    return TrackMachines(
        machines=machines,
        allowed={key: frozenset(value) for key, value in allowed.items()},
        legal=frozenset(legal),
        direct=_unconditional(machines),
    )


def _unconditional(machines: Mapping[str, Machine]) -> dict[tuple[str, str, str], str]:
    """The moves ``Event.trigger`` makes whatever the payload: from a state whose first transition
    for the event has no condition (transitions tries them in order and takes the first that
    passes), and no callback that could change the outcome."""
    direct: dict[tuple[str, str, str], str] = {}
    for track, machine in machines.items():
        for name, event in machine.events.items():
            for source, transitions in event.transitions.items():
                first = transitions[0] if transitions else None
                if first is None or first.conditions or first.dest is None:
                    continue
                if first.before or first.after or first.prepare:
                    continue
                direct[(name, track, source)] = first.dest
    return direct


_BUILT: dict[tuple[str, int, str], TrackMachines] = {}


def machines_for(definition: Definition) -> TrackMachines:
    """The machines of a definition version, built once per process."""
    key = (definition.name, definition.version, definition.sha256)
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build(definition)
    return found
