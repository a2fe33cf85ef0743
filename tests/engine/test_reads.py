"""The engine's reads of a record, on SQLite and PostgreSQL: its state as of a past date rebuilt
from history, the events an actor may fire now (and why not), and queries by state, track,
unit, subject and activity.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.harness import SH, Harness

from workflow.errors import RecordNotFound


def test_state_as_of_a_past_date_is_rebuilt_from_history(h: Harness) -> None:
    rid = h.recorded()
    h.at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH))
    h.fire(rid, "submit_explanation", h.subject, explanation="说明")
    then = h.engine.state_at(rid, dt.datetime(2026, 5, 20, 0, 0, tzinfo=SH))
    assert {t.track: t.state for t in then.tracks}["rectification"] == "explanation_due"
    now = h.engine.state_at(rid, dt.datetime(2026, 6, 2, 0, 0, tzinfo=SH))
    assert {t.track: t.state for t in now.tracks}["rectification"] == "rectifying"
    with pytest.raises(RecordNotFound):
        h.engine.state_at(rid, dt.datetime(2026, 1, 1, tzinfo=SH))


def test_events_for_lists_what_an_actor_may_do_and_why_not(h: Harness) -> None:
    rid = h.recorded()
    options = {o.event: o for o in h.engine.events_for(rid, h.subject)}
    assert options["submit_explanation"].available
    assert options["file_objection"].available
    assert not options["apply_repair"].available
    assert "最短公示期" in options["apply_repair"].reason
    assert "submit" not in options  # a recorder's event


def test_queries_by_state_track_unit_and_subject(h: Harness) -> None:
    a = h.recorded()
    b = h.submitted(subject_name="另一单位", subject_code="91440300MA5DDWH96D", responsible_unit="other")
    h.fire(a, "publish", h.verifier)
    assert [v.id for v in h.engine.query(state="publication:published")] == [a]
    assert [v.id for v in h.engine.query(state="submitted")] == [b]
    assert [v.id for v in h.engine.query(unit="other")] == [b]
    assert [v.id for v in h.engine.query(subject="91440300ma5ddwh96d")] == [b]
    assert {v.id for v in h.engine.query(unit="court-3")} == {a, b}
    assert [v.id for v in h.engine.query(active=True)] == [a]
