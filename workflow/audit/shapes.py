"""Structural replay for verification, done once per shape of history.

Most cases of one definition version went through the same steps: the same events, fired in the
same roles, moving the same tracks the same way. What ``workflow.core.fold.fold`` works out from
those alone — the tracks a history leaves, whether every transition and role was allowed, which
rows create the case and which name an actor — is the same for every case of that shape, so
``fold_rows`` works it out once (by running ``fold`` itself on the first case of the shape) and
then only folds what differs from case to case: the case's data (its creating payload, field
changes and links) and its actors' names and units. Anything out of the ordinary — a shape whose
first fold found a problem, a field change from a value the case did not have, a row not read as
stored text — goes through ``fold`` itself, so the findings are always ``fold``'s. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

from definitions.model import Definition
from storage.values import RawEvent
from workflow.audit.rows import EventRow
from workflow.core.fold import Problem, Projection, fold
from workflow.core.values import IMPORT_EVENT, LINKS

_SHAPE_COLUMNS = itemgetter(*(RawEvent.ORDER.index(c) for c in ("event", "role", "changes_json")))
LIMIT = 4096  # shapes remembered (the cache is emptied when it is full: memory stays flat)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What every case of one shape folds to, apart from its data and its actors."""

    tracks: dict[str, str]
    overdue: bool
    creates: tuple[int, ...]  # the rows whose payload becomes the case's data
    actors: tuple[int, ...] = field(default=())  # the rows that name an actor
    imports: tuple[int, ...] = field(default=())  # the rows whose payload's fields become the data


_SHAPES: dict[tuple[Any, ...], _Shape | None] = {}


def _shape_of(definition: Definition, events: Sequence[EventRow], projection: Projection) -> _Shape:
    creates: list[int] = []
    actors: list[int] = []
    imports: list[int] = []
    for index, event in enumerate(events):
        spec = definition.events.get(event.event)
        if spec is None:
            if event.event == IMPORT_EVENT:  # an imported case (core.importing), as ``fold`` reads it
                imports.append(index)
            continue
        if spec.creates:
            creates.append(index)
        role = definition.roles.get(event.role)
        if role is not None and not role.system:
            actors.append(index)
    return _Shape(dict(projection.tracks), projection.overdue, tuple(creates), tuple(actors), tuple(imports))


def fold_rows(definition: Definition, events: Sequence[EventRow], problems: list[Problem]) -> Projection:
    """``fold(definition, events, problems, deadlines=False)``, the same projection and findings,
    with what depends only on the history's shape worked out once per shape."""
    if any(type(event) is not RawEvent for event in events):
        return fold(definition, events, problems, deadlines=False)
    rows = cast(Sequence[RawEvent], events)
    # the event, its role and its state changes as stored, row by row
    shape_key = (definition.name, definition.version, definition.sha256, *map(_SHAPE_COLUMNS, rows))
    try:
        shape = _SHAPES.get(shape_key, _NEW)
    except TypeError:  # a column of a type that cannot be a key (written by hand)
        return fold(definition, events, problems, deadlines=False)
    if shape is None:
        return fold(definition, events, problems, deadlines=False)
    if shape is _NEW:
        found: list[Problem] = []
        projection = fold(definition, events, found, deadlines=False)
        if len(_SHAPES) >= LIMIT:
            _SHAPES.clear()
        _SHAPES[shape_key] = None if found else _shape_of(definition, events, projection)
        problems.extend(found)
        return projection
    assert isinstance(shape, _Shape)
    data: dict[str, Any] = {}
    creates, imports = shape.creates, shape.imports
    for index, event in enumerate(rows):
        if index in creates:
            data = dict(event.payload)
        elif index in imports:
            data = dict(event.payload.get("fields", {}))
        text = event.effects_json  # as stored
        if '"data":' in text:
            for name, old, new in event.effects.get("data", ()):
                if data.get(name) != old:  # a finding: ``fold`` words it
                    return fold(definition, events, problems, deadlines=False)
                data[name] = new
        if '"links":' in text:
            links = event.effects.get("links")
            if links:
                data[LINKS] = [*data.get(LINKS, ()), *(dict(link) for link in links)]
    actors: dict[str, Any] = {}
    for index in shape.actors:
        event = rows[index]
        actors.setdefault(event.event, []).append([event.actor, event.unit])
    return Projection(tracks=dict(shape.tracks), data=data, actors=actors, overdue=shape.overdue)


_NEW: Any = _Shape({}, False, ())  # not yet seen
