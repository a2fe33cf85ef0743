"""A row that cannot be read is itself a finding: verify and replay name it (record and row) and go
on to report every other record, on SQLite and PostgreSQL (issue 10, defect 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cli import Cli
from support.harness import Harness

from workflow import audit


def _sql(h: Harness, statement: str, **params: object) -> None:
    with h.engine.store.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _verify(h: Harness) -> audit.Report:
    return audit.verify(
        h.engine.registry, h.engine.cases(), real_time=False, subject_key=h.engine.subject_key
    )


def _two_records_one_altered(h: Harness) -> tuple[str, str]:
    """Two records; the second one's comment is rewritten (real tampering verify must still find)."""
    first, second = h.recorded(), h.recorded()
    _sql(h, "update record_event set comment = '改过' where record_id = :r and seq = 4", r=second)
    return first, second


@pytest.fixture
def sqlite_h(tmp_path: Path) -> Iterator[Harness]:
    """A harness on SQLite only: PostgreSQL's column types refuse these values (its tests follow)."""
    harness = Harness.create(f"sqlite:///{tmp_path}/chengxin.db")
    yield harness
    harness.engine.close()


def test_a_timestamp_written_by_hand_is_a_finding_and_the_audit_goes_on(sqlite_h: Harness) -> None:
    h = sqlite_h
    first, second = _two_records_one_altered(h)
    _sql(
        h,
        "update record_event set occurred_at = '2026-05-12 02:00:00+00:00' where record_id = :r and seq = 2",
        r=first,
    )
    problems = _verify(h).problems
    assert any(
        p.record_id == first and p.kind == "malformed" and p.seq == 2 and "edited by hand" in p.detail
        for p in problems
    ), problems
    assert any(p.record_id == first and p.kind == "altered" and p.seq == 2 for p in problems)
    assert any(p.record_id == second and p.kind == "altered" and p.seq == 4 for p in problems)


def test_a_payload_that_is_not_json_is_named_with_its_record_and_row(sqlite_h: Harness) -> None:
    h = sqlite_h
    first, second = _two_records_one_altered(h)
    _sql(h, "update record_event set payload = 'garbage' where record_id = :r and seq = 1", r=first)
    problems = _verify(h).problems
    found = [p for p in problems if p.record_id == first]
    assert [(p.kind, p.seq) for p in found] == [("unreadable", 1)], found
    assert "payload" in found[0].detail and "not JSON" in found[0].detail
    assert any(p.record_id == second and p.kind == "altered" for p in problems)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", '"garbage"'),  # JSON, but not an object
        ("changes", '{"main": 1}'),  # JSON, but not a list of state changes
        ("effects", '{"deadlines": [{"action": 1}]}'),
    ],
)
def test_json_of_the_wrong_shape_is_a_finding_on_both_backends(h: Harness, column: str, value: str) -> None:
    first, second = _two_records_one_altered(h)
    _sql(h, f"update record_event set {column} = :v where record_id = :r and seq = 1", v=value, r=first)
    problems = _verify(h).problems
    assert {(p.kind, p.seq) for p in problems if p.record_id == first} == {("unreadable", 1)}, problems
    assert any(column in p.detail for p in problems if p.record_id == first)
    assert any(p.record_id == second and p.kind == "altered" for p in problems)
    replayed = [
        problem for case in h.engine.cases() for problem in audit.replay(h.engine.registry, case.events)
    ]
    assert any(p.record_id == first and p.kind == "unreadable" for p in replayed), replayed


def test_a_record_row_that_cannot_be_read_is_a_finding(sqlite_h: Harness) -> None:
    h = sqlite_h
    first, second = _two_records_one_altered(h)
    _sql(h, "update record set created_at = 'garbage', tracks = 'x' where id = :r", r=first)
    problems = _verify(h).problems
    found = sorted(p.detail for p in problems if p.record_id == first)
    assert {p.kind for p in problems if p.record_id == first} == {"unreadable"}
    assert len(found) == 2, found
    assert found[0].startswith("record row: created_at 'garbage'")
    assert found[1].startswith("record row: tracks 'x'")
    assert any(p.record_id == second and p.kind == "altered" for p in problems)


def test_a_deadline_row_that_cannot_be_read_is_a_finding(sqlite_h: Harness) -> None:
    h = sqlite_h
    first, second = _two_records_one_altered(h)
    _sql(
        h,
        "update deadline set due_at = 'garbage' where record_id = :r and name = 'written_explanation'",
        r=first,
    )
    _sql(h, "update deadline set basis = 'not json' where record_id = :r and name = 'retention'", r=first)
    problems = _verify(h).problems
    found = sorted(p.detail for p in problems if p.record_id == first)
    assert len(found) == 2 and all(p.kind == "unreadable" for p in problems if p.record_id == first)
    assert "retention" in found[0] and "basis" in found[0]
    assert "written_explanation" in found[1] and "due_at" in found[1]
    assert any(p.record_id == second and p.kind == "altered" for p in problems)


def test_rows_of_the_wrong_shape_in_the_other_tables_are_findings_on_both_backends(h: Harness) -> None:
    first, second = _two_records_one_altered(h)
    _sql(h, "update record set tracks = '[1, 2]', data = '5' where id = :r", r=first)
    _sql(h, "update deadline set basis = '[1]' where record_id = :r and name = 'retention'", r=first)
    problems = _verify(h).problems
    found = [p for p in problems if p.record_id == first]
    assert {p.kind for p in found} == {"projection"}, found
    assert any("tracks" in p.detail for p in found) and any("retention" in p.detail for p in found)
    assert any(p.record_id == second and p.kind == "altered" for p in problems)


def test_the_command_line_reports_a_malformed_row_with_exit_1_not_70(h: Harness, database_url: str) -> None:
    first, second = _two_records_one_altered(h)
    _sql(h, "update record_event set payload = :v where record_id = :r and seq = 1", v="[1]", r=first)
    h.engine.close()
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    verified = cli.shell("audit", "verify")
    assert verified.code == 1, verified.stderr
    assert f"{first}: unreadable: row 1: payload" in verified.stderr
    assert f"{second}: altered: row 4" in verified.stderr
    assert "internal error" not in verified.stderr
    replayed = cli.shell("audit", "replay")
    assert replayed.code == 1, replayed.stderr
    assert f"{first}: unreadable: row 1: payload" in replayed.stderr
    one = cli.shell("audit", "replay", first)
    assert one.code == 1 and "unreadable" in one.stderr, one.stderr
