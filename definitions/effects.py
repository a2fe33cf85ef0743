"""The ``purposes`` and ``sanction_effects`` blocks of a definition: checked and built.

A definition says, as data, what a credit check (信用核查) may be asked about (``purposes``) and
which sanction measure or record condition bars which purpose for how long (``sanction_effects``).
This module checks the references of both blocks when a definition is loaded and turns them into
frozen values; what a bar means for a subject on a date is decided in ``workflow.core.eligibility``.
It must not import the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from definitions import schema
from definitions.model import Period, Purpose, SanctionEffect

MEASURES_FIELD = "sanction_measures"  # the record field the measures of a sanction decision land in

Path_ = tuple[str | int, ...]


def problems(model: schema.DefinitionModel) -> Iterator[tuple[Path_, str]]:
    """(path, message) for every reference of the two blocks that names nothing."""
    for name, effect in model.sanction_effects.items():
        path: Path_ = ("sanction_effects", name)
        for purpose in effect.bars:
            if purpose not in model.purposes:
                yield (
                    (*path, "bars"),
                    f"unknown purpose {purpose!r}; purposes: {', '.join(model.purposes) or 'none'}",
                )
        if effect.measure is not None:
            yield from _measure(model, path, effect.measure)
        yield from _record_values(model, (*path, "record"), effect.record)
        yield from _states(model, (*path, "while"), effect.while_)
        for field in effect.anchor:
            spec = model.fields.get(field)
            if spec is None or spec.type != "date":
                yield ((*path, "anchor"), f"{field!r} is not a date field of the record")
        if effect.period is not None and not effect.anchor:
            yield ((*path, "anchor"), "a period needs an 'anchor' (the date fields it is counted from)")


def guard_problems(
    model: schema.DefinitionModel, guard: schema.PayloadRequiresGuard, event: schema.EventModel
) -> Iterator[tuple[Path_, str]]:
    """A ``payload_requires`` guard names a payload field of its event and record fields' values."""
    if guard.field not in event.payload:
        yield (("field",), f"{guard.field!r} is not a payload field of this event")
    yield from _record_values(model, ("record",), guard.record)


def _measure(model: schema.DefinitionModel, path: Path_, measure: str) -> Iterator[tuple[Path_, str]]:
    spec = model.fields.get(MEASURES_FIELD)
    enum = model.enums.get(spec.enum or "") if spec is not None else None
    if spec is None or spec.type != "enum_list" or enum is None:
        yield ((*path, "measure"), f"a measure needs the enum_list record field {MEASURES_FIELD!r}")
    elif measure not in enum.values:
        yield ((*path, "measure"), f"{measure!r} is not a value of enum {spec.enum!r}")


def _record_values(
    model: schema.DefinitionModel, path: Path_, mapping: Mapping[str, list[str]]
) -> Iterator[tuple[Path_, str]]:
    for field, values in mapping.items():
        spec = model.fields.get(field)
        if spec is None:
            yield ((*path, field), f"unknown record field {field!r}")
            continue
        enum = model.enums.get(spec.enum or "")
        for value in values:
            if enum is not None and value not in enum.values:
                yield ((*path, field), f"{value!r} is not a value of enum {spec.enum!r}")


def _states(
    model: schema.DefinitionModel, path: Path_, mapping: Mapping[str, list[str]]
) -> Iterator[tuple[Path_, str]]:
    for track, states in mapping.items():
        spec = model.tracks.get(track)
        if spec is None:
            yield ((*path, track), f"unknown track {track!r}")
            continue
        for state in states:
            if state not in spec.states:
                yield ((*path, track), f"unknown state {state!r} of track {track!r}")


def build(
    model: schema.DefinitionModel, period: Callable[[schema.PeriodModel], Period]
) -> tuple[dict[str, Purpose], dict[str, SanctionEffect]]:
    purposes = {
        name: Purpose(name=name, label=p.label, label_en=p.label_en) for name, p in model.purposes.items()
    }
    effects = {
        name: SanctionEffect(
            name=name,
            label=e.label,
            bars=tuple(e.bars),
            measure=e.measure,
            record={key: tuple(values) for key, values in e.record.items()},
            while_={key: tuple(values) for key, values in e.while_.items()},
            period=period(e.period) if e.period is not None else None,
            anchor=tuple(e.anchor),
            through_year_end=e.through_year_end,
            legal_basis=e.legal_basis,
        )
        for name, e in model.sanction_effects.items()
    }
    return purposes, effects
