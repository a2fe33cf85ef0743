"""Verify's structural replay once per shape of history (``workflow.audit.shapes``) gives exactly
what ``fold`` gives — projection and findings — for the first case of a shape, for the cases that
reuse it, and for cases that only share its shape (their data differ, or their rows were edited)."""

from __future__ import annotations

import orjson
import pytest
from support.harness import Harness

from storage.values import RawEvent
from workflow.audit import shapes
from workflow.core.fold import Problem, Projection, fold


def _lifecycle(h: Harness, reasons: str) -> str:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.fire(rid, "file_objection", h.subject, reasons=reasons)
    h.later(days=2)
    h.fire(rid, "correct", h.reviewer, comment="更正", facts=f"更正后的事实 {reasons}")  # a field change
    h.fire(rid, "submit_explanation", h.subject, explanation=f"说明 {reasons}")
    return rid


def _both(h: Harness, events: list[RawEvent]) -> tuple[tuple[Projection, list[Problem]], ...]:
    definition = h.engine.registry.get(events[0].definition_name, events[0].definition_version)
    slow: list[Problem] = []
    fast: list[Problem] = []
    expected = fold(definition, events, slow, deadlines=False)
    found = shapes.fold_rows(definition, events, fast)
    return (expected, slow), (found, fast)


def _edited(event: RawEvent, **columns: str) -> RawEvent:
    values = list(event)
    for name, value in columns.items():
        values[RawEvent.ORDER.index(name)] = value
    return RawEvent.from_row(values)


@pytest.fixture(autouse=True)
def _no_shapes_yet() -> None:
    shapes._SHAPES.clear()


def test_cases_of_one_shape_fold_as_fold_folds_them(h: Harness) -> None:
    rids = [_lifecycle(h, f"理由 {n}") for n in range(3)]
    histories = [list(case.events) for case in h.engine.cases() if case.id in rids]
    assert len(histories) == 3
    for events in histories:
        expected, found = _both(h, events)
        assert found == expected
        assert found[0].data and found[0].actors and found[0].tracks
    assert len(shapes._SHAPES) == 1  # one shape, worked out once


def test_a_field_change_from_a_value_the_case_did_not_have_is_fold_s_finding(h: Harness) -> None:
    rids = [_lifecycle(h, f"理由 {n}") for n in range(2)]
    first, second = (list(case.events) for case in h.engine.cases() if case.id in rids)
    _both(h, first)  # the shape is known now
    at = next(i for i, e in enumerate(second) if '"data":' in e.effects_json)
    effects = dict(second[at].effects)
    effects["data"] = [[name, "不是原来的值", new] for name, _old, new in effects["data"]]
    second[at] = _edited(second[at], effects_json=orjson.dumps(effects, option=orjson.OPT_SORT_KEYS).decode())
    expected, found = _both(h, second)
    assert found == expected
    assert expected[1] and all(p.kind == "illegal" and "field" in p.detail for p in expected[1])


def test_an_illegal_transition_is_fold_s_finding_every_time(h: Harness) -> None:
    rids = [_lifecycle(h, f"理由 {n}") for n in range(2)]
    histories = [list(case.events) for case in h.engine.cases() if case.id in rids]
    for events in histories:
        at = next(i for i, e in enumerate(events) if e.event == "correct")
        events[at] = _edited(events[at], role=events[0].role)  # a role that may not fire it
        expected, found = _both(h, events)
        assert found == expected
        assert any("may not fire" in p.detail for p in expected[1])
    assert list(shapes._SHAPES.values()) == [None]  # a shape with findings is never reused


def test_the_cache_stays_bounded(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shapes, "LIMIT", 2)
    _lifecycle(h, "理由")
    h.recorded()
    h.fire(h.recorded(), "publish", h.verifier)  # three shapes of history
    for case in h.engine.cases():
        expected, found = _both(h, list(case.events))
        assert found == expected
        assert len(shapes._SHAPES) <= 2
