"""Bulk import of existing records (``Engine.import_records``), on SQLite and PostgreSQL.

An imported case keeps its state, dates and documents; its first history row (``@import``)
joins the hash chain, so verify and replay accept it and find tampering with it; its running
deadlines are counted from the imported dates in working days, and the sweep then works on them.
A bad row is reported with its line and nothing of it is written; a second run imports only what
the first did not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from support.harness import ORGANISATION, SH, Harness

from storage.imports import Imports
from workflow import Actor
from workflow.audit import replay, verify
from workflow.core.fold import fold
from workflow.engine.importing import ImportResult, RowProblem, SourceRow
from workflow.testing import PERSON, PERSON_ID

MIGRATION = Actor(id="zhou.min", role="verifier", unit="credit-office")
DOC = {"name": "判决书.pdf", "sha256": hashlib.sha256(b"judgment").hexdigest()}


def fields(**overrides: Any) -> dict[str, Any]:
    return {k: v for k, v in {**ORGANISATION, **overrides}.items() if v is not None}


def rows(*values: Mapping[str, Any]) -> list[SourceRow]:
    return [
        SourceRow(line=number, sha256=hashlib.sha256(repr(v).encode()).hexdigest(), values=v)
        for number, v in enumerate(values, start=1)
    ]


def recorded_row(source_id: str = "OLD-1", **overrides: Any) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "state": "recorded",
        "tracks": {"publication": "published", "rectification": "rectifying"},
        "since": {"main": "2026-04-20", "rectification": "2026-04-27"},
        "fields": fields(finding_date="2026-04-15", documents=[DOC], **overrides),
    }


def run(h: Harness, *values: Mapping[str, Any], **options: Any) -> tuple[ImportResult, list[RowProblem]]:
    heard: list[RowProblem] = []
    result = h.engine.import_records(
        rows(*values), source="old.jsonl", actor=MIGRATION, on_problem=heard.append, **options
    )
    return result, heard


def count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()


def only_case(h: Harness) -> str:
    ids = [view.id for view in h.engine.query(limit=10)]
    assert len(ids) == 1, ids
    return ids[0]


def test_an_imported_case_keeps_its_state_fields_and_documents(h: Harness) -> None:
    result, problems = run(h, recorded_row())
    assert (result.imported, result.bad, problems) == (1, 0, [])
    view = h.engine.get(only_case(h))
    assert view.state == "recorded" and view.version == 1
    assert h.tracks(view.id) == {
        "main": "recorded",
        "publication": "published",
        "rectification": "rectifying",
        "sanctions": "in_force",
        "objection": "none",
        "repair": "none",
    }
    assert view.data["documents"] == [DOC]
    assert view.data["finding_date"] == "2026-04-15"
    assert view.id.startswith("SX20260415-I")
    [event] = h.engine.history(view.id)
    assert event.event == "@import"


def test_running_deadlines_are_counted_from_the_imported_dates_in_working_days(h: Harness) -> None:
    verifying = {
        "source_id": "OLD-2",
        "state": "verifying",
        "since": "2026-04-30",
        "fields": fields(finding_date="2026-04-28"),
    }
    run(h, recorded_row(), verifying)
    by_state = {h.engine.get(v.id).state: v.id for v in h.engine.query(limit=10)}
    # 10 working days from Thursday 2026-04-30, across the May Day holiday (5/1–5/5) and the
    # make-up working day Saturday 5/9: 5/6, 5/7, 5/8, 5/9, 5/11, 5/12, 5/13, 5/14, 5/15, 5/18
    verification = h.deadline(by_state["verifying"], "verification")
    assert verification.due_at.astimezone(SH) == dt.datetime(2026, 5, 18, 17, 0, tzinfo=SH)
    # rectification: 30 days (the field's default) from 2026-04-27 → 2026-05-27
    rectification = h.deadline(by_state["recorded"], "rectification")
    assert rectification.due_at.astimezone(SH) == dt.datetime(2026, 5, 27, 17, 0, tzinfo=SH)
    # the maximum publication period (一般: one year) from the finding date
    publication = h.deadline(by_state["recorded"], "publication_period")
    assert publication.due_at.astimezone(SH).date() == dt.date(2027, 4, 15)
    names = {d.name for d in h.engine.get(by_state["recorded"]).deadlines}
    assert names == {"rectification", "publication_period", "retention"}


def test_the_sweep_works_on_imported_deadlines(h: Harness) -> None:
    late = recorded_row()
    late["since"] = {"main": "2026-03-02", "rectification": "2026-03-09"}
    late["fields"]["finding_date"] = "2026-03-02"
    result, problems = run(h, late)
    assert (result.imported, problems) == (1, [])
    rid = only_case(h)
    assert h.tracks(rid)["rectification"] == "rectifying"
    h.engine.sweep()
    assert h.tracks(rid)["rectification"] == "rectification_overdue"
    assert [e.event for e in h.engine.history(rid)][:2] == ["@import", "rectification_overdue"]
    report = verify(h.engine.registry, h.engine.cases(), real_time=False)
    assert report.intact, report.problems


def test_verify_is_clean_after_an_import_and_replay_gives_the_imported_state(h: Harness) -> None:
    person = {"source_id": "P-1", "state": "recorded", "fields": {**PERSON, "subject_code": None}}
    person["fields"] = {k: v for k, v in person["fields"].items() if v is not None}
    run(h, recorded_row(), person)
    report = verify(h.engine.registry, h.engine.cases(), real_time=False, subject_key=h.engine.subject_key)
    assert report.intact, report.problems
    assert report.records == 2
    for record, events in h.engine.histories():
        assert replay(h.engine.registry, events) == []
        assert record is not None
        definition = h.engine.registry.get(record.definition_name, record.definition_version)
        assert fold(definition, events).tracks == dict(record.tracks)
    found = h.engine.credit_check(id_number=PERSON_ID, requester="hr", purpose="appraisal")
    assert len(found) == 1


def test_an_imported_history_row_edited_in_sql_is_found(h: Harness, database_url: str) -> None:
    run(h, recorded_row())
    rid = only_case(h)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as c:
            c.execute(
                sa.text("update record_event set comment = 'edited' where record_id = :id and seq = 1"),
                {"id": rid},
            )
    finally:
        engine.dispose()
    report = verify(h.engine.registry, h.engine.cases(), real_time=False)
    assert not report.intact
    assert any(p.record_id == rid and p.kind == "altered" for p in report.problems), report.problems


def test_an_imported_state_changed_in_sql_is_found(h: Harness, database_url: str) -> None:
    run(h, recorded_row())
    rid = only_case(h)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as c:
            c.execute(sa.text("update record set state = 'repaired' where id = :id"), {"id": rid})
    finally:
        engine.dispose()
    report = verify(h.engine.registry, h.engine.cases(), real_time=False)
    assert any(p.record_id == rid for p in report.problems), report.problems


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ({"state": "flying"}, "flying"),
        ({"tracks": {"publication": "shouting"}}, "state.publication"),
        ({"tracks": {"restoration": "pending"}}, "state.restoration"),
        ({"fields": fields(severity="huge")}, "severity"),
        ({"fields": fields(subject_code="91110000600037341X")}, "subject_code"),
        ({"fields": fields(facts=None)}, "facts"),
        ({"since": {"main": "2026-04-01"}}, "since.main"),  # before the finding date
        ({"since": {"main": "2026-06-01"}}, "since.main"),  # after today
        ({"since": {"main": "2026-04-20", "publication": "2026-04-16"}}, "since.publication"),
        ({"source_id": ""}, "source_id"),
        ({"definition": "nowhere"}, "nowhere"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_of_it_is_written(
    h: Harness, database_url: str, row: dict[str, Any], needle: str
) -> None:
    bad = {**recorded_row("OLD-BAD"), **row}
    result, problems = run(h, recorded_row("OLD-1"), bad, recorded_row("OLD-3"))
    assert (result.read, result.imported, result.bad) == (3, 2, 1)
    [problem] = problems
    assert problem.line == 2
    assert needle in problem.reason
    assert str(problem).startswith("第 2 行 (line 2): ")
    assert "\n" not in str(problem)
    assert count(database_url, "record") == 2
    assert count(database_url, "record_event") == 2
    assert count(database_url, "record_import") == 2


def test_a_responsible_unit_unknown_to_the_directory_is_refused(h: Harness) -> None:
    h.engine.units.save(
        [
            {"code": "hexi-zjw", "name": "某区住房和建设委员会", "emails": "zjw@example.org"},
            {"code": "hexi-gov", "name": "某区人民政府", "emails": "gov@example.org"},
            {"code": "court-3", "name": "某区人民法院", "emails": "court@example.org"},
        ]
    )
    result, problems = run(h, recorded_row("OLD-1"), recorded_row("OLD-2", responsible_unit="nowhere-unit"))
    assert (result.imported, result.bad) == (1, 1)
    assert problems[0].line == 2 and "nowhere-unit" in problems[0].reason


def test_a_second_run_imports_only_what_the_first_did_not(h: Harness, database_url: str) -> None:
    values = [recorded_row(f"OLD-{i}") for i in range(7)]
    first, _ = run(h, *values[:3], batch=2)
    assert (first.imported, first.skipped) == (3, 0)
    second, _ = run(h, *values, batch=2)
    assert (second.imported, second.skipped, second.bad) == (4, 3, 0)
    third, _ = run(h, *values, batch=2)
    assert (third.imported, third.skipped) == (0, 7)
    assert count(database_url, "record") == count(database_url, "record_import") == 7


def test_a_batch_that_fails_writes_nothing_and_a_rerun_completes_it(
    h: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [recorded_row(f"OLD-{i}") for i in range(6)]
    real_write = Imports.write_encoded
    calls = {"n": 0}

    def killed_on_second_batch(self: Imports, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # stands for the process being killed mid-batch
        real_write(self, *args)

    monkeypatch.setattr(Imports, "write_encoded", killed_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(h, *values, batch=2)
    assert count(database_url, "record") == count(database_url, "record_import") == 2
    monkeypatch.setattr(Imports, "write_encoded", real_write)
    again, _ = run(h, *values, batch=2)
    assert (again.imported, again.skipped) == (4, 2)
    assert count(database_url, "record") == count(database_url, "record_import") == 6
    report = verify(h.engine.registry, h.engine.cases(), real_time=False)
    assert report.intact, report.problems


def test_a_duplicate_source_id_in_one_file_is_a_bad_row(h: Harness) -> None:
    result, problems = run(h, recorded_row("OLD-1"), recorded_row("OLD-1"))
    assert (result.imported, result.bad) == (1, 1)
    assert problems[0].line == 2 and "line 1" in problems[0].reason


def test_a_dry_run_checks_every_row_and_writes_nothing(h: Harness, database_url: str) -> None:
    result, problems = run(
        h, recorded_row("OLD-1"), {**recorded_row("OLD-2"), "state": "flying"}, dry_run=True
    )
    assert (result.imported, result.bad, result.dry_run) == (1, 1, True)
    assert problems[0].line == 2
    assert count(database_url, "record") == 0
    assert count(database_url, "record_import") == 0


def test_an_unreadable_line_is_reported_as_bad(h: Harness) -> None:
    broken = SourceRow(line=4, sha256="0" * 64, error="不是有效的 JSON (not valid JSON): x")
    result = h.engine.import_records([broken], source="old.jsonl", actor=MIGRATION)
    assert (result.imported, result.bad) == (0, 1)
    assert result.problems[0].line == 4


def test_forked_workers_decide_the_same_cases(h: Harness, database_url: str) -> None:
    values = [recorded_row(f"OLD-{i}") for i in range(9)]
    values[4] = {**values[4], "state": "flying"}
    result, problems = run(h, *values, batch=4, workers=2)
    assert (result.imported, result.bad) == (8, 1)
    assert [p.line for p in problems] == [5]
    assert count(database_url, "record") == count(database_url, "record_import") == 8
    report = verify(h.engine.registry, h.engine.cases(), real_time=False)
    assert report.intact, report.problems
    h.engine.get(only_case_of(h, "OLD-0"))  # the engine's own connections still work


def only_case_of(h: Harness, source_id: str) -> str:
    views = [
        v for v in h.engine.query(limit=100) if h.engine.history(v.id)[0].payload["source"]["id"] == source_id
    ]
    assert len(views) == 1
    return views[0].id
