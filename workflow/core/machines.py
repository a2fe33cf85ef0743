"""transitions machines built from a definition: one flat machine per track, per definition version.

A record is never attached to a machine for longer than one command: the decision moves a
throwaway cursor through ``Event.trigger`` and reads its state back. That keeps a command's
cost independent of the number of records (``Machine.add_model`` scans a list and binds
methods onto every model) and lets the same machines serve every thread. The machines are
also where diagrams come from (``GraphMachine`` with the mermaid or pygraphviz engine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

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

    def can(self, event: str, track: str, state: str) -> bool:
        return event in self.allowed.get((track, state), frozenset())

    def fire(self, event: str, track: str, state: str, payload: Mapping[str, Any]) -> str | None:
        """Move a cursor from ``state`` by ``event``; None when a ``when`` condition held it back."""
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
    )


_BUILT: dict[tuple[str, int, str], TrackMachines] = {}


def machines_for(definition: Definition) -> TrackMachines:
    """The machines of a definition version, built once per process."""
    key = (definition.name, definition.version, definition.sha256)
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build(definition)
    return found


def diagram(definition: Definition, fmt: str) -> str | bytes:
    """A state diagram of every track: mermaid text, or SVG bytes drawn by Graphviz.

    Parallel tracks are drawn as regions of one parallel state, each with its own initial state.
    """
    from transitions.extensions import HierarchicalGraphMachine

    def region(name: str) -> dict[str, Any]:
        track = definition.tracks[name]
        return {
            "name": name,
            "children": [
                {"name": state, "final": spec.final} if spec.final else state
                for state, spec in track.states.items()
            ],
            "initial": track.initial,
        }

    main = definition.main_track
    others = [name for name in definition.tracks if name != main]
    states: list[Any] = [region(main)]
    if others:
        states.append({"name": "parallel", "parallel": [region(name) for name in others]})
    engine: Literal["mermaid", "pygraphviz"] = "mermaid" if fmt == "mermaid" else "pygraphviz"

    class Model:
        pass

    model = Model()
    graph_machine = HierarchicalGraphMachine(
        model=model,
        states=states,
        initial=main,
        auto_transitions=False,
        graph_engine=engine,
        title=f"{definition.title} ({definition.key})",
        show_conditions=True,
    )
    for event in definition.events.values():
        for transition in event.transitions:
            sep = graph_machine.state_cls.separator
            prefix = transition.track if transition.track == main else f"parallel{sep}{transition.track}"
            graph_machine.add_transition(
                trigger=event.name,
                source=[f"{prefix}{sep}{s}" for s in transition.sources],
                dest=f"{prefix}{sep}{transition.dest}",
            )
    graph = model.get_graph()  # type: ignore[attr-defined]
    if fmt == "mermaid":
        return str(graph.draw(None))
    return bytes(graph.draw(None, format="svg", prog="dot"))
