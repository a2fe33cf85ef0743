"""Tamper detection, replay equality and checkpoints — tampering done directly in SQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.harness import Harness

from storage.connections import event_t, record_t
from workflow import audit
from workflow.core.history import event_hash, raw_event_hash
from workflow.errors import CheckpointError


def _lifecycle(h: Harness) -> str:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.fire(rid, "file_objection", h.subject, reasons="理由")
    h.later(days=2)
    h.fire(rid, "maintain", h.reviewer, comment="维持")
    h.fire(rid, "submit_explanation", h.subject, explanation="说明")
    h.later(days=50)
    h.engine.sweep()
    return rid


def _verify(h: Harness) -> audit.Report:
    return audit.verify(h.engine.registry, h.engine.histories(), real_time=False)


def _sql(h: Harness, statement: sa.Executable) -> None:
    with h.engine.store.engine.begin() as connection:
        connection.execute(statement)


def test_an_untouched_database_verifies_and_replays_identically(h: Harness) -> None:
    rids = [_lifecycle(h), h.recorded(), h.submitted()]
    report = _verify(h)
    assert report.intact, report.problems
    assert report.records == 3
    for rid in rids:
        assert audit.replay(h.engine.registry, h.engine.stored_history(rid)) == []


def test_every_stored_row_verifies_on_its_stored_text_without_parsing(h: Harness) -> None:
    """Verify's fast path: a row read as stored hashes as written; parsing is only the fallback."""
    _lifecycle(h)
    h.later(seconds=0.123456)  # a time with microseconds
    h.recorded()
    rows = [event for _record, history in h.engine.histories() for event in history]
    assert len(rows) > 10
    assert all(raw_event_hash(event) == event.hash for event in rows)


def test_an_altered_comment_is_detected(h: Harness) -> None:
    rid, other = _lifecycle(h), h.recorded()
    _sql(
        h,
        sa.update(event_t).where(event_t.c.record_id == rid, event_t.c.seq == 4).values(comment="改过的理由"),
    )
    problems = _verify(h).problems
    assert {p.record_id for p in problems} == {rid}
    assert any(p.kind == "altered" and "row 4" in p.detail for p in problems)
    assert other not in {p.record_id for p in problems}


def test_an_altered_time_is_detected(h: Harness) -> None:
    rid = _lifecycle(h)
    _sql(
        h,
        sa.update(event_t)
        .where(event_t.c.record_id == rid, event_t.c.seq == 2)
        .values(occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    )
    assert [p.kind for p in _verify(h).problems] == ["altered"]


def test_a_deleted_row_is_detected(h: Harness) -> None:
    rid = _lifecycle(h)
    _sql(h, sa.delete(event_t).where(event_t.c.record_id == rid, event_t.c.seq == 3))
    problems = _verify(h).problems
    assert problems and all(p.record_id == rid for p in problems)
    assert problems[0].kind == "deleted"


def test_reordered_rows_are_detected(h: Harness) -> None:
    rid = _lifecycle(h)
    _sql(h, sa.update(event_t).where(event_t.c.record_id == rid, event_t.c.seq == 5).values(seq=-5))
    _sql(h, sa.update(event_t).where(event_t.c.record_id == rid, event_t.c.seq == 6).values(seq=5))
    _sql(h, sa.update(event_t).where(event_t.c.record_id == rid, event_t.c.seq == -5).values(seq=6))
    problems = _verify(h).problems
    assert problems and problems[0].kind == "reordered"


def test_a_projection_edited_behind_the_engines_back_is_detected(h: Harness) -> None:
    rid = _lifecycle(h)
    _sql(h, sa.update(record_t).where(record_t.c.id == rid).values(state="repaired"))
    problems = _verify(h).problems
    assert [p.kind for p in problems] == ["projection"]


def test_a_forged_history_with_recomputed_hashes_is_caught_by_replay(h: Harness) -> None:
    """A forger who rewrites a row and recomputes the chain: verify sees an illegal move, replay disagrees."""
    rid = h.recorded()
    events = h.engine.stored_history(rid)
    forged = []
    prev = events[0].prev_hash
    for stored in events:
        event = stored
        if event.event == "confirm":  # pretend the verifier moved the record straight to repaired
            event = dataclasses.replace(event, changes=(("main", "verifying", "repaired"),))
        digest = event_hash(
            record_id=event.record_id,
            seq=event.seq,
            event=event.event,
            changes=event.changes,
            actor=event.actor,
            role=event.role,
            unit=event.unit,
            payload=event.payload,
            comment=event.comment,
            effects=event.effects,
            definition_name=event.definition_name,
            definition_version=event.definition_version,
            occurred_at=event.occurred_at,
            idempotency_key=event.idempotency_key,
            prev_hash=prev,
        )
        forged.append(dataclasses.replace(event, prev_hash=prev, hash=digest))
        prev = digest
    assert audit.verify_chain(rid, forged) == []  # the chain alone is satisfied
    problems: list[audit.Problem] = []
    audit.fold(h.engine.registry.get("national", 1), forged, problems)
    assert any("cannot move main from verifying to repaired" in p.detail for p in problems)
    assert any(p.kind == "replay" for p in audit.replay(h.engine.registry, forged))


def test_replay_reports_effects_that_differ_from_the_stored_ones(h: Harness) -> None:
    rid = h.recorded()
    events = h.engine.stored_history(rid)
    confirm = events[-1]
    effects = json.loads(json.dumps(confirm.effects))
    effects["notices"] = [n for n in effects["notices"] if n["template"] != "repair_notice"]
    altered = [*events[:-1], dataclasses.replace(confirm, effects=effects)]
    problems = audit.replay(h.engine.registry, altered)
    assert [p.detail for p in problems] == ["seq 4 confirm: effects differ on replay"]


def test_a_checkpoint_reveals_a_record_removed_whole_and_a_tail_cut_off(h: Harness, tmp_path: Path) -> None:
    gone, cut, kept = _lifecycle(h), _lifecycle(h), h.recorded()
    file = tmp_path / "checkpoint.json"
    count, _digest = audit.write_checkpoint(h.engine.heads(), file, at=h.clock.now(), database="test")
    assert count == 3
    with h.engine.store.engine.begin() as connection:
        for table in (
            "record_state",
            "deadline_reminder",
            "deadline",
            "outbox",
            "record_personal",
            "record_event",
        ):
            connection.execute(sa.text(f"delete from {table} where record_id = :r"), {"r": gone})
        connection.execute(sa.text("delete from record where id = :r"), {"r": gone})
        last = connection.execute(
            sa.select(event_t.c.seq).where(event_t.c.record_id == cut).order_by(event_t.c.seq.desc()).limit(1)
        ).scalar_one()
        prev = connection.execute(
            sa.select(event_t.c.hash).where(event_t.c.record_id == cut, event_t.c.seq == last - 1)
        ).scalar_one()
        connection.execute(sa.delete(event_t).where(event_t.c.record_id == cut, event_t.c.seq == last))
        connection.execute(
            sa.update(record_t).where(record_t.c.id == cut).values(version=last - 1, head_hash=prev)
        )
    assert {p.record_id for p in _verify(h).problems} <= {cut}  # the chain alone cannot see it all
    problems = audit.verify_checkpoint(audit.read_checkpoint(file), h.engine.event_hashes())
    assert {(p.record_id, p.kind) for p in problems} == {(gone, "missing"), (cut, "shortened")}
    assert kept not in {p.record_id for p in problems}


def test_a_checkpoint_file_that_was_edited_is_refused(h: Harness, tmp_path: Path) -> None:
    h.recorded()
    file = tmp_path / "checkpoint.json"
    audit.write_checkpoint(h.engine.heads(), file, at=h.clock.now(), database="test")
    body = json.loads(file.read_text())
    body["heads"][0][1] = 1
    file.write_text(json.dumps(body))
    with pytest.raises(CheckpointError, match="altered"):
        audit.read_checkpoint(file)


def test_a_real_time_database_flags_rows_written_on_simulated_time(h: Harness) -> None:
    h.recorded()
    report = audit.verify(h.engine.registry, h.engine.histories(), real_time=True)
    assert {p.kind for p in report.problems} == {"altered"}
    assert "simulated" in report.problems[0].detail


@pytest.mark.slow
def test_verifying_in_parallel_parts_finds_the_same_as_one_pass(h: Harness, database_url: str) -> None:
    ids = sorted(h.recorded() for _ in range(6))
    _sql(h, sa.update(event_t).where(event_t.c.record_id == ids[-1], event_t.c.seq == 2).values(comment="改"))
    split = h.engine.split_points(3)
    assert len(split) == 2
    whole = _verify(h)
    parts = audit.verify_parallel(database_url, real_time=False, jobs=3, split=split)
    assert (parts.records, parts.events) == (whole.records, whole.events) == (6, 24)
    assert [(p.record_id, p.kind) for p in parts.problems] == [(ids[-1], "altered")]


def test_verify_reads_records_and_histories_from_one_snapshot(h: Harness, database_url: str) -> None:
    """The history is streamed on a second connection on PostgreSQL; it must see the snapshot the
    record rows are read from, or a command committed in between would look like tampering."""
    from workflow import Engine, ManualClock

    rid = h.recorded()
    other = Engine.open(database_url, clock=ManualClock(h.clock.now()))
    count = "select count(*) from record_event"
    try:
        with h.engine.store.db.streamed_snapshot() as (open_cursor, _fast):
            first = open_cursor("chengxin_test_first")
            first.execute(count)
            before = first.fetchmany(1)[0][0]
            other.fire(rid, "publish", actor=h.verifier)  # committed while the snapshot is open
            second = open_cursor("chengxin_test_second", streamed=True)
            second.execute(count)
            seen = second.fetchmany(1)[0][0]
    finally:
        other.close()
    assert seen == before
    assert [e.event for e in h.engine.history(rid)][-1] == "publish"
