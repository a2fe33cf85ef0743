"""Every table that drives behaviour is compared with what the history implies (issue 10, defect 4):
deadline rows (start, due, pauses, extension, status, closing, when the sweep looks next), the
parallel tracks in ``record_state``, every column of the record row, the reminder log and the
keyed digest a person is found by. Each edit is done in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.harness import SH, Harness

from workflow import audit
from workflow.audit import behaviour
from workflow.testing import PERSON


def _sql(h: Harness, statement: str, **params: object) -> None:
    with h.engine.store.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _problems(h: Harness) -> list[audit.Problem]:
    report = audit.verify(
        h.engine.registry, h.engine.cases(), real_time=False, subject_key=h.engine.subject_key
    )
    return list(report.problems)


def _walk(h: Harness, until: dt.datetime, hours: float = 6) -> None:
    while h.clock.now() < until:
        h.later(hours=hours)
        h.engine.sweep()


def _rich(h: Harness) -> dict[str, str]:
    """Records whose deadlines did everything: reminders, a pause and its resumption, an extension,
    an expiry; a person's record (keyed digest); plain ones, one whose deadlines only started and
    ended."""
    paused = h.recorded()
    h.fire(paused, "publish", h.verifier)
    h.at(dt.datetime(2026, 5, 13, 10, 0, tzinfo=SH))
    h.fire(paused, "file_objection", h.subject, reasons="理由")
    extended = h.recorded()
    h.fire(extended, "file_objection", h.subject, reasons="理由")
    _walk(h, dt.datetime(2026, 5, 18, 12, 0, tzinfo=SH))
    h.fire(extended, "extend_objection", h.reviewer, comment="需调查", working_days=5, approved_by="主任")
    h.fire(paused, "maintain", h.reviewer, comment="维持")
    person = h.recorded(**{k: v for k, v in PERSON.items() if k not in {"subject_code"}}, subject_code=None)
    plain = h.recorded()
    _walk(h, dt.datetime(2026, 6, 10, 12, 0, tzinfo=SH))
    fresh = h.recorded()
    h.fire(fresh, "publish", h.verifier)
    h.fire(fresh, "submit_explanation", h.subject, explanation="说明")
    return {"paused": paused, "extended": extended, "person": person, "plain": plain, "fresh": fresh}


def test_a_lifecycle_with_every_kind_of_deadline_effect_verifies_intact(h: Harness) -> None:
    cases = _rich(h)
    assert h.engine.store.records.reminders(record_id=cases["paused"])
    assert _problems(h) == []


def test_the_quick_comparison_never_vouches_for_what_the_full_one_would_report(h: Harness) -> None:
    """``behaviour.confirmed`` reads stored text only; whatever it confirms, ``compare_deadlines``
    (the interpretation through ``effects.apply``) finds equal too, and every edit makes it defer."""
    _rich(h)
    registry = h.engine.registry
    confirmed = 0
    for case in h.engine.cases():
        definition = registry.get(case.events[0].definition_name, case.events[0].definition_version)
        calendar = registry.calendar(definition)
        found = behaviour.implied(case.events)
        full = behaviour.compare_deadlines(
            definition, calendar, case.id, found, case.deadlines, case.reminders
        )
        quick = behaviour.confirmed(definition, calendar, case.events, case.deadlines, case.reminders)
        assert not (quick and full), full
        confirmed += quick
        for row in case.deadlines:
            for column in behaviour.DEADLINE_COLUMNS:
                edited = row._replace(**{column: _other(getattr(row, column))})
                rows = [edited if r is row else r for r in case.deadlines]
                assert not behaviour.confirmed(definition, calendar, case.events, rows, case.reminders), (
                    column
                )
                assert behaviour.compare_deadlines(definition, calendar, case.id, found, rows, case.reminders)
    assert confirmed  # the plain records take the quick way


def _other(value: object) -> object:
    if value is None:
        return "2030-01-01T00:00:00.000000+00:00"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value.endswith("+00:00"):
        return "2030-01-01T00:00:00.000000+00:00"
    if isinstance(value, str) and value.startswith(("{", "[")):
        return '{"x":1}' if value.startswith("[") else "[]"
    return f"{value}x"


def test_a_due_date_moved_in_sql_suppresses_the_overdue_mark_and_verify_names_it(h: Harness) -> None:
    rid, other = h.recorded(), h.recorded()
    h.fire(rid, "publish", h.verifier)
    _sql(
        h,
        "update deadline set due_at = :d, next_at = :d where record_id = :r and name = 'written_explanation'",
        d=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        r=rid,
    )
    _walk(h, dt.datetime(2026, 6, 10, 12, 0, tzinfo=SH), hours=24)
    assert "explanation_overdue" not in h.events(rid)  # the edit took effect …
    assert "explanation_overdue" in h.events(other)
    problems = [p for p in _problems(h) if p.record_id == rid]
    assert [p.kind for p in problems] == ["projection"], problems  # … and verify says so
    assert "deadline written_explanation" in problems[0].detail and "due_at" in problems[0].detail


DEADLINE_EDITS = {
    "status": "status = 'met'",
    "started_at": "started_at = :t",
    "due_at": "due_at = :t",
    "unit": "unit = 'days'",
    "amount": "amount = amount + 1",
    "extended": "extended = 3",
    "paused_at": "paused_at = :t",
    "remaining": "remaining = 9",
    "provisional": "provisional = true",
    "basis": "basis = '{}'",
    "closed_at": "closed_at = :t",
    "closed_seq": "closed_seq = 99",
    "next_at": "next_at = null",
    "reminded": "reminded = '[\"due\"]'",
}


@pytest.mark.parametrize("column", sorted(DEADLINE_EDITS))
def test_every_column_of_a_deadline_row_is_compared_with_the_history(h: Harness, column: str) -> None:
    rid = h.recorded()
    _sql(
        h,
        f"update deadline set {DEADLINE_EDITS[column]} where record_id = :r and name = 'written_explanation'",
        r=rid,
        t=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    problems = _problems(h)
    assert [(p.record_id, p.kind) for p in problems] == [(rid, "projection")], problems
    assert "written_explanation" in problems[0].detail and column in problems[0].detail


def test_a_deadline_row_deleted_or_added_is_found(h: Harness) -> None:
    gone, added = h.recorded(), h.recorded()
    _sql(h, "delete from deadline where record_id = :r and name = 'retention'", r=gone)
    _sql(
        h,
        "insert into deadline (record_id, name, started_seq, status, started_at, due_at, unit, amount, "
        "extended, provisional, basis, reminded) select record_id, 'objection_decision', 2, status, "
        "started_at, due_at, unit, amount, extended, provisional, basis, reminded from deadline "
        "where record_id = :r and name = 'retention'",
        r=added,
    )
    details = {p.record_id: p.detail for p in _problems(h)}
    assert "retention started at row 4 has no row" in details[gone]
    assert "objection_decision" in details[added] and "no start in the history" in details[added]


@pytest.mark.parametrize(
    "edit",
    [
        "update record_state set state = 'objection_pending' where record_id = :r and track = 'objection'",
        "delete from record_state where record_id = :r and track = 'sanctions'",
        "insert into record_state (record_id, track, state) values (:r, 'reputation', 'restoring')",
    ],
    ids=["moved", "deleted", "added"],
)
def test_record_state_is_compared_with_the_history(h: Harness, edit: str) -> None:
    rid = h.recorded()
    _sql(h, edit, r=rid)
    problems = _problems(h)
    assert [(p.record_id, p.kind) for p in problems] == [(rid, "projection")], problems
    assert "record_state" in problems[0].detail


RECORD_EDITS = {
    "kind": "kind = 'complaint'",
    "definition_version": "definition_version = 1",
    "subject_name": "subject_name = '别的单位'",
    "subject_code": "subject_code = '91110000600037341X'",
    "responsible_unit": "responsible_unit = 'nobody'",
    "originating_unit": "originating_unit = 'nobody'",
    "severity": "severity = 'serious'",
    "case_date": "case_date = :d",
    "active": "active = false",
    "overdue": "overdue = true",
    "created_at": "created_at = :t",
    "updated_at": "updated_at = :t",
}


@pytest.mark.parametrize("column", sorted(RECORD_EDITS))
def test_every_column_of_the_record_row_is_compared_with_the_history(h: Harness, column: str) -> None:
    rid = h.recorded()
    _sql(
        h,
        f"update record set {RECORD_EDITS[column]} where id = :r",
        r=rid,
        d=dt.date(2020, 1, 1),
        t=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    problems = _problems(h)
    assert [(p.record_id, p.kind) for p in problems] == [(rid, "projection")], problems
    assert f"stored {column} does not match" in problems[0].detail


@pytest.mark.parametrize(
    "edit",
    [
        "update deadline_reminder set rung = 'due' where record_id = :r and rung = 'before_5'",
        "update deadline_reminder set outcome = 'superseded' where record_id = :r and rung = 'before_5'",
        "delete from deadline_reminder where record_id = :r and rung = 'before_1'",
    ],
    ids=["rung", "outcome", "deleted"],
)
def test_the_reminder_log_is_compared_with_the_history(h: Harness, edit: str) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    _walk(h, dt.datetime(2026, 5, 22, 12, 0, tzinfo=SH))
    assert {r.rung for r in h.engine.store.records.reminders(record_id=rid)} >= {"before_5", "before_1"}
    _sql(h, edit, r=rid)
    problems = _problems(h)
    assert [(p.record_id, p.kind) for p in problems] == [(rid, "projection")], problems
    assert "reminder log" in problems[0].detail


def test_the_keyed_digest_a_person_is_found_by_is_compared(h: Harness) -> None:
    fields = {**PERSON, "subject_code": None}
    hidden, swapped = h.recorded(**fields), h.recorded(**fields)
    assert h.engine.credit_check(requester="t", purpose="t", id_number=PERSON["subject_id_number"])
    _sql(h, "update record set subject_key = null where id = :r", r=hidden)
    _sql(h, "update record_personal set value = '110105194912310021' where record_id = :r", r=swapped)
    details = {p.record_id: p.detail for p in _problems(h)}
    assert details == {
        hidden: "stored subject_key does not match the ID number",
        swapped: "stored subject_key does not match the ID number",
    }
