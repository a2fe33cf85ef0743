"""What verify reads: every case once, whole, whatever parts of the ids earlier reads of the same
engine asked for (each shape of bounds compiles its own statements)."""

from __future__ import annotations

from support.harness import Harness

from workflow import audit


def test_reads_of_different_bounds_on_one_engine_each_read_their_own_cases(h: Harness) -> None:
    ids = sorted([h.recorded(), h.recorded(), h.submitted()])
    engine = h.engine
    part = list(engine.cases(upto=ids[0]))
    assert [c.id for c in part] == ids[:1]
    assert [c.id for c in engine.cases()] == ids  # no bounds after bounds
    assert [c.id for c in engine.cases(after=ids[0])] == ids[1:]
    assert [c.id for c in engine.cases(only=ids[2])] == ids[2:]
    whole = list(engine.cases())
    assert all(c.events and c.record is not None for c in whole)
    assert sum(len(c.deadlines) for c in whole) > 0  # the deadline rows come with their cases
    report = audit.verify(engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key)
    assert report.intact, report.problems
    assert (report.records, report.events) == (3, sum(len(c.events) for c in whole))
