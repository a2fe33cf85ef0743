"""A case's tracks as the rules see them: a state condition, which parallel tracks run while the
main track is where it is, how the states read in a message, and which events they allow. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from definitions.model import Definition
from workflow.core.machines import machines_for
from workflow.core.values import INTERNAL_EVENTS


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
