"""What ``record show`` and ``record fire`` print: Chinese labels first with the code beside —
field names, enum values as the mails show them, deadline statuses, parallel tracks — and a payload
with several problems refused once, naming every field."""

from __future__ import annotations

import pytest
from support.cli import RECORDER, VERIFIER, Cli, one_line_error, submit

START = "2026-05-11T09:00"


@pytest.fixture
def drill(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def test_show_labels_fields_values_and_deadline_status_in_chinese_with_the_code(drill: Cli) -> None:
    record_id = submit(drill, domain="procurement", severity="general")
    shown = drill("record", "show", record_id).ok().stdout
    assert "重点领域 (domain)" in shown
    assert "政府采购 (procurement)" in shown
    assert "一般 (general)" in shown
    assert "失信程度 (severity)" in shown
    assert "进行中 (active)" in shown
    assert "domain  " not in shown


def test_fire_prints_the_tracks_in_chinese_with_their_codes(drill: Cli) -> None:
    record_id = submit(drill)
    drill("record", "fire", record_id, "accept", *VERIFIER).ok()
    line = drill("record", "fire", record_id, "confirm", *VERIFIER, "-m", "核查属实").ok().stdout.strip()
    assert line.startswith(f"{record_id}  已记录 (recorded)")
    assert "公示 publication: " in line or "publication: " in line
    assert "(pending_decision)" in line
    assert "publication:pending_decision" not in line


def test_a_payload_missing_several_fields_names_them_all_at_once(drill: Cli) -> None:
    outcome = drill(
        "record", "submit", "-d", "national", *RECORDER, "-s", "subject_kind=department", "-s", "severity=bad"
    )
    line = one_line_error(outcome, "subject_name", "facts", "finding_date", "domain", "severity", "'bad'")
    assert outcome.code == 7
    assert "处问题 (problems)" in line


def test_a_single_problem_reads_as_before(drill: Cli) -> None:
    outcome = drill(
        "record", "submit", "-d", "national", *RECORDER, "-s", "subject_kind=department", "-s", "x=1"
    )
    one_line_error(outcome, "'x'", "unknown field")
