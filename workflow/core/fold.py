"""Structural replay: a case's projection rebuilt from its stored history rows, and the
transitions among them that its definition does not allow.

Pure: the rows are handed in (as the store reads them, or as a command just wrote them). The
engine answers "what was this case on that date" with it; the auditor compares the rebuilt
projection with the stored one and reports every illegal step (``Problem``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from definitions.model import Definition
from workflow.core import effects
from workflow.core.machines import machines_for
from workflow.core.values import IMPORT_EVENT, INTERNAL_EVENTS, LINKS, DeadlineEffect, OpenDeadline


class HistoryRow(Protocol):
    """What folding reads of a history row (a stored event, or a raw row parsed on demand)."""

    @property
    def record_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def changes(self) -> Sequence[Sequence[str | None]]: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def effects(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of an audit: which case (or ``definition name@version``, ``chengxin_meta …``),
    what kind, the detail, and the history row when it concerns one."""

    record_id: str
    # altered | deleted | reordered | projection | illegal | missing | shortened | unknown_definition
    # | unreadable | malformed | definition | replay
    kind: str
    detail: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"{self.record_id}: {self.kind}: {self.detail}"


@dataclass(slots=True)
class Projection:
    tracks: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    actors: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, OpenDeadline] = field(default_factory=dict)
    overdue: bool = False


def _apply_deadlines(projection: Projection, event: HistoryRow) -> None:
    for stored in event.effects.get("deadlines", ()):
        effect = DeadlineEffect.from_json(stored)
        after = effects.apply(projection.deadlines.get(effect.name), effect, event.occurred_at)
        if after is None:
            projection.deadlines.pop(effect.name, None)
        else:
            projection.deadlines[effect.name] = after


def _data_changes(event: HistoryRow) -> Sequence[Any]:
    mentions = getattr(event, "mentions", None)
    if mentions is not None and not mentions('"data":'):
        return ()  # most rows change no field: their effects need not be parsed at all
    changes: Sequence[Any] = event.effects.get("data", ())
    return changes


def _fold_links(projection: Projection, event: HistoryRow) -> None:
    mentions = getattr(event, "mentions", None)
    if mentions is not None and not mentions('"links":'):
        return
    links = event.effects.get("links")
    if links:
        projection.data[LINKS] = [*projection.data.get(LINKS, ()), *(dict(link) for link in links)]


def fold(
    definition: Definition,
    events: Iterable[HistoryRow],
    problems: list[Problem] | None = None,
    *,
    deadlines: bool = True,
) -> Projection:
    """Rebuild a record's projection from its stored history (structural replay).

    With ``problems`` every stored state change is also checked against the definition:
    an event may only move a track along one of its transitions, and a parallel track may
    only start or stop when the main state switches it on or off.
    """
    projection = Projection()
    legal = machines_for(definition).legal
    for event in events:
        spec = definition.events.get(event.event)
        if spec is not None and spec.creates:
            projection.data = dict(event.payload)
        elif event.event == IMPORT_EVENT:  # an imported case's fields (core.importing)
            projection.data = dict(event.payload.get("fields", {}))
        for name, old, new in _data_changes(event):
            if problems is not None and projection.data.get(name) != old:
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: field {name} changed from a value it did not have",
                    )
                )
            projection.data[name] = new
        _fold_links(projection, event)
        tracks = projection.tracks
        for track, before, after in event.changes:
            assert isinstance(track, str)
            if problems is not None and tracks.get(track) != before:
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: track {track} was {tracks.get(track)}, not {before}",
                    )
                )
            if after is None:
                tracks.pop(track, None)
            else:
                tracks[track] = after
            if problems is None or before is None or after is None:
                continue
            if (event.event, track, before, after) not in legal and not _indirect(
                definition, event.event, track, before, after
            ):
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: {event.event} cannot move {track} from {before} to {after}",
                    )
                )
        moved = bool(event.changes) and definition.main_track in tracks
        if (
            problems is not None
            and moved
            and tracks.keys() != _active_tracks(definition, tracks[definition.main_track])
        ):
            problems.append(
                Problem(
                    event.record_id,
                    "illegal",
                    f"seq {event.seq}: active tracks {sorted(tracks)} do not match state {tracks[definition.main_track]}",
                )
            )
        role = definition.roles.get(event.role)
        if spec is not None and role is not None and not role.system:
            projection.actors.setdefault(event.event, []).append([event.actor, event.unit])
        if problems is not None and spec is None and event.event not in INTERNAL_EVENTS:
            problems.append(
                Problem(event.record_id, "illegal", f"seq {event.seq}: unknown event {event.event}")
            )
        if problems is not None and spec is not None and event.role not in spec.roles:
            problems.append(
                Problem(
                    event.record_id,
                    "illegal",
                    f"seq {event.seq}: role {event.role} may not fire {event.event}",
                )
            )
        if deadlines:
            _apply_deadlines(projection, event)
    projection.overdue = any(
        definition.tracks[t].states[s].overdue
        for t, s in projection.tracks.items()
        if t in definition.tracks and s in definition.tracks[t].states
    )
    return projection


_ACTIVE: dict[tuple[str, int, str, str], frozenset[str]] = {}


def _active_tracks(definition: Definition, main: str) -> frozenset[str]:
    """The tracks that run while the main track is in ``main`` (remembered per definition version:
    verify asks once per event)."""
    key = (definition.name, definition.version, definition.sha256, main)
    found = _ACTIVE.get(key)
    if found is None:
        found = _ACTIVE[key] = frozenset(
            name
            for name, spec in definition.tracks.items()
            if name == definition.main_track or main in spec.active_while.get(definition.main_track, ())
        )
    return found


def _indirect(definition: Definition, event: str, track: str, before: str, after: str) -> bool:
    """A track that an event stopped and another transition of it restarted (start → target)."""
    spec = definition.events.get(event)
    if spec is None:
        return False
    initial = definition.tracks[track].initial
    return after == initial or any(
        t.track == track and initial in t.sources and t.dest == after for t in spec.transitions
    )
