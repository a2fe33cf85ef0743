"""Every bundled definition of every kind reaches each of its final states (issue 11: "a parametrised
test walks every definition of every kind through each of its final states"), on both backends.

Nothing here is written per definition: the path to each final state is found by a breadth-first
search over the definition's own tracks, transitions, ``when`` conditions and state guards, and
each step is played on a real engine with an actor, payload and comment derived from the event's
spec (the role it allows, the unit its ``actor_unit`` guard names, a value for every payload field
by its type, a fresh person for every step so four-eyes holds, the clock moved past the minimum
publication period where a guard asks for it). The walk then checks the final state, that every
step's history row is there and that the audit's verify and replay find nothing wrong.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from stdnum.cn import ric, uscc

from definitions.loader import load_bundled
from definitions.model import Definition, EventSpec, FieldSpec
from workflow import Actor, Engine, ManualClock, audit
from workflow.core.states import activate_tracks

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)
DAY = "2026-05-11"
UNIT = "walk-unit"
USCC = "91120101MA05123456"[:17] + uscc.calc_check_digit("91120101MA05123456"[:17])
ID_NUMBER = "11010519491231002" + ric.calc_check_digit("11010519491231002" + "0")

DEFINITIONS = sorted((item.definition for item in load_bundled()), key=lambda d: d.key)
Tracks = tuple[tuple[str, str], ...]
Step = tuple[str, Mapping[str, object]]  # event, the `when` values it needs


def _finals(definition: Definition) -> list[str]:
    return [name for name, state in definition.main.states.items() if state.final]


CASES = [(d, final) for d in DEFINITIONS for final in _finals(d)]


def _guards_allow(spec: EventSpec, tracks: Mapping[str, str]) -> bool:
    for guard in spec.guards:
        states = guard.params.get("states")
        if not isinstance(states, Mapping):
            continue
        current = {track: tracks.get(track) for track in states}
        if guard.kind == "requires_state" and any(current[t] not in s for t, s in states.items()):
            return False
        if guard.kind == "forbids_state" and any(current[t] in s for t, s in states.items()):
            return False
    return True


def _after(
    definition: Definition, spec: EventSpec, tracks: Mapping[str, str], when: Mapping[str, object]
) -> dict[str, str] | None:
    """The tracks after firing ``spec`` with payload values ``when`` (None: it cannot fire)."""
    if not _guards_allow(spec, tracks):
        return None
    moved = dict(tracks)
    groups: dict[str, list[Any]] = {}
    for transition in spec.transitions:
        groups.setdefault(transition.track, []).append(transition)
    for track, group in groups.items():
        state = moved.get(track)
        fitting = [
            t for t in group if state in t.sources and all(when.get(k) == v for k, v in t.when.items())
        ]
        if not fitting:
            if any(not t.optional for t in group):
                return None
            continue
        moved[track] = fitting[0].dest
        if track == definition.main_track:
            activate_tracks(definition, moved)
    return moved


def path_to(definition: Definition, final: str) -> list[Step]:
    """The shortest list of events (with their `when` payload values) from creation to ``final``."""
    start = {definition.main_track: definition.main.initial}
    activate_tracks(definition, start)
    frozen: Tracks = tuple(sorted(start.items()))
    seen = {frozen}
    queue: deque[tuple[Tracks, list[Step]]] = deque([(frozen, [])])
    while queue:
        tracks, steps = queue.popleft()
        if dict(tracks)[definition.main_track] == final:
            return steps
        for name, spec in definition.events.items():
            if spec.creates:
                continue
            variants = [dict(t.when) for t in spec.transitions if t.when] or [{}]
            for when in variants:
                moved = _after(definition, spec, dict(tracks), when)
                if moved is None:
                    continue
                key: Tracks = tuple(sorted(moved.items()))
                if key not in seen:
                    seen.add(key)
                    queue.append((key, [*steps, (name, when)]))
    raise AssertionError(f"{definition.key}: final state {final!r} cannot be reached")


def _value(definition: Definition, spec: FieldSpec) -> object:
    if spec.type == "int":
        value = spec.default if isinstance(spec.default, int) else max(spec.min or 1, 1)
        return min(value, spec.max) if spec.max is not None else value
    if spec.type == "enum":
        return definition.enums[spec.enum or ""].codes()[0]
    if spec.type == "enum_list":
        return [definition.enums[spec.enum or ""].codes()[0]]
    return {
        "string": "样例",
        "text": "样例文本",
        "bool": True,
        "date": DAY,
        "uscc": USCC,
        "id_number": ID_NUMBER,
        "unit": UNIT,
        "documents": [{"name": "佐证材料", "number": "样〔2026〕1号"}],
        "string_list": ["样例"],
    }[spec.type]


def _payload(
    definition: Definition, specs: Mapping[str, FieldSpec], when: Mapping[str, object]
) -> dict[str, object]:
    payload = {name: _value(definition, spec) for name, spec in specs.items()}
    payload.update(when)
    return payload


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    Engine.init(database_url, simulated_start=T0)[0].close()
    with Engine.open(database_url, clock=ManualClock(T0)) as opened:
        opened.units.save([{"code": UNIT, "name": "样例单位", "emails": ["walk@example.gov.cn"]}])
        yield opened


def _create(engine: Engine, definition: Definition) -> str:
    spec = definition.creation_event()
    fields = _payload(definition, definition.fields, {})
    role = next((r for r in spec.roles if not definition.roles[r].system), None)
    if role is None:
        case_id, created = engine.open_case(
            definition.name, fields, key=f"walk:{definition.key}", version=definition.version
        )
        assert created
        return case_id
    actor = Actor(id="walker-0", role=role, unit=UNIT)
    return engine.register(definition.name, fields, actor=actor, version=definition.version).id


def test_every_definition_has_final_states_and_a_walk() -> None:
    kinds = {d.kind for d in DEFINITIONS}
    assert {"record", "complaint", "commitment", "ledger_task", "supervision_round"} <= kinds
    assert all(_finals(d) for d in DEFINITIONS)


@pytest.mark.parametrize(("definition", "final"), CASES, ids=[f"{d.key}-{f}" for d, f in CASES])
def test_every_definition_reaches_each_final_state(
    engine: Engine, definition: Definition, final: str
) -> None:
    steps = path_to(definition, final)
    case_id = _create(engine, definition)
    people = itertools.count(1)
    assert isinstance(engine.clock, ManualClock)
    for event, when in steps:
        spec = definition.events[event]
        payload = _payload(definition, spec.payload, when)
        if any(g.kind == "publication_minimum_elapsed" for g in spec.guards):
            engine.clock.set(engine.clock.now() + dt.timedelta(days=3 * 366 + 1))
        else:
            engine.clock.set(engine.clock.now() + dt.timedelta(minutes=1))
        role = next((r for r in spec.roles if not definition.roles[r].system), None)
        if role is None:
            engine.fire_system(case_id, event, payload, key=f"walk:{case_id}:{event}:{next(people)}")
            continue
        actor = Actor(id=f"walker-{next(people)}", role=role, unit=UNIT)
        engine.fire(case_id, event, actor=actor, payload=payload, comment="依规办理")
    view = engine.get(case_id)
    assert view.state == final and view.definition == definition.key
    history = engine.history(case_id)
    assert [h.event for h in history][1:] == [event for event, _ in steps]
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact, report.problems
    for linked in [case_id, *(str(link["case"]) for link in view.links)]:
        assert audit.replay(engine.registry, engine.stored_history(linked)) == []
