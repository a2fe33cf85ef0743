"""A definition's state diagram for people: Mermaid text, or SVG drawn by Graphviz.

Drawn by transitions' ``HierarchicalGraphMachine``: the main track and, beside it, the parallel
tracks as regions of one parallel state. Every state is one box labelled in Chinese with its code
beneath (the separator of nested names is ``/``, so ``not_published`` stays one state), final
states are marked, a state that starts a deadline names it with its period, and each transition
names its event and the roles that may fire it. The title carries the definition's name,
version and legal basis. Given a case's current states, those are highlighted. Pure: no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

from transitions.extensions import HierarchicalGraphMachine
from transitions.extensions.nesting import NestedState

from definitions.model import DeadlineSpec, Definition

PARALLEL = "parallel"
SEPARATOR = "/"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimSun, sans-serif"
A4_LANDSCAPE = "11.2,7.8"  # inches inside the margins of an A4 sheet laid on its side


class _LabelledState(NestedState):
    """A nested state with a label, and ``/`` between a region and its states (names keep ``_``)."""

    separator = SEPARATOR

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.label = label


class _Diagram(HierarchicalGraphMachine):
    state_cls = _LabelledState


class _Cursor:
    """The throwaway model the diagram machine draws (its state: the case's, to highlight)."""


_SEPARATOR_LOCK = threading.Lock()


@contextmanager
def _nested_names_with_slashes() -> Iterator[None]:
    """transitions 0.9's pygraphviz backend names nested nodes with ``NestedState.separator``
    rather than the machine's own (its Mermaid and graphviz backends use the machine's), so the
    edges would point at nodes that are not in their regions. While one diagram is drawn the
    base class uses ``/`` too; chengxin's own machines are flat and never read it."""
    with _SEPARATOR_LOCK:
        before = NestedState.separator
        NestedState.separator = SEPARATOR
        try:
            yield
        finally:
            NestedState.separator = before


def _starts(definition: Definition) -> dict[tuple[str, str], list[DeadlineSpec]]:
    """(track, state) → the deadlines that start when a case enters it: the first state of the
    deadline's ``while`` in its most specific track (a parallel track over the main one)."""
    found: dict[tuple[str, str], list[DeadlineSpec]] = {}
    for spec in definition.deadlines.values():
        tracks = [t for t in spec.while_ if t != definition.main_track] or list(spec.while_)
        track = tracks[0]
        found.setdefault((track, spec.while_[track][0]), []).append(spec)
    return found


def _state_label(
    definition: Definition, track: str, state: str, deadlines: list[DeadlineSpec], newline: str
) -> str:
    spec = definition.tracks[track].states[state]
    lines = [f"{spec.label}{'（终态）' if spec.final else ''}", state]
    lines += [f"⏱ {d.label}（{d.period.describe()}）" for d in deadlines]
    return newline.join(lines)


def _roles(definition: Definition, roles: tuple[str, ...]) -> str:
    return "、".join(definition.roles[r].label if r in definition.roles else r for r in roles)


def _states(definition: Definition, newline: str) -> list[dict[str, Any]]:
    starts = _starts(definition)

    def region(name: str) -> dict[str, Any]:
        track = definition.tracks[name]
        return {
            "name": name,
            "label": f"{track.label} {name}",
            "children": [
                {
                    "name": state,
                    "label": _state_label(definition, name, state, starts.get((name, state), []), newline),
                    **({"final": True} if spec.final else {}),
                }
                for state, spec in track.states.items()
            ],
            "initial": track.initial,
        }

    main = definition.main_track
    states = [region(main)]
    others = [name for name in definition.tracks if name != main]
    if others:
        states.append(
            {"name": PARALLEL, "label": "并行轨道 parallel tracks", "parallel": [region(n) for n in others]}
        )
    return states


def _path(definition: Definition, track: str, state: str) -> str:
    prefix = track if track == definition.main_track else f"{PARALLEL}{SEPARATOR}{track}"
    return f"{prefix}{SEPARATOR}{state}"


def diagram(definition: Definition, fmt: str, *, current: Mapping[str, str] | None = None) -> str | bytes:
    """The diagram of ``definition`` as ``mermaid`` text or ``svg`` bytes; with ``current`` (track
    → state of a case) those states are highlighted."""
    with _nested_names_with_slashes():
        return _draw(definition, fmt, current)


def _draw(definition: Definition, fmt: str, current: Mapping[str, str] | None) -> str | bytes:
    engine: Literal["mermaid", "pygraphviz"] = "mermaid" if fmt == "mermaid" else "pygraphviz"
    main = definition.main_track
    newline = "<br/>" if fmt == "mermaid" else "\n"  # a line break in each renderer's own terms
    model = _Cursor()
    title = f"{definition.title}（{definition.key}）{newline}依据：{definition.legal_basis}"
    machine = _Diagram(
        model=model,
        states=_states(definition, newline),
        initial=main,
        auto_transitions=False,
        graph_engine=engine,
        title=title,
    )
    for event in definition.events.values():
        label = f"{event.label} {event.name}{newline}[{_roles(definition, event.roles)}]"
        for transition in event.transitions:
            machine.add_transition(
                trigger=event.name,
                source=[_path(definition, transition.track, s) for s in transition.sources],
                dest=_path(definition, transition.track, transition.dest),
                label=label,
            )
    if current:
        parallel = [
            _path(definition, track, state)
            for track, state in current.items()
            if track != main and track in definition.tracks
        ]
        state = _path(definition, main, current[main]) if main in current else None
        machine.set_state([state, *parallel] if parallel and state else state or parallel, model)
    graph = model.get_graph(title=title, force_new=True)  # type: ignore[attr-defined]
    if fmt == "mermaid":
        text = str(graph.draw(None))
        if current:  # transitions styles only the top-level states of a Mermaid diagram
            marked = [_path(definition, t, s) for t, s in current.items() if t in definition.tracks]
            text += "".join(f"  class {name} s_active\n" for name in marked)
        return text
    if hasattr(graph, "fsm_graph"):  # the pygraphviz graph: sized and set for an A4 sheet
        graph.fsm_graph.graph_attr.update(size=A4_LANDSCAPE, fontname=FONT, labelloc="t")
        graph.fsm_graph.node_attr.update(fontname=FONT)
        graph.fsm_graph.edge_attr.update(fontname=FONT, fontsize="9")
    return bytes(graph.draw(None, format="svg", prog="dot"))
